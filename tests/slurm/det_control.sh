#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Controlling a det submit experiment through the master's slurm resource
# manager: pause holds the array (pending tasks JobHeldUser, running ones
# requeued and held, trials checkpointed), activate releases it and the
# trials resume, and an scancel of the array by the user cancels the
# experiment.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_master
tap_plan 8

submit_slow 30
for _ in $(seq 100); do
	[ "$(array_running)" = 2 ] && break
	sleep 0.1
done
# Pause once both running trials have a checkpoint.
wait_value "/experiments/$id/trials" '[.trials[] | select(.latest_checkpoint != null)] | length' 2 20
det experiment pause "$id" >/dev/null
check "det experiment pause" test $? = 0
# Pending tasks read JobHeldUser, requeued ones "job requeued in held state".
held=
for _ in $(seq 100); do
	held=$(squeue -h -r -j "$job" -o '%t %r' 2>/dev/null | sed 's/ .*[Hh]eld.*/ held/' | sort -u)
	[ "$held" = "PD held" ] && break
	sleep 0.1
done
check_eq "every task is pending and held (running ones requeued)" "PD held" "$held"
check "describe shows the Slurm reason" grep -q 'PENDING  *JobHeldUser' \
	<<<"$(det experiment describe "$id")"
det_api GET "/experiments/$id/trials" >/dev/null
check_eq "the two running trials are paused with a checkpoint" 2 \
	"$(det_body '[.trials[] | select(.state == "PAUSED" and .latest_checkpoint != null)] | length')"
paused=$(det_body '[.trials[] | select(.state == "PAUSED") | .id]')
sum_paused="[.trials[] | select(.id as \$i | $paused | index(\$i)) | .steps_completed] | add"
steps=$(det_body "$sum_paused")
det experiment activate "$id" >/dev/null
for _ in $(seq 100); do
	[ "$(array_running)" -gt 0 ] && break
	sleep 0.1
done
check "det experiment activate: tasks run again" test "$(array_running)" -gt 0
now=$steps
for _ in $(seq 300); do
	det_api GET "/experiments/$id/trials" >/dev/null
	now=$(det_body "$sum_paused")
	[ "$now" -gt "$steps" ] && break
	sleep 0.1
done
check "the paused trials resume after activate ($steps → $now steps)" test "$now" -gt "$steps"

scancel "$job"
check "scancel of the array: the experiment is canceled" wait_exp_state "$id" CANCELED 30
check "nothing of it is left in squeue" wait_job_gone "$job" 20
tap_done
