#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# kill -9 of det-master: (1) during sustained metric ingest from several
# concurrent clients, every report that was acknowledged (HTTP 200) is in the
# database after a restart; (2) a running experiment continues after the
# restart and finishes, with no trial index handed out twice.
set -u
. "$(dirname "$0")/master-lib.sh"
start_master

# --- 1: acknowledged reports survive kill -9 ---
cat >"$work/one.yaml" <<'YAML'
name: ingest
entrypoint: x
searcher: {name: single, metric: val_loss, max_length: {batches: 100000}}
# The local task that races the test's claim reports once, then waits: it must
# not end the trial (an ended trial's token is refused) before the restart,
# however slowly a loaded machine gets there (the kill at the end stops it).
environment: {environment_variables: [FAKE_STEPS=100000000, FAKE_SLEEP=600]}
YAML
e=$(create_exp "$work/one.yaml" false)
sock POST "/experiments/$e/activate" >/dev/null
sock POST "/experiments/$e/pause" >/dev/null # no tasks: the test is the trial
sock POST "/experiments/$e/activate" >/dev/null
# The local task claims the trial and reports once; then the test claims it too
# (a claim of a live trial is a restart of it: the test's token is the trial's
# from then on, and the local task idles, out of the way, for 10 minutes).
local_task_reported() { # EXP: the local task has claimed and reported its first step
	sock GET "/experiments/$1/trials" >/dev/null
	[ "$(body '.trials[0].steps_completed // 0')" -ge 1 ]
}
for _ in $(seq 600); do local_task_reported "$e" && break; sleep 0.1; done
sock POST "/experiments/$e/claim" '{"array_task": 0}' >/dev/null
tid=$(body .trial_id)
tok=$(body .token)
check "claimed a trial for ingest" test -n "$tok" -a "$tok" != null
writer() { # N [PREFIX]: posts steps N*100000+i, logs acknowledged ones
	local w=$1 i=0 code s
	while :; do
		i=$((i + 1))
		s=$((w * 100000 + i))
		code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $tok" \
			--data-binary "{\"group\":\"training\",\"steps_completed\":$s,\"metrics\":{\"loss\":1}}" \
			"$base/trials/$tid/metrics")
		[ "$code" = 200 ] && echo "$s" >>"$work/${2:-acked}.$w"
		[ "$code" = 000 ] && break
	done
}
acked_count() { # [PREFIX]: reports acknowledged so far
	cat "$work/${1:-acked}".* 2>/dev/null | wc -l
}
wait_acked() { # COUNT [PREFIX]: until more than COUNT reports are acknowledged (60 s at most)
	for _ in $(seq 600); do
		[ "$(acked_count "${2:-acked}")" -gt "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
for w in 1 2 3 4 5 6; do writer $w & done
# Crash once a number of reports are in, however long that takes under load.
wait_acked 50
stop_master KILL
wait
acked=$(cat "$work"/acked.* | sort -n | uniq | wc -l)
check "reports were acknowledged before the crash ($acked)" test "$acked" -gt 50
start_master
sock GET "/trials/$tid/metrics?group=training&limit=10000" >/dev/null
body '.metrics[].steps_completed' | sort -u >"$work/stored"
cat "$work"/acked.* | sort -u >"$work/acked"
missing=$(comm -23 "$work/acked" "$work/stored" | wc -l)
eq "every acknowledged report is stored after restart" 0 "$missing"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
	"$base/trials/$tid/signals?timeout_seconds=0")
eq "the trial's token still authenticates after the restart" 200 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${tok}0" \
	"$base/trials/$tid/signals?timeout_seconds=0")
eq "a wrong trial token is refused after the restart" 401 "$code"
sock GET "/trials/$tid" >/dev/null
eq "the trial keeps its id and hparams after the restart" "$tid object" \
	"$(body '"\(.trial.id) \(.trial.hparams | type)"')"
sock POST "/experiments/$e/kill" >/dev/null

# --- 1b: SIGTERM during ingest: reports waiting for their commit are
# answered, the master exits cleanly, and every acknowledged one is stored ---
# The local task claims the same trial first and idles (one report per 10 min).
cat >"$work/term.yaml" <<'YAML'
name: ingest-term
entrypoint: x
searcher: {name: single, metric: val_loss, max_length: {batches: 100000000}}
environment: {environment_variables: [FAKE_STEPS=100000000, FAKE_SLEEP=600]}
YAML
e=$(create_exp "$work/term.yaml")
for _ in $(seq 600); do local_task_reported "$e" && break; sleep 0.1; done
sock POST "/experiments/$e/claim" '{"array_task": 0}' >/dev/null
tid=$(body .trial_id)
tok=$(body .token)
check "claimed a trial for the SIGTERM ingest" test -n "$tok" -a "$tok" != null
for w in 1 2 3 4 5 6; do writer $w termacked & done
wait_acked 20 termacked
stop_master TERM
ok $? "SIGTERM during ingest shuts down cleanly"
wait
start_master
sock GET "/trials/$tid/metrics?group=training&limit=10000" >/dev/null
body '.metrics[].steps_completed' | sort -u >"$work/stored"
cat "$work"/termacked.* | sort -u >"$work/acked"
check "reports were acknowledged before SIGTERM" test -s "$work/acked"
eq "every report acknowledged before SIGTERM is stored" 0 \
	"$(comm -23 "$work/acked" "$work/stored" | wc -l)"
sock POST "/experiments/$e/kill" >/dev/null

# --- 2: an experiment continues across kill -9 ---
random_exp "$work/exp.yaml" survive 3 15 "FAKE_STEPS=15, FAKE_SLEEP=0.2"
e2=$(create_exp "$work/exp.yaml")
trials_running() { # EXP: some trial has reported a step
	sock GET "/experiments/$1/trials" >/dev/null
	[ "$(body '[.trials[] | select(.steps_completed > 0)] | length')" -gt 0 ]
}
for _ in $(seq 600); do trials_running "$e2" && break; sleep 0.1; done
check "trials were running before the crash" trials_running "$e2"
stop_master KILL
sleep 1
start_master
check "experiment completes after the restart" wait_state "$e2" COMPLETED 60
sock GET "/experiments/$e2/trials" >/dev/null
eq "three trials, indices 0..2 once each" "0 1 2" "$(body '[.trials[].trial_index] | join(" ")')"
eq "every trial finished its length" "15 15 15" "$(body '[.trials[].steps_completed] | join(" ")')"
stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
