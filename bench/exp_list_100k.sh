#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench-exp-list-100k: GET /experiments?limit=50 with 100,000 experiments in
# a real SQLite store, sorted by each sortable column (both orders of id) and
# with a name search, against GET /health (the master's cheapest answer) in
# the same run. One client, requests one after another on one connection;
# prints the median and p99 of each and its ratio to the baseline's median.
# The store is seeded by copying the row of one experiment made through the
# API, with names, states, progress and times varied so that each sort has
# work to do. It prints; it does not fail on timing.
#
#   make bench-exp-list-100k                  (from the build tree)
#   BENCH_EXPERIMENTS=100000 BENCH_REQUESTS=50 bench/exp_list_100k.sh
set -u
bench_dir=$(cd "$(dirname "$0")" && pwd)
export top_srcdir=${top_srcdir:-$bench_dir/..}
export top_builddir=${top_builddir:-$(pwd)}
count=${BENCH_EXPERIMENTS:-100000}
requests=${BENCH_REQUESTS:-50}
. "$top_srcdir/tests/integration/master-lib.sh" >/dev/null

start_master
printf 'name: b\nentrypoint: x\nsearcher: {name: single, metric: l, max_length: {batches: 1}}\n' \
	>"$work/c.yaml"
create_exp "$work/c.yaml" false >/dev/null
stop_master
cols=$(sqlite3 "$work/state/master.db" "SELECT group_concat(name, ',') FROM pragma_table_info('experiments')
	WHERE name NOT IN ('id', 'name', 'state', 'progress', 'created_at', 'ended_at', 'description')")
sqlite3 "$work/state/master.db" "
	WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < $count)
	INSERT INTO experiments(id, name, state, progress, created_at, ended_at, description, $cols)
	SELECT i, 'exp-' || ((i * 7919) % $count) || '-' || substr('abcdefghij', i % 10 + 1, 3),
		CASE i % 4 WHEN 0 THEN 'COMPLETED' WHEN 1 THEN 'CANCELED' WHEN 2 THEN 'ERROR' ELSE 'PAUSED' END,
		(i % 101) / 100.0, 1700000000 + (i * 104729) % $count,
		CASE i % 4 WHEN 3 THEN NULL ELSE 1700100000 + i END, 'bench experiment ' || i, $cols
	FROM n, (SELECT $cols FROM experiments WHERE id = 1);" ||
	{ echo "bench: seeding the store failed" >&2; exit 1; }
start_master
for _ in $(seq 600); do
	[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$work/m.sock" \
		'http://localhost/api/v1/experiments?limit=1')" = 200 ] && break
	sleep 0.1
done
total=$(curl -s --unix-socket "$work/m.sock" 'http://localhost/api/v1/experiments?limit=1&archived=1' |
	jq '.pagination.total // .total // empty')

times() { # PATH: $requests GETs on one connection; prints "median p99" in ms
	local i
	for i in $(seq "$requests"); do
		printf 'url = "http://localhost%s"\noutput = "/dev/null"\n' "$1"
	done >"$work/urls"
	curl -s --unix-socket "$work/m.sock" -w '%{time_total}\n' -K "$work/urls" | sort -n |
		awk '{v[NR] = $1 * 1000} END {
			printf "%.2f %.2f\n", v[int((NR + 1) / 2)], v[int(NR * 0.99 > 1 ? NR * 0.99 : 1)] }'
}
read -r h50 h99 < <(times /health)
echo "experiments in the store: $count (listed: ${total:-?}), $requests requests each, one client"
printf '%-58s %9s %9s %7s\n' "request" "p50 ms" "p99 ms" "x health"
printf '%-58s %9s %9s %7s\n' "GET /health (baseline)" "$h50" "$h99" "1.0"
queries="sort=id&order=desc sort=id&order=asc sort=name sort=state sort=created_at sort=progress"
queries="$queries sort=ended_at sort=owner sort=trials search=exp-4242 search=no-such-name"
for q in $queries; do
	p=/api/v1/experiments?limit=50\&$q
	read -r l50 l99 < <(times "$p")
	printf '%-58s %9s %9s %7.1f\n' "GET ${p#/api/v1}" "$l50" "$l99" \
		"$(awk -v a="$l50" -v b="$h50" 'BEGIN { print (b > 0 ? a / b : 0) }')"
done
stop_master
