#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A trial near its Slurm time limit checkpoints and runs on, without spending
# a restart: det-master submits its array with a one-minute limit and
# slurm.walltime_signal_seconds 10, so Slurm sends SIGUSR1 to the batch step
# (det-launch, exec'd by the batch script) 10 s (plus up to slurmctld's 30 s
# timer) before the limit; det-launch turns it into a preemption request, the
# trial checkpoints and stops, det-launch ends with 75, det-master requeues the
# task, and the next run resumes from the checkpoint. The trial needs more than
# one run's time, and max_restarts is 0: a run that timed out or failed would
# end the experiment in ERROR.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_master
tap_plan 7

trial_model
cat >"$test_dir/walltime.yaml" <<-YAML
	name: walltime
	entrypoint: python3 trial.py
	hyperparameters:
	  step_seconds: 0.5
	searcher:
	  name: single
	  metric: validation_loss
	  max_length: {batches: 100}
	max_restarts: 0
	slurm:
	  sbatch_args: [--time=1]
	  walltime_signal_seconds: 10
YAML
id=$(det -o json experiment create "$test_dir/walltime.yaml" "$test_dir/model" | jq -r .id)
check "det experiment create: the master submits" test -n "$id"
check "the experiment completes" wait_exp_state "$id" COMPLETED 240
det_api GET "/experiments/$id/trials" >/dev/null
check_eq "one trial, all 100 steps, no restart spent" "1 100 0 COMPLETED" \
	"$(det_body '"\(.trials | length) \(.trials[0].steps_completed) \(.trials[0].restarts) \(.trials[0].state)"')"
tid=$(det_body '.trials[0].id')
logs=$(det_api GET "/trials/$tid/logs" >/dev/null && det_body '.logs[].line')
pre=$(sed -n 's/.*preempted at step \([0-9]*\).*/\1/p' <<<"$logs" | head -n 1)
from=$(sed -n 's/.*resumed at step \([0-9]*\).*/\1/p' <<<"$logs" | head -n 1)
check "the walltime signal made the trial checkpoint and stop (at step ${pre:-none})" \
	test "${pre:-0}" -ge 1
check_eq "the rerun resumed where it stopped" "$pre" "${from:-none}"
job=$(sed -n "s/.*JobId=\([0-9]*\) .*Name=det-e$id .*/\1/p" "$test_dir/cluster/log/jobcomp.txt" | tail -n 1)
check "Slurm ran the task again (det-master's requeue)" \
	test "$(job_field "$job" Restarts)" -ge 1
check_eq "no run ended at the time limit" 0 "$(grep -c "Name=det-e$id JobState=TIMEOUT" "$test_dir/cluster/log/jobcomp.txt")"
[ "$tap_failed" = 0 ] || diag "$(tail -n 20 "$test_dir/master.err"; tail -n 30 "$test_dir"/task-*.log)"
tap_done
