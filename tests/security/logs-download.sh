#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: GET /trials/{id}/logs/download against a real det-master: every line of
# the trial (6,000 lines from 2 ranks on both streams, copied in with sqlite3
# while the master is stopped, more than one page of the store) as
# "TIMESTAMP [rank] stream: line", in order, as an attachment named
# trial-ID.log; another Unix user, who may not read the experiment, gets 404.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root
need_sqlite3
make_user other || {
	echo "1..0 # SKIP useradd failed"
	exit 0
}

start_master
finished_trial logs-download 2
ok $? "experiment completes"
sqlite3 "$work/state/master.db" "
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 6000)
	INSERT INTO logs(trial_id, rank, stream, ts, line)
	SELECT $t, i % 2, CASE WHEN i % 3 = 0 THEN 'stderr' ELSE 'stdout' END,
	       '2026-01-01T00:00:00Z', printf('line %d', i) FROM n;"
total=$(sqlite3 "$work/state/master.db" "SELECT count(*) FROM logs WHERE trial_id = $t")
start_master
# The experiment goes into a workspace of root's, where the other user has no role.
sock POST /workspaces '{"name": "logs-private"}' >/dev/null
sock POST "/workspaces/$(body .workspace.id)/projects" '{"name": "p"}' >/dev/null
eq "the experiment moves to a private workspace" 200 \
	"$(sock POST "/experiments/$e/move" "{\"project\": $(body .project.id)}")"

code=$(curl -s -D "$work/hdr" -o "$work/dl" -w '%{http_code}' --unix-socket "$work/m.sock" \
	"http://localhost/api/v1/trials/$t/logs/download")
eq "the owner downloads the log" 200 "$code"
eq "every line of the trial" "$total" "$(wc -l <"$work/dl")"
check "it is an attachment named trial-$t.log" \
	grep -qi "^content-disposition: attachment; filename=\"trial-$t.log\"" "$work/hdr"
check "... of plain text" grep -qi '^content-type: text/plain' "$work/hdr"
eq "lines are TIMESTAMP [rank] stream: line" \
	"2026-01-01T00:00:00Z [1] stdout: line 1" "$(grep -m1 ' line 1$' "$work/dl")"
eq "stderr lines say so" "2026-01-01T00:00:00Z [1] stderr: line 3" "$(grep -m1 ' line 3$' "$work/dl")"
eq "in the order written" "line 6000" "$(tail -n 1 "$work/dl" | sed 's/.*: //')"
eq "every line in that format" "$total" \
	"$(grep -cE '^[0-9T:.Z+-]+ \[[0-9]+\] (stdout|stderr): ' "$work/dl")"
eq "another user gets 404" 404 "$(usock "$other" GET "/trials/$t/logs/download")"
check "... and no line of the log" sh -c "! grep -q 'line 1' '$work/body'"
eq "an unknown trial is 404" 404 "$(sock GET "/trials/999999/logs/download")"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
