#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench-slurm-rpc: how often det-master asks slurmctld about its jobs. On the
# 4-node test cluster (tests/slurm/cluster.sh, root needed), one experiment of
# N near-instant trials (entrypoint `true`, 16 at once) runs twice in one go:
#   events   the master as shipped: the plugin's reports first, one batched
#            slurm_load_jobs per poll interval as the safety net;
#   per-task the same master plus one slurm_load_job per unfinished trial per
#            interval (the hidden slurm.baseline_per_task_polling key): what a
#            per-job poller (submitit, a loop of squeue -j) costs.
# For each it counts slurmctld's RPCs from sdiag (before/after, by message
# type; the job queries are REQUEST_JOB_INFO and REQUEST_JOB_INFO_SINGLE)
# and the master's own det_slurm_rpcs_total, and prints job queries per
# trial-minute. A trial-minute is a minute of a trial being watched, from the
# experiment's creation until that trial ended (what a per-job poller polls).
# Target for the events master: <= 0.05.
#
#   make bench-slurm-rpc                      (from the build tree)
#   BENCH_TRIALS=1000 BENCH_POLL_MS=1000 bench/slurm_rpc.sh
set -u
bench_dir=$(cd "$(dirname "$0")" && pwd)
. "$bench_dir/../tests/slurm/lib.sh"
trials=${BENCH_TRIALS:-1000}
poll_ms=${BENCH_POLL_MS:-1000}
slots=16

[ "$(id -u)" = 0 ] || { echo "bench-slurm-rpc: needs root (a Slurm cluster on this machine)" >&2; exit 77; }
for f in master/det-master cli/det launcher/det-launch slurm-plugin/.libs/job_submit_det.so \
	slurm-plugin/.libs/spank_det.so; do
	[ -e "$top_builddir/$f" ] || { echo "bench-slurm-rpc: $f not built" >&2; exit 77; }
done

slurm_test_dir
printf '%s\n' PoolPartition=default:gpu PoolPartition=cpu-pool:cpu:cpu \
	"MaxArrayThrottle=$slots" Requeue=yes >"$test_dir/det.conf"
export DET_CONF_FILE=$test_dir/det.conf
# shellcheck disable=SC2034 # read by lib.sh
det_master_poll_ms=$poll_ms
slurm_start_with_master >/dev/null || exit 1
mkdir -p "$test_dir/model"
echo "the trial is the entrypoint itself" >"$test_dir/model/README"
printf '%s\n' "name: bench-slurm-rpc" 'entrypoint: "true"' "hyperparameters:" \
	"  x: {type: double, minval: 0, maxval: 1}" "searcher:" "  name: random" "  metric: x" \
	"  max_trials: $trials" "  max_concurrent_trials: $slots" "  max_length: {batches: 1}" \
	"resources: {resource_pool: cpu-pool}" "max_restarts: 0" >"$test_dir/exp.yaml"

# sdiag's RPC counts by message type, as "TYPE COUNT" lines.
rpc_counts() {
	sdiag | awk '/statistics by message type/ {on = 1; next} /statistics by user/ {on = 0}
		on && /count:/ {for (i = 1; i <= NF; i++) if ($i ~ /^count:/) {sub("count:", "", $i); print $1, $i}}'
}

# The master's det_slurm_rpcs_total, as "OP COUNT" lines.
master_counts() {
	curl -s "$det_master_url/metrics" |
		sed -n 's/^det_slurm_rpcs_total{op="\([a-z_]*\)"} \([0-9]*\)$/\1 \2/p'
}

# delta BEFORE AFTER: "NAME COUNT" lines of what grew.
delta() {
	awk 'NR == FNR {b[$1] = $2; next} $2 - b[$1] > 0 {print $1, $2 - b[$1]}' "$1" "$2"
}

# run NAME: one experiment; prints its line of the table.
run() {
	local name=$1 id t0 created queries mins per_min n
	rpc_counts >"$test_dir/$name.sdiag0"
	master_counts >"$test_dir/$name.master0"
	t0=$(date +%s.%N)
	id=$(det -o json experiment create "$test_dir/exp.yaml" "$test_dir/model" | jq -r .id)
	[ -n "$id" ] && [ "$id" != null ] || { echo "bench-slurm-rpc: no experiment" >&2; exit 1; }
	until [ "$(det_api GET "/experiments/$id" && det_body .experiment.state)" = 200COMPLETED ]; do
		sleep 0.5
	done
	rpc_counts >"$test_dir/$name.sdiag1"
	master_counts >"$test_dir/$name.master1"
	delta "$test_dir/$name.sdiag0" "$test_dir/$name.sdiag1" >"$test_dir/$name.sdiag"
	delta "$test_dir/$name.master0" "$test_dir/$name.master1" >"$test_dir/$name.master"
	queries=$(awk '$1 == "REQUEST_JOB_INFO" || $1 == "REQUEST_JOB_INFO_SINGLE" {n += $2} END {print n + 0}' \
		"$test_dir/$name.sdiag")
	det_api GET "/experiments/$id" >/dev/null
	created=$(det_body '.experiment.created_at // empty')
	det_api GET "/experiments/$id/trials?limit=10000" >/dev/null
	n=$(det_body '.trials | length')
	mins=$(jq --argjson c "${created:-$t0}" \
		'[.trials[] | select(.ended_at != null) | .ended_at - $c | select(. > 0)] | add / 60' \
		<"$test_dir/body")
	per_min=$(echo "$queries / $mins" | bc -l)
	printf '%-9s %7d %8.1f %10.1f %12d %14.4f\n' "$name" "$n" \
		"$(echo "$(date +%s.%N) - $t0" | bc -l)" "$mins" "$queries" "$per_min"
	echo "$per_min" >"$test_dir/$name.per_min"
}

printf '%-9s %7s %8s %10s %12s %14s\n' master trials wall_s trial_min job_queries per_trial_min
run events
# shellcheck disable=SC2034 # read by lib.sh
det_master_slurm_yaml="  baseline_per_task_polling: true"
restart_det_master >/dev/null || { echo "bench-slurm-rpc: the baseline master did not start" >&2; exit 1; }
run per-task
for name in events per-task; do
	echo "# $name: slurmctld RPCs by message type (sdiag): $(tr '\n' ' ' <"$test_dir/$name.sdiag")"
	echo "# $name: the master's det_slurm_rpcs_total: $(tr '\n' ' ' <"$test_dir/$name.master")"
done
ev=$(cat "$test_dir/events.per_min")
pt=$(cat "$test_dir/per-task.per_min")
printf 'events: %.4f job queries per trial-minute (target <= 0.05), per-task polling: %.4f (%.0fx)\n' \
	"$ev" "$pt" "$(echo "$pt / $ev" | bc -l)"
echo "# $trials trials of 'true', $slots at once, 4 nodes, slurm.poll_ms $poll_ms"
