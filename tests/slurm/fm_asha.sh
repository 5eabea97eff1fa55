#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The whole story on the test cluster: a user runs `det submit` on
# examples/fashion-mnist/asha.yaml as it ships, squeue shows the det-e<ID>
# array, and during the search one running trial loses its node (set DOWN)
# and another is preempted (a job of partition urgent takes its node). Both
# tasks go back to the queue, claim the same trials and resume them; the
# search completes as it would have without faults: all 16 trials end at
# ASHA rungs, no restart is spent, and the best model is good.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
	skip_all "dataset-fashion-mnist is not installed"
export DET_PREEMPT_PARTITION=urgent
slurm_start_with_master
tap_plan 9
export PATH=$top_builddir/examples/fashion-mnist:$PATH
top_srcdir=$(cd "$slurm_tests_dir/../.." && pwd)

mkdir -p "$test_dir/fm"
cp "$top_srcdir/examples/fashion-mnist/README.md" "$test_dir/fm/"
# One task per node, so that a fault hits one trial.
det submit "$top_srcdir/examples/fashion-mnist/asha.yaml" "$test_dir/fm" -- --exclusive \
	-o "$test_dir/fm-%A_%a.out" >"$test_dir/submit.out" 2>&1
id=$(sed -n 's/^Created experiment \([0-9]*\)$/\1/p' "$test_dir/submit.out")
job=$(sed -n 's/^Submitted Slurm array job \([0-9]*\)$/\1/p' "$test_dir/submit.out")
check "det submit prints the experiment and the array job" test -n "$id" -a -n "$job"
check_eq "squeue shows the det job" "det-e$id" "$(squeue -h -o %j -j "$job" | sort -u)"

trials() {
	det_api GET "/experiments/$id/trials" >/dev/null && jq -c '.trials' <"$test_dir/body"
}
# running_task [EXCEPT]: the array task of a trial that is past its first
# validation (so it has a checkpoint) and still running, other than EXCEPT.
running_task() {
	local deadline=$((SECONDS + 120)) t
	while [ "$SECONDS" -lt "$deadline" ]; do
		t=$(trials | jq -r --arg x "${1:--1}" '[.[] | select(.state == "ACTIVE"
			and .steps_completed >= 250 and .steps_completed < 4000
			and (.array_task | tostring) != $x)] | .[0].array_task // empty')
		[ -n "$t" ] && [ "$(squeue -h -j "${job}_$t" -o %T)" = RUNNING ] && {
			echo "$t"
			return 0
		}
		sleep 0.5
	done
	return 1
}

# ended_unfaulted TASK: true when TASK ended by itself before the fault reached it
# (a fast trial finishes between the pick and the fault: pick another one).
ended_unfaulted() {
	case "$(job_field "${job}_$1" JobState)" in
	COMPLETED | FAILED | CANCELLED) [ "$(job_field "${job}_$1" Restarts)" = 0 ] ;;
	*) return 1 ;;
	esac
}

# Bounds are generous: a loaded machine (both cores busy) slows slurmctld's requeue.
for _ in 1 2 3 4 5; do
	t_down=$(running_task)
	node_down=$(squeue -h -j "${job}_${t_down:-0}" -o %N)
	[ -n "$node_down" ] || continue
	scontrol update NodeName="$node_down" State=DOWN Reason=det-test
	for _ in $(seq 600); do
		[ "$(squeue -h -j "${job}_$t_down" -o %T 2>/dev/null)" = PENDING ] && break
		ended_unfaulted "$t_down" && break
		sleep 0.2
	done
	scontrol update NodeName="$node_down" State=RESUME 2>/dev/null
	ended_unfaulted "$t_down" || break
	echo "# task $t_down ended before its node failed: another one"
done
check "a node failure sent task ${t_down:-?} back to the queue" \
	test "$(job_field "${job}_${t_down:-0}" Restarts)" -ge 1

for _ in 1 2 3 4 5; do
	t_pre=$(running_task "$t_down")
	node_pre=$(squeue -h -j "${job}_${t_pre:-0}" -o %N)
	[ -n "$node_pre" ] || continue
	sbatch --parsable -p urgent -w "$node_pre" --exclusive -o /dev/null --wrap 'sleep 2' >/dev/null
	for _ in $(seq 600); do
		[ "$(job_field "${job}_${t_pre:-0}" Restarts)" -ge 1 ] 2>/dev/null && break
		ended_unfaulted "$t_pre" && break
		sleep 0.2
	done
	ended_unfaulted "$t_pre" || break
	echo "# task $t_pre ended before the preemption reached it: another one"
done
check "a preemption sent task ${t_pre:-?} back to the queue" \
	test "$(job_field "${job}_${t_pre:-0}" Restarts)" -ge 1

check "the search completes" wait_exp_state "$id" COMPLETED 400
t=$(trials)
check_eq "all 16 trials completed" 16 "$(jq '[.[] | select(.state == "COMPLETED")] | length' <<<"$t")"
check_eq "every trial ended at a rung" "" \
	"$(jq -r '.[] | .steps_completed as $s | select([250, 1000, 4000] | index($s) | not) | $s' \
		<<<"$t" | tr '\n' ' ')"
check_eq "the faults spent no restart" 0 "$(jq '[.[].restarts] | add' <<<"$t")"
best=$(jq -r 'min_by(.best_metric) | .id' <<<"$t")
det_api GET "/trials/$best/metrics?group=validation" >/dev/null
acc=$(jq -r '[.metrics[].metrics.validation_accuracy] | max' <"$test_dir/body")
check "the best trial's validation accuracy is over 0.8 ($acc)" \
	awk -v a="$acc" 'BEGIN { exit !(a > 0.8) }'
tap_done
