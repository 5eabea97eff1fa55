#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench-dispatch: what det-slurm adds to running many short trials on Slurm.
# On the 4-node test cluster (tests/slurm/cluster.sh, root needed), the same
# work runs twice in one go: N array tasks of `sleep 0.2` as a raw
# `sbatch --array`, then an experiment of N trials whose entrypoint is
# `sleep 0.2`, submitted by det-master --rm slurm (each task runs det-launch:
# model definition, claim, the trial, its exit report). Both use partition
# cpu, one CPU per task, at most 16 at once (the cluster's 16 CPUs).
#
# Prints the makespans (submission until every task has left squeue, and for
# det-slurm also until the experiment is COMPLETED), their ratio (target:
# det-slurm / raw <= 1.05, median of the rounds) and det-master's CPU time
# per trial (utime+stime from /proc/PID/stat over the experiment).
#
#   make bench-dispatch [ROUNDS=5]            (from the build tree)
#   BENCH_TRIALS=200 BENCH_WORK=0.2 BENCH_ROUNDS=5 bench/dispatch.sh
# Each round runs the raw array, then the experiment; the median ratio over
# the rounds and their spread (lowest, highest) are printed last (a busy
# machine makes single rounds noisy).
set -u
bench_dir=$(cd "$(dirname "$0")" && pwd)
. "$bench_dir/../tests/slurm/lib.sh"
trials=${BENCH_TRIALS:-200}
work=${BENCH_WORK:-0.2}
rounds=${BENCH_ROUNDS:-5}
slots=16

[ "$(id -u)" = 0 ] || { echo "bench-dispatch: needs root (a Slurm cluster on this machine)" >&2; exit 77; }
for f in master/det-master cli/det launcher/det-launch slurm-plugin/.libs/job_submit_det.so; do
	[ -e "$top_builddir/$f" ] || { echo "bench-dispatch: $f not built" >&2; exit 77; }
done

slurm_test_dir
cat >"$test_dir/det.conf" <<EOF
PoolPartition=default:gpu
PoolPartition=cpu-pool:cpu:cpu
MaxArrayThrottle=$slots
Requeue=yes
EOF
export DET_CONF_FILE=$test_dir/det.conf
slurm_start_with_master >/dev/null
mkdir -p "$test_dir/model"
echo "the trial is the entrypoint itself" >"$test_dir/model/README"
cat >"$test_dir/exp.yaml" <<EOF
name: bench-dispatch
entrypoint: sleep $work
hyperparameters:
  x: {type: double, minval: 0, maxval: 1}
searcher:
  name: random
  metric: x
  max_trials: $trials
  max_concurrent_trials: $slots
  max_length: {batches: 1}
resources: {resource_pool: cpu-pool}
max_restarts: 0
EOF

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$det_master_pid/stat"; }

# gone JOB: wait until no task of JOB is in squeue.
gone() {
	while [ -n "$(squeue -h -r -j "$1" -o %i 2>/dev/null | head -n 1)" ]; do sleep 0.05; done
}

raw_round() {
	local t0 job
	t0=$(now)
	job=$(sbatch --parsable -p cpu -n1 --array=0-$((trials - 1))%$slots -o /dev/null \
		--wrap "sleep $work")
	gone "$job"
	since "$t0"
}

det_round() {
	local t0 c0 id job done_at gone_at
	c0=$(cpu_ticks)
	t0=$(now)
	id=$(det -o json experiment create "$test_dir/exp.yaml" "$test_dir/model" | jq -r .id)
	until [ "$(det_api GET "/experiments/$id" && det_body .experiment.state)" = 200COMPLETED ]; do
		sleep 0.05
	done
	done_at=$(since "$t0")
	det_api GET "/experiments/$id/slurm" >/dev/null
	job=$(det_body .job_id | sed 's/+.*//')
	gone "$job"
	gone_at=$(since "$t0")
	echo "$done_at $gone_at $((($(cpu_ticks) - c0)))"
}

hz=$(getconf CLK_TCK)
printf '%-6s %10s %14s %14s %8s %16s\n' round raw_s det_done_s det_squeue_s ratio master_cpu_ms/trial
ratios=()
for r in $(seq 1 "$rounds"); do
	raw=$(raw_round)
	read -r done_at gone_at ticks < <(det_round)
	ratio=$(echo "$gone_at / $raw" | bc -l)
	ratios+=("$ratio")
	cpu=$(echo "$ticks * 1000 / $hz / $trials" | bc -l)
	printf '%-6s %10.2f %14.2f %14.2f %8.2f %16.2f\n' "$r" "$raw" "$done_at" "$gone_at" "$ratio" "$cpu"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
lo=$(printf '%s\n' "${ratios[@]}" | sort -g | head -n 1)
hi=$(printf '%s\n' "${ratios[@]}" | sort -g | tail -n 1)
printf 'median ratio %.2f over %d rounds, spread %.2f to %.2f (target <= 1.05)\n' "$median" \
	"$rounds" "$lo" "$hi"
echo "# $trials tasks of 'sleep $work', $slots at once, 4 nodes; ratio = det_squeue_s / raw_s"
