#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One client must not lock everyone out (issue 10): 4,200 half-open
# connections from 127.0.0.2 (more than the master's connection limit) while
# a trial runs. An authenticated `det experiment list` from 127.0.0.1 still
# answers, the running trial's experiment completes (not ERROR), and a parked
# long poll outlives the idle timeout that closes the attacker's connections.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$srcdir/tests/security/security-lib.sh"
attack=$srcdir/tests/security/attack.py
det=${DET_BIN:-$builddir/cli/det}
export DET_AUTH_FILE=$work/auth.json

printf 'limits:\n  idle_timeout_seconds: 3\n' >"$work/master.yaml"
start_master --config "$work/master.yaml"
check "master starts with a limits section" test -n "$port"
pw=$(cat "$work/state/admin-password")
echo "$pw" | "$det" -m "http://127.0.0.1:$port" user login --password-stdin admin >/dev/null
ok $? "admin logs in over TCP (det)"
admin_login admin

cat >"$work/exp.yaml" <<'YAML'
name: survives
entrypoint: python3 train.py
searcher: {name: single, metric: val_loss, max_length: {batches: 1000}}
environment: {environment_variables: [FAKE_STEPS=25, FAKE_SLEEP=1]}
YAML
e=$(create_exp "$work/exp.yaml")
check "experiment created" test "$e" -gt 0
trial=$(running_trial "$e")
check "the trial runs" test -n "$trial"

# The attack: held for 150 s, longer than every bound below (it is stopped
# when the checks are done).
/usr/bin/python3 "$attack" halfopen "$port" 127.0.0.2 4200 150 >"$work/attack.out" &
attacker=$!
for _ in $(seq 900); do
	[ -s "$work/attack.out" ] && break
	sleep 0.1
done
echo "# attacker: $(cat "$work/attack.out")"

# A long poll parked for longer than the idle timeout (3 s) is not cut.
curl -s -o "$work/poll" -w '%{http_code}' --max-time 60 -H "Authorization: Bearer $admin" \
	"$base/trials/$trial/logs?follow=1&after=1000000000" >"$work/poll.code" &
poller=$!

t0=$(date +%s%N)
det_list_answers 60
listed=$?
t1=$(date +%s%N)
ok $listed "authenticated det experiment list answers during the attack"
echo "# det experiment list took $(((t1 - t0) / 1000000)) ms (diagnostic only)"
check "the list shows the running experiment" grep -q survives "$work/list"

wait "$poller"
eq "a parked long poll outlives the idle timeout" 200 "$(cat "$work/poll.code")"
check "the attacker still holds its connections" kill -0 "$attacker"
wait_state "$e" COMPLETED 120
ok $? "the running trial's experiment completes"
sock GET "/experiments/$e" >/dev/null
echo "# experiment state: $(body .experiment.state)"
kill "$attacker" 2>/dev/null
wait "$attacker" 2>/dev/null

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
