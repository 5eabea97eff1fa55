#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A requeue that slurmctld refuses is not lost: on a cluster whose det.conf
# says Requeue=no, a trial whose det-launch dies (no exit report, restarts
# left) makes the master ask Slurm to requeue its task; slurmctld refuses
# (requeue disabled for the job), and the trial ends in ERROR with reason
# REQUEUE_REFUSED instead of staying ACTIVE for a task that never comes back;
# the experiment's Slurm view and `det experiment describe` show the refusal.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_policy PoolPartition=default:gpu MaxSlots=4 MaxSlotsPerNode=2 Requeue=no
tap_plan 6

# The entrypoint kills its parent, det-launch: the task ends without an exit report.
cat >"$test_dir/lost.yaml" <<'YAML'
name: requeue-refused
entrypoint: kill -KILL $PPID; sleep 30
hyperparameters: {x: 0.1}
searcher: {name: single, metric: loss, max_length: {batches: 10}}
max_restarts: 2
YAML
id=$(det -o json experiment create "$test_dir/lost.yaml" "$(tiny_model)" | jq -r .id)
check "experiment created" test -n "$id"
state=
for _ in $(seq 300); do
	det_api GET "/experiments/$id/trials" >/dev/null
	state=$(det_body '[.trials[] | "\(.state)/\(.end_reason // "")"] | join(" ")')
	case $state in ERROR/*) break ;; esac
	sleep 0.2
done
check_eq "the trial ends in ERROR, not ACTIVE" ERROR/REQUEUE_REFUSED "$state"
det_api GET "/experiments/$id/slurm" >/dev/null
job=$(det_body .job_id)
job=${job%+0}
check_eq "its array does not requeue (det.conf Requeue=no)" 0 "$(job_field "$job" Requeue)"
check_eq "the Slurm view records the refused requeue of task 0" "requeue 0" \
	"$(det_body '.refused[0] | "\(.operation) \(.array_task)"')"
check "with slurmctld's reason" grep -qi "disabled" <<<"$(det_body '.refused[0].error')"
check "det experiment describe shows it" grep -Eq "^requeue +0 +requeue [0-9_]+: " \
	<<<"$(det experiment describe "$id")"
tap_done
