#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench-exp-list: what `GET /experiments` (a page of 100) costs with 20,000
# experiments in the store while 4 clients poll it, against GET /health (the
# master's cheapest answer) polled the same way in the same run. Prints the
# median and p99 of both and the list's ratio to the baseline.
#
#   make bench-exp-list                       (from the build tree)
#   BENCH_EXPERIMENTS=20000 BENCH_SECONDS=10 bench/exp_list.sh
set -u
bench_dir=$(cd "$(dirname "$0")" && pwd)
export top_srcdir=${top_srcdir:-$bench_dir/..}
export top_builddir=${top_builddir:-$(pwd)}
count=${BENCH_EXPERIMENTS:-20000}
seconds=${BENCH_SECONDS:-10}
. "$top_srcdir/tests/integration/master-lib.sh" >/dev/null

# The store: one experiment through the API, then copies of its row.
start_master
printf 'name: b\nentrypoint: x\nsearcher: {name: single, metric: l, max_length: {batches: 1}}\n' \
	>"$work/c.yaml"
copy_experiment "$work/c.yaml" "$count"
start_master

poll() { # PATH: 4 clients for $seconds s; prints "median p99" in ms
	local p=
	for c in 1 2 3 4; do
		(
			end=$((SECONDS + seconds))
			while [ $SECONDS -lt $end ]; do
				curl -s -o /dev/null -w '%{time_total}\n' --unix-socket "$work/m.sock" \
					"http://localhost$1"
			done
		) >"$work/t.$c" &
		p="$p $!"
	done
	wait $p
	sort -n "$work"/t.* | awk '{v[NR] = $1 * 1000} END {
		printf "%.1f %.1f\n", v[int((NR + 1) / 2)], v[int(NR * 0.99 > 1 ? NR * 0.99 : 1)] }'
}
read -r h50 h99 < <(poll /health)
read -r l50 l99 < <(poll "/api/v1/experiments?limit=100")
echo "experiments in the store: $count, 4 clients, ${seconds} s each"
echo "GET /health (baseline):         median ${h50} ms, p99 ${h99} ms"
echo "GET /experiments?limit=100:     median ${l50} ms, p99 ${l99} ms"
awk -v a="$l50" -v b="$h50" 'BEGIN {printf "ratio list/health (median):     %.1fx\n", a / b}'
