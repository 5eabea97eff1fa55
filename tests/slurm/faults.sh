#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault paths of det-master --rm slurm on the test cluster, with the tiny
# trial tests/slurm/trial.py (checkpoints and reports every step).
#
# Experiment A, four trials submitted with det submit, one task per node
# (--exclusive), each meeting one fault while it runs:
#   crash    the trial exits 3 at step 5: det-launch restarts it inside the
#            same allocation from its latest checkpoint
#   requeue  scontrol requeue of its task
#   down     its node set DOWN (resumed once the task is back in the queue)
#   preempt  a job in partition urgent takes its node (PreemptMode=REQUEUE)
# Every requeued task must run again, claim the same trial and resume it
# from its latest checkpoint (the SIGTERM before the kill makes the trial
# checkpoint where it stands).
#
# Experiment B: det-master killed with SIGKILL and started again, then
# slurmctld restarted, both while four trials run: the tasks keep going (no
# requeue, no restart), every metric reaches the master, the experiment
# completes.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
export DET_PREEMPT_PARTITION=urgent
slurm_start_with_master
tap_plan 25

steps=50
trial_model

# config NAME STEPS CASES...: a grid over the hyperparameter case.
config() {
	local name=$1 n=$2
	shift 2
	cat <<-YAML
		name: $name
		entrypoint: python3 trial.py
		hyperparameters:
		  step_seconds: 0.2
		  case: {type: categorical, vals: [$(
			IFS=,
			echo "$*"
		)]}
		searcher:
		  name: grid
		  metric: validation_loss
		  max_concurrent_trials: 4
		  max_length: {batches: $n}
		max_restarts: 3
	YAML
}

# submit CONFIG: det submit, one task per node; sets $id and $job.
submit() { submit_exp "$1" "$test_dir/model" --exclusive; }

# task_of EXP CASE: the array task (= trial index) running that case.
task_of() {
	trials_json "$1" | jq -r --arg c "$2" '.[] | select(.hparams.case == $c) | .trial_index'
}

# trial_of EXP CASE: that trial's id.
trial_of() {
	trials_json "$1" | jq -r --arg c "$2" '.[] | select(.hparams.case == $c) | .id'
}

# wait_all_steps EXP N SECONDS: until every trial of EXP has N steps or more.
wait_all_steps() {
	local deadline=$((SECONDS + $3))
	while [ "$SECONDS" -lt "$deadline" ]; do
		[ "$(trials_json "$1" | jq --argjson n "$2" '[.[] | select(.steps_completed >= $n)] | length')" = 4 ] &&
			return 0
		sleep 0.2
	done
	return 1
}

logs_of() {
	det_api GET "/trials/$1/logs" >/dev/null && jq -r '.logs[].line' <"$test_dir/body"
}

first() { # PATTERN TRIAL: the first number after PATTERN in the trial's logs
	logs_of "$2" | sed -n "s/.*$1 \([0-9]*\).*/\1/p" | head -n 1
}

# ---- A: crash, requeue, node DOWN, preemption -----------------------------------
config faults "$steps" crash requeue down preempt >"$test_dir/a.yaml"
submit "$test_dir/a.yaml"
check "A: det submit" test -n "$job"
wait_all_steps "$id" 8 90 || diag "A: the trials did not all reach 8 steps"
t_requeue=$(task_of "$id" requeue)
t_down=$(task_of "$id" down)
t_preempt=$(task_of "$id" preempt)
node_down=$(squeue -h -j "${job}_$t_down" -o %N)
node_preempt=$(squeue -h -j "${job}_$t_preempt" -o %N)
scontrol requeue "${job}_$t_requeue"
scontrol update NodeName="$node_down" State=DOWN Reason=det-test
urgent=$(sbatch --parsable -p urgent -w "$node_preempt" --exclusive -o /dev/null --wrap 'sleep 2')
for _ in $(seq 150); do
	[ "$(squeue -h -j "${job}_$t_down" -o %T 2>/dev/null)" = PENDING ] && break
	sleep 0.2
done
scontrol update NodeName="$node_down" State=RESUME 2>/dev/null

check "A: the experiment completes" wait_exp_state "$id" COMPLETED 150
t=$(trials_json "$id")
check_eq "A: four trials, one per task, each with all $steps steps" "4 $steps" \
	"$(jq -r '"\(length) \([.[].steps_completed] | unique | join(","))"' <<<"$t")"
tid=$(trial_of "$id" crash)
check_eq "crash: the trial restarted once" 1 "$(jq -r '.[] | select(.hparams.case == "crash") | .restarts' <<<"$t")"
check_eq "crash: inside its allocation (Slurm did not requeue it)" 0 \
	"$(job_field "${job}_$(task_of "$id" crash)" Restarts)"
check_eq "crash: resumed from the checkpoint before the crash" 4 "$(first "resumed at step" "$tid")"
for c in requeue down preempt; do
	tid=$(trial_of "$id" $c)
	from=$(first "resumed at step" "$tid")
	check "$c: Slurm ran the task again" test "$(job_field "${job}_$(task_of "$id" $c)" Restarts)" -ge 1
	check_eq "$c: a requeue is not counted as a restart" 0 \
		"$(jq -r --arg c $c '.[] | select(.hparams.case == $c) | .restarts' <<<"$t")"
	check "$c: the same trial resumed from its latest checkpoint (step ${from:-none})" \
		test "${from:-0}" -ge 8
	if [ $c != down ]; then
		check_eq "$c: SIGTERM made it checkpoint where it stood" \
			"$(first "preempted at step" "$tid")" "$from"
	fi
done
check "the urgent job ran on $node_preempt" \
	grep -q "JobId=$urgent .*JobState=COMPLETED" "$test_dir/cluster/log/jobcomp.txt"
[ "$tap_failed" = 0 ] || diag "$(tail -n 20 "$test_dir/master.err")"

# ---- B: det-master and slurmctld restarted mid-experiment -----------------------
config restarts 40 a b c d >"$test_dir/b.yaml"
submit "$test_dir/b.yaml"
check "B: det submit" test -n "$job"
wait_all_steps "$id" 5 90 || diag "B: the trials did not all reach 5 steps"
kill -KILL "$det_master_pid"
wait "$det_master_pid" 2>/dev/null
sleep 3 # the trials go on; their reports wait
check "det-master starts again on its state" start_det_master_only
check "slurmctld restarts" "$slurm_tests_dir/cluster.sh" restart-ctld "$test_dir/cluster"
check "B: the experiment completes" wait_exp_state "$id" COMPLETED 120
t=$(trials_json "$id")
check_eq "B: four trials, each with all 40 steps, none restarted" "4 40 0" \
	"$(jq -r '"\(length) \([.[].steps_completed] | unique | join(",")) \([.[].restarts] | add)"' <<<"$t")"
lost=0
for tid in $(jq -r '.[].id' <<<"$t"); do
	det_api GET "/trials/$tid/metrics?group=validation&limit=10000" >/dev/null
	n=$(jq '[.metrics[].steps_completed] | unique | length' <"$test_dir/body")
	[ "$n" = 40 ] || { lost=1; diag "trial $tid: $n validation reports"; }
done
check "B: no report lost (40 validations per trial)" test "$lost" = 0
check_eq "B: no task was requeued" 0 \
	"$(scontrol -o show job "$job" | sed -n 's/.* Restarts=\([0-9]*\) .*/\1/p' | sort -u | tr '\n' ' ' | sed 's/ $//')"
tap_done
