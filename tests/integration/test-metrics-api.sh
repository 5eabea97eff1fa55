#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: the API views the web UI polls, against a real det-master: since
# returns only newer rows and the last row id, max_points bounds each series
# while keeping its extremes, and GET answers carry an ETag that turns an
# unchanged view into 304 with no body. A trial of 5,000 metric rows is made
# by copying rows in with sqlite3 while the master is stopped. A killed
# or failed experiment's progress is the work done (not 1).
set -u
. "$(dirname "$0")/master-lib.sh"
need_sqlite3

start_master
finished_trial metrics 3
ok $? "experiment completes"

# 5,000 training rows: loss 100 + (i % 50) except one spike and one dip.
sqlite3 "$work/state/master.db" "
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
	INSERT INTO metrics(trial_id, grp, steps_completed, body, created_at)
	SELECT $t, 'training', 100 + i,
		json_object('loss', CASE i WHEN 1234 THEN 1000000 WHEN 4321 THEN -1000000
			ELSE 100 + (i % 50) END, 'acc', i * 0.0001), 1700000000 + i FROM n;"
q() { sqlite3 "$work/state/master.db" "$1"; }
rows=$(q "SELECT count(*) FROM metrics WHERE trial_id = $t")
train=$(q "SELECT count(*) FROM metrics WHERE trial_id = $t AND grp = 'training'")
span=$(q "SELECT min(steps_completed) || ' ' || max(steps_completed) FROM metrics
	WHERE trial_id = $t AND grp = 'training'")
start_master
check "master restarts on the larger store" test -n "$port"

# --- since ---
sock GET "/trials/$t/metrics?limit=10000" >/dev/null
eq "all rows without since" "$rows" "$(body '.metrics | length')"
last=$(body .last_id)
eq "last_id is the newest row's id" "$(body '.metrics[-1].id')" "$last"
mid=$(body '.metrics[-11].id')
sock GET "/trials/$t/metrics?since=$mid" >/dev/null
eq "since=ROW returns only the 10 newer rows" 10 "$(body '.metrics | length')"
eq "... all newer than ROW" 0 "$(body "[.metrics[] | select(.id <= $mid)] | length")"
eq "... and the last row id" "$last" "$(body .last_id)"
sock GET "/trials/$t/metrics?since=$last" >/dev/null
eq "since=last_id: no rows" 0 "$(body '.metrics | length')"
eq "... and last_id stays" "$last" "$(body .last_id)"
eq "since that is not a number → 400" 400 "$(sock GET "/trials/$t/metrics?since=x")"

# --- max_points ---
sock GET "/trials/$t/metrics?group=training&max_points=200" >/dev/null
eq "downsampled: one series per training metric" "acc loss" \
	"$(body '[.series[].name] | sort | join(" ")')"
eq "every series holds at most 200 points" 0 \
	"$(body '[.series[] | select((.values | length) > 200 or (.steps | length) != (.values | length))] | length')"
eq "rows counts what was read" "$train" "$(body '.series[] | select(.name == "loss") | .rows')"
eq "the spike survives" 1000000 "$(body '.series[] | select(.name == "loss") | .values | max')"
eq "the dip survives" -1000000 "$(body '.series[] | select(.name == "loss") | .values | min')"
eq "x range kept (first and last step)" "$span" \
	"$(body '.series[] | select(.name == "loss") | "\(.steps[0]) \(.steps[-1])"')"
eq "steps stay in order" true "$(body '.series[] | select(.name == "loss") | .steps == (.steps | sort)')"
eq "downsampled answer has last_id" "$last" "$(body .last_id)"
sock GET "/trials/$t/metrics?group=validation&max_points=200" >/dev/null
eq "a short series comes back whole" 3 "$(body '.series[] | select(.name == "val_loss") | .values | length')"
sock GET "/trials/$t/metrics?since=$mid&max_points=200" >/dev/null
eq "since with max_points: only newer rows" 10 "$(body '.series[] | select(.name == "loss") | .rows')"
eq "max_points below 4 → 400" 400 "$(sock GET "/trials/$t/metrics?max_points=3")"
eq "max_points above 100000 → 400" 400 "$(sock GET "/trials/$t/metrics?max_points=100001")"
full=$(curl -s --unix-socket "$work/m.sock" "http://localhost/api/v1/trials/$t/metrics?limit=10000" | wc -c)
small=$(curl -s --unix-socket "$work/m.sock" "http://localhost/api/v1/trials/$t/metrics?max_points=200" | wc -c)
check "downsampled answer is smaller than the rows ($small < $full bytes)" test "$small" -lt "$((full / 5))"

# --- ETag / 304 ---
hdr() { # PATH [IF-NONE-MATCH]: status; headers in $work/hdr
	rm -f "$work/body"
	curl -s -D "$work/hdr" -o "$work/body" -w '%{http_code}' --unix-socket "$work/m.sock" \
		${2:+-H "If-None-Match: $2"} "http://localhost/api/v1$1"
}
etag() { sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$work/hdr" | tr -d '\r'; }
for p in "/trials/$t/metrics?since=$last&max_points=500" "/trials/$t" "/experiments/$e" \
	"/experiments/$e/trials"; do
	eq "GET $p has an ETag" 200 "$(hdr "$p")"
	tag=$(etag)
	check "... a quoted one" test -n "$tag"
	eq "... If-None-Match with it → 304" 304 "$(hdr "$p" "$tag")"
	eq "... with no body" 0 "$(cat "$work/body" 2>/dev/null | wc -c)"
done
hdr "/trials/$t/metrics?since=$mid" >/dev/null
tag=$(etag)
eq "unchanged metrics → 304" 304 "$(hdr "/trials/$t/metrics?since=$mid" "$tag")"
hdr "/experiments/$e" >/dev/null
tag=$(etag)
sock POST "/experiments/$e/archive" >/dev/null
eq "a changed experiment → 200 again" 200 "$(hdr "/experiments/$e" "$tag")"
eq "... with its new state" true "$(body .experiment.archived)"
eq "a stale ETag → 200" 200 "$(hdr "/trials/$t" '"0000000000000000"')"

# --- a killed experiment's progress is the work done, not 100% ---
cat >"$work/k.yaml" <<'YAML'
name: killed
entrypoint: x
environment: {environment_variables: [FAKE_STEPS=50, FAKE_SLEEP=0.2]}
searcher: {name: random, metric: val_loss, max_trials: 4, max_concurrent_trials: 1, max_length: {batches: 50}}
YAML
k=$(create_exp "$work/k.yaml")
for _ in $(seq 600); do
	sock GET "/experiments/$k/trials" >/dev/null
	[ "$(body '[.trials[].steps_completed] | max // 0')" -ge 2 ] && break
	sleep 0.1
done
eq "kill a running experiment" 200 "$(sock POST "/experiments/$k/kill")"
check "it ends CANCELED" wait_state "$k" CANCELED 60
sock GET "/experiments/$k" >/dev/null
check "its progress is below 1 ($(body .experiment.progress))" \
	test "$(body '.experiment.progress < 1')" = true

# --- an errored experiment: its progress is the work done too ---
cat >"$work/f.yaml" <<'YAML'
name: fails
entrypoint: x
max_restarts: 0
environment: {environment_variables: [FAKE_FAIL_TASK=0]}
searcher: {name: single, metric: val_loss, max_length: {batches: 3}}
YAML
f=$(create_exp "$work/f.yaml")
check "a trial that fails for good ends the experiment in ERROR" wait_state "$f" ERROR 60
sock GET "/experiments/$f" >/dev/null
check "its progress is below 1 ($(body .experiment.progress))" \
	test "$(body '.experiment.progress < 1')" = true
sock GET "/experiments/$f/trials" >/dev/null
eq "its trial says it failed" ERROR "$(body '.trials[0].state')"

stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
