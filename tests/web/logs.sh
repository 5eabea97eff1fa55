#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: the trial page's logs in a real browser (tests/web/logs.mjs, Debian's
# chromium driven by playwright-core) against a real det-master: a finished
# trial given 6,000 more lines from 2 ranks on both streams (copied in with
# sqlite3 while the master is stopped, so the page opens at the last 1,000 and
# the oldest line is 5,000 lines back). Timestamps, the rank and stream
# filters, search over all lines after "Load all earlier lines", and the
# download link's file. Skips when chromium or node/npm are missing.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/web/web-lib.sh"
need_sqlite3

web_start_master
finished_trial logs-web 2
check "the experiment completes" test $? = 0
db=$work/state/master.db
sqlite3 "$db" "
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
	INSERT INTO logs(trial_id, rank, stream, ts, line)
	SELECT $t, i % 2, CASE WHEN i % 3 = 0 THEN 'stderr' ELSE 'stdout' END,
	       printf('2026-01-01T%02d:%02d:%02dZ', i / 3600, i / 60 % 60, i % 60),
	       CASE WHEN i = 1 THEN 'the Oldest Needle is here' ELSE printf('step %d: loss=%f', i, 1.0 / i) END
	FROM n;"
count() { sqlite3 "$db" "SELECT count(*) FROM logs WHERE trial_id = $t${1:+ AND $1}"; }
total=$(count)
check "the trial has more than 5,000 lines" test "$total" -gt 5000
web_start_master

BASE_URL=http://127.0.0.1:$port PW_MODULES=$mods CHROMIUM=$chromium \
	PROFILE_DIR=$work/chromium-profile ARTIFACTS=$artifacts TRIAL_ID=$t ADMIN_PW=$pw \
	TOTAL=$total RANK1=$(count "rank = 1") STDERR=$(count "stream = 'stderr'") \
	RANK1_STDERR=$(count "rank = 1 AND stream = 'stderr'") \
	web_node_tap 300 "$srcdir/tests/web/logs.mjs" "$work"
stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
