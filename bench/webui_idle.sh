#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench-webui, in the browser: what an open page costs while nobody touches
# it, and how long the trial page takes to draw a 100,000-row trial. A real
# det-master holds a finished experiment whose trial has 100,000 metric rows;
# headless Chromium (bench/webui_idle.mjs) opens the experiment page and the
# trial page and leaves each idle for BENCH_IDLE_S seconds (60), measuring
# the CPU of its renderer processes (/proc/PID/stat utime + stime) as % of a
# core and the bytes it received per second (CDP Network events), against the
# login page left idle the same way in the same run (a page that polls
# nothing); then opens the trial page BENCH_OPENS times (5), timing navigation
# start to charts drawn. Prints the targets (idle <= 1 % of a core and
# <= 5 KB/s; drawn <= 1 s); it does not fail on timing. Needs chromium,
# node and playwright-core like tests/web/ (skips without them).
set -u
bench_dir=$(cd "$(dirname "$0")" && pwd)
export top_srcdir=${top_srcdir:-$bench_dir/..}
export top_builddir=${top_builddir:-$(pwd)}
rows=${BENCH_ROWS:-100000}
. "$top_srcdir/tests/web/playwright.sh"
if ! web_playwright "$top_srcdir" "$top_builddir"; then
	echo "bench-webui idle pages: skipped ($web_why)"
	exit 0
fi
. "$top_srcdir/tests/integration/master-lib.sh" >/dev/null

start_master
finished_trial idle 3 || { echo "bench: the experiment did not complete" >&2; exit 1; }
insert_metrics "$t" "$rows"
sqlite3 "$work/state/master.db" "UPDATE trials SET steps_completed = $rows WHERE id = $t"
start_master --webui-dir "$top_srcdir/webui"
BASE_URL=http://127.0.0.1:$port PW_MODULES=$mods CHROMIUM=$chromium \
	PROFILE_DIR=$work/chromium-profile EXP_ID=$e TRIAL_ID=$t ROWS=$rows \
	ADMIN_PW=$(cat "$work/state/admin-password") \
	timeout 900 node "$bench_dir/webui_idle.mjs"
rc=$?
stop_master
exit $rc
