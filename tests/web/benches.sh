#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: the web UI's benches run and print what they promise, at small sizes
# (the timings are not checked): bench/exp_list_100k.sh prints p50, p99 and
# the ratio to /health for every sort and the name searches;
# bench/webui_idle.sh finds the browser's renderer processes, prints CPU and
# bytes/s of the idle login, experiment and trial pages, and the trial
# page's time to charts drawn (the page's data-drawn mark). The idle part
# skips without chromium or node/npm.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$(pwd)}
. "$srcdir/tests/integration/master-lib.sh"
export top_srcdir=$srcdir top_builddir=$builddir

BENCH_EXPERIMENTS=300 BENCH_REQUESTS=3 "$srcdir/bench/exp_list_100k.sh" >"$work/list.out" 2>&1
ok $? "bench/exp_list_100k.sh exits 0"
eq "it lists every experiment it seeded" 1 \
	"$(grep -c '^experiments in the store: 300 (listed: 300)' "$work/list.out")"
num='[0-9]+\.[0-9]+'
eq "it prints p50, p99 and the ratio for /health, 9 sorts and 2 searches" 12 \
	"$(grep -Ec "^GET .* +$num +$num +$num\$" "$work/list.out")"
for q in sort=id\&order=desc sort=name sort=state sort=created_at sort=progress sort=ended_at \
	sort=owner sort=trials search=exp-4242; do
	eq "... including $q" 1 "$(grep -Fc "limit=50&$q " "$work/list.out")"
done
[ "$tap_failed" = 0 ] || sed 's/^/# /' "$work/list.out"

. "$srcdir/tests/web/playwright.sh"
if web_playwright "$srcdir" "$builddir"; then
	BENCH_ROWS=5000 BENCH_IDLE_S=3 BENCH_OPENS=1 "$srcdir/bench/webui_idle.sh" >"$work/idle.out" 2>&1
	ok $? "bench/webui_idle.sh exits 0"
	eq "it measures three idle pages" 3 "$(grep -Ec "^    cpu +$num % of a core" "$work/idle.out")"
	eq "... and their bytes per second" 3 "$(grep -Ec "^    received +$num B/s" "$work/idle.out")"
	eq "... in the browser's renderer processes (found in /proc)" 3 \
		"$(grep -Ec '^    renderer processes: [1-9]' "$work/idle.out")"
	eq "it times the trial page until its charts are drawn" 1 \
		"$(grep -Ec 'charts drawn \(1 opens\): median [1-9][0-9]* ms' "$work/idle.out")"
	[ "$tap_failed" = 0 ] || sed 's/^/# /' "$work/idle.out"
else
	ok 0 "# SKIP the idle-page bench: $web_why"
fi
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
