#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Idle long polls cost (almost) nothing: 1,000 `logs?follow=1` polls parked on
# a running trial that prints nothing are dispatched again at most once a
# second each (det_http_parked_resumed_total in /metrics), not at every tick of
# the master's waker. The master's CPU time over the window is printed as a
# figure only (bench/longpoll.sh measures it); the assertion is on counts.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"

need_command python3
polls=${LONGPOLL_POLLS:-1000}
window_s=${LONGPOLL_WINDOW_S:-4}

resumed() {
	curl -s --unix-socket "$work/m.sock" http://localhost/metrics |
		sed -n 's/^det_http_parked_resumed_total //p'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$master_pid/stat"; }

start_master
cat >"$work/exp.yaml" <<'YAML'
name: longpoll-idle
entrypoint: train
searcher: {name: single, metric: loss, max_length: {batches: 1000}}
max_restarts: 0
environment: {environment_variables: [FAKE_STEPS=1, FAKE_SLEEP=600]}
YAML
e=$(create_exp "$work/exp.yaml")
check "the experiment is created" test -n "$e" -a "$e" != null
t=$(running_trial "$e")
check "its trial is running" test -n "$t"

python3 "$srcdir/tests/security/longpoll-client.py" "$work/m.sock" "$t" "$polls" "$work/done" >"$work/polls.out" 2>&1 &
client=$!
for _ in $(seq 600); do
	grep -qs parked "$work/polls.out" && break
	sleep 0.1
done
check "the client parked $polls polls" grep -q parked "$work/polls.out"
r0=$(resumed)
c0=$(cpu_ticks)
t0=$(date +%s.%N)
sleep "$window_s"
r1=$(resumed)
c1=$(cpu_ticks)
t1=$(date +%s.%N)
touch "$work/done"
wait "$client"
sed 's/^/# client: /' "$work/polls.out"
n=$((r1 - r0))
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
# once a second each at most, with room for timing; the 200 ms tick made it 5
bound=$(awk -v p="$polls" -v e="$elapsed" 'BEGIN {printf "%d", 1.5 * p * (e + 1)}')
cpu=$(awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v e="$elapsed" \
	'BEGIN {printf "%.1f", 100 * c / hz / e}')
echo "# $polls idle polls for ${elapsed}s: $n dispatches again (bound $bound), master CPU ${cpu}% of one core"
check "the master counts them (det_http_parked_resumed_total)" test -n "$r0" -a -n "$r1"
check "the polls were still waiting during the window" grep -qx "answered 0" "$work/polls.out"
check "an idle poll runs again at most about once a second" test "$n" -le "$bound"
sock GET "/experiments/$e" >/dev/null
eq "the master still answers" ACTIVE "$(body .experiment.state)"
sock POST "/experiments/$e/kill" >/dev/null
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
