#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Slurm's word on how an array task ended reaches its trial (det-master
# --rm slurm, experiments submitted with det submit):
#   - scancel of one array task ends that trial only, as det trial kill would
#     (CANCELED, end_reason "CANCELLED by scancel"); the experiment goes on
#     with its other trials and completes;
#   - a task that reaches its time limit ends its trial in ERROR with
#     end_reason TIMEOUT (not restarted: Slurm said the job is over).
# (scancel of the whole array cancels the experiment: tests/slurm/det_control.sh.)
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_master
tap_plan 7

trial_model

# config NAME STEPS SEARCHER-LINES: an experiment of the test trial.
config() {
	cat <<-YAML
		name: $1
		entrypoint: python3 trial.py
		hyperparameters:
		  step_seconds: 0.2
		  case: {type: categorical, vals: [a, b, c]}
		searcher:
		  name: $3
		  metric: validation_loss
		  max_concurrent_trials: 3
		  max_length: {batches: $2}
		max_restarts: 3
	YAML
}

# submit CONFIG SBATCH-ARGS...: det submit; sets $id and $job.
submit() {
	local config=$1
	shift
	submit_exp "$config" "$test_dir/model" "$@"
}

# B first: a single trial longer than its one-minute time limit.
config timeout 100000 single >"$test_dir/b.yaml"
submit "$test_dir/b.yaml" --time=1 --exclusive
id_b=$id
job_b=$job

# A: three trials, one per node; the task of case b is canceled once all run.
config cancel 60 grid >"$test_dir/a.yaml"
submit "$test_dir/a.yaml" --exclusive
for _ in $(seq 450); do
	[ "$(trials_json "$id" | jq '[.[] | select(.steps_completed >= 5)] | length')" = 3 ] && break
	sleep 0.2
done
task_b=$(trials_json "$id" | jq -r '.[] | select(.hparams.case == "b") | .trial_index')
scancel "${job}_$task_b"
check "cancel: the experiment goes on and completes" wait_exp_state "$id" COMPLETED 150
t=$(trials_json "$id")
check_eq "cancel: the canceled task's trial ends CANCELED, CANCELLED by scancel" \
	"CANCELED|CANCELLED by scancel" \
	"$(jq -r '.[] | select(.hparams.case == "b") | "\(.state)|\(.end_reason)"' <<<"$t")"
check_eq "cancel: the other trials complete all 60 steps" "COMPLETED 60,COMPLETED 60" \
	"$(jq -r '[.[] | select(.hparams.case != "b") | "\(.state) \(.steps_completed)"] | join(",")' <<<"$t")"
check_eq "cancel: the searcher heard of three ended trials" 3 "$(jq length <<<"$t")"

check "timeout: the experiment ends in ERROR" wait_exp_state "$id_b" ERROR 240
t=$(trials_json "$id_b")
check_eq "timeout: its trial ends in ERROR with reason TIMEOUT" "ERROR|TIMEOUT" \
	"$(jq -r '.[0] | "\(.state)|\(.end_reason)"' <<<"$t")"
state=
for _ in $(seq 300); do # COMPLETING until its processes are gone
	state=$(job_field "${job_b}_0" JobState)
	[ "$state" = COMPLETING ] || break
	sleep 0.2
done
check_eq "timeout: Slurm's state of the task" TIMEOUT "$state"
[ "$tap_failed" = 0 ] || diag "$(tail -n 20 "$test_dir/master.err")"
tap_done
