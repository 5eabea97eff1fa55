#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: paging back through a trial's logs, as the web UI's trial page does
# (open at the end, load earlier lines on request), against a real
# det-master: tail=N is the last N lines in order, before=ID&limit=N the N
# before them, more_before says whether older lines exist, and following
# from next_after gets only newer lines. 2,500 lines are copied in with
# sqlite3 while the master is stopped.
set -u
. "$(dirname "$0")/master-lib.sh"
need_sqlite3

start_master
finished_trial logs 2
ok $? "experiment completes"
sqlite3 "$work/state/master.db" "
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
	INSERT INTO logs(trial_id, rank, stream, ts, line)
	SELECT $t, 0, 'stdout', '2026-01-01T00:00:00Z', printf('line %d', i) FROM n;"
total=$(sqlite3 "$work/state/master.db" "SELECT count(*) FROM logs WHERE trial_id = $t")
start_master

sock GET "/trials/$t/logs?tail=1000" >/dev/null
eq "tail=1000: the last 1000 lines" 1000 "$(body '.logs | length')"
eq "... ending with the newest" "line 2500" "$(body '.logs[-1].line')"
eq "... in order" true "$(body '[.logs[].id] == ([.logs[].id] | sort)')"
eq "... with older lines before them" true "$(body .more_before)"
first=$(body '.logs[0].id')
next=$(body .next_after)
eq "next_after is the newest line's id" "$(body '.logs[-1].id')" "$next"
sock GET "/trials/$t/logs?before=$first&limit=1000" >/dev/null
eq "before=ID: the 1000 lines before" "1000 line 1500" "$(body '"\(.logs | length) \(.logs[-1].line)"')"
eq "... all older than ID" 0 "$(body "[.logs[].id | select(. >= $first)] | length")"
first=$(body '.logs[0].id')
sock GET "/trials/$t/logs?before=$first&limit=1000" >/dev/null
eq "the oldest page holds what is left" "$((total - 2000))" "$(body '.logs | length')"
eq "... and says there is nothing older" false "$(body .more_before)"
sock GET "/trials/$t/logs?after=$next" >/dev/null
eq "following from next_after: nothing new" 0 "$(body '.logs | length')"
eq "tail and after together → 400" 400 "$(sock GET "/trials/$t/logs?tail=10&after=1")"
eq "tail and before together → 400" 400 "$(sock GET "/trials/$t/logs?tail=10&before=5")"
eq "tail over 10000 → 400" 400 "$(sock GET "/trials/$t/logs?tail=10001")"
eq "before that is not a number → 400" 400 "$(sock GET "/trials/$t/logs?before=x")"

stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
