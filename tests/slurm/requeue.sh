#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Requeue and preemption of det jobs by Slurm alone, with a real det-master
# that submits nothing (tests/slurm/master-lib.sh): three experiments of one
# trial each run as `sbatch --det-experiment=ID --array=0` jobs of
# `srun det-launch`, and each job meets one fault while its trial runs:
#   requeue  scontrol requeue
#   down     its node set DOWN (then resumed)
#   preempt  a job in partition urgent needs the node (PreemptMode=REQUEUE)
# Each task must run again as the same array task, and det-launch's second
# claim of index 0 must resume the same trial from its latest checkpoint,
# so that the experiment completes with one trial and all its steps.
# (A SIGTERM alone, after which det-launch ends with 75, is requeued by a
# det-master that watches the array, not by Slurm: tests/slurm/no_side_effects.sh.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/master-lib.sh"
slurm_require
master_require
slurm_test_dir
export HOME=$test_dir/home # det-launch's job directories
start_master || { tap_plan 1; not_ok "det-master starts"; exit 1; }
export DET_SPANK_ARGS="master=unix:$master_sock auth=none"
export DET_PREEMPT_PARTITION=urgent
slurm_start
tap_plan 17

steps=60
mkdir -p "$test_dir/out"
cat >"$test_dir/job.sh" <<EOF
#!/bin/bash
srun $launch_bin
EOF

# submit NAME SBATCH-ARGS...: an experiment and its one-task array; sets
# exp_NAME and job_NAME.
submit() {
	local name=$1 id job
	shift
	trial_config "$name" "$steps" >"$test_dir/$name.yaml"
	id=$(create_exp "$test_dir/$name.yaml")
	job=$(sbatch --parsable --det-experiment="$id" --array=0 -o "$test_dir/out/$name.out" \
		--open-mode=append "$@" "$test_dir/job.sh")
	printf -v "exp_$name" %s "$id"
	printf -v "job_$name" %s "$job"
}

submit requeue -w n2
submit down -w n3
submit preempt -w n4
check "three experiments and jobs" test -n "$job_requeue$job_down$job_preempt" -a \
	-n "$exp_requeue$exp_down$exp_preempt"

# The faults, each once its trial has checkpointed a few steps.
for name in requeue down preempt; do
	e=exp_$name
	wait_steps "${!e}" 8 60 || diag "$name: trial did not reach 8 steps"
done
scontrol requeue "${job_requeue}_0"
scontrol update NodeName=n3 State=DOWN Reason=det-test
urgent=$(sbatch --parsable -p urgent -w n4 --exclusive -o /dev/null --wrap 'sleep 2')
check "urgent job submitted" test -n "$urgent"
# The node comes back once its task left it for the queue.
deadline=$((SECONDS + 30))
while [ "$SECONDS" -lt "$deadline" ]; do
	[ "$(squeue -h -j "${job_down}_0" -o %T 2>/dev/null)" = PENDING ] && break
	sleep 0.2
done
# (ReturnToService=2 may have brought it back already)
scontrol update NodeName=n3 State=RESUME 2>/dev/null

for name in requeue down preempt; do
	e=exp_$name
	j=job_$name
	check_eq "$name: experiment completes" COMPLETED "$(wait_exp "${!e}" 120)"
	t=$(trials "${!e}")
	check_eq "$name: one trial, all $steps steps" "1 $steps" \
		"$(jq -r '"\(length) \(.[0].steps_completed)"' <<<"$t")"
	tid=$(jq -r '.[0].id' <<<"$t")
	from=$(resumed_at "$tid" | head -n 1)
	check "$name: the rerun resumed the trial from a checkpoint (step ${from:-none})" \
		test "${from:-0}" -ge 8
	check_eq "$name: Slurm ran the array task again" 1 "$(job_field "${!j}_0" Restarts)"
	if [ "$name" != down ]; then
		check_eq "$name: SIGTERM made the trial checkpoint and stop; the rerun resumed there" \
			"$(preempted_at "$tid" | head -n 1)" "$from"
	fi
	[ "$tap_failed" = 0 ] || diag "$(tail -n 30 "$test_dir/out/$name.out")"
done
check "urgent job ran" grep -q "JobId=$urgent .*JobState=COMPLETED" \
	"$test_dir/cluster/log/jobcomp.txt"
tap_done
