#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A full disk under the state directory (doc/security.md, "Store integrity"):
# writes the store cannot make answer 503 (the client retries) and change
# nothing in memory; a task that ends meanwhile is not forgotten (its event
# is applied when space returns), so the experiment never stays ACTIVE with
# nothing running, nor STOPPING_* after a kill; the master recovers without a
# restart once space is freed, and a restart finds the same states.
# The state directory is a small tmpfs; a reader holding a read transaction
# (as a backup or an admin's sqlite3 session does) keeps the WAL from starting
# over, so every commit needs new space.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root
need_sqlite3
state=$work/state
mkdir -p "$state"
if ! mount -t tmpfs -o size=24m,mode=0700 det-test "$state" 2>/dev/null; then
	echo "1..0 # SKIP cannot mount a tmpfs here (container without CAP_SYS_ADMIN)"
	exit 0
fi
reader_pid=
# start_reader: hold a read transaction on the store in a process group of its own.
start_reader() {
	setsid sqlite3 "$state/master.db" "BEGIN; SELECT count(*) FROM experiments;" \
		".shell sleep 1000" >/dev/null 2>&1 &
	reader_pid=$!
	for _ in $(seq 600); do
		pgrep -g "$reader_pid" -x sleep >/dev/null && return 0
		sleep 0.1
	done
	return 1
}
stop_reader() {
	[ -n "$reader_pid" ] && kill -- "-$reader_pid" 2>/dev/null
	[ -n "$reader_pid" ] && wait "$reader_pid" 2>/dev/null
	reader_pid=
}
disk_cleanup() {
	stop_reader
	[ -n "$master_pid" ] && kill -9 "$master_pid" 2>/dev/null
	wait 2>/dev/null
	umount "$state" 2>/dev/null
	sec_cleanup
}
trap disk_cleanup EXIT

start_master
check "master starts on a small tmpfs" test -n "$port"
cat >"$work/long.yaml" <<'YAML'
name: long
entrypoint: x
max_restarts: 5
environment: {environment_variables: [FAKE_STEPS=100000, FAKE_SLEEP=0.1]}
searcher: {name: single, metric: val_loss, max_length: {batches: 100000}}
YAML
e=$(create_exp "$work/long.yaml")
check "experiment created" test "$e" -gt 0
steps() { sock GET "/experiments/$e/trials" >/dev/null && body '.trials[0].steps_completed // 0'; }
for _ in $(seq 600); do
	[ "$(steps)" -ge 2 ] 2>/dev/null && break
	sleep 0.1
done
check "its trial reports" test "$(steps)" -ge 2

# --- fill the disk ---
start_reader
ok $? "a reader holds a read transaction on the store"
dd if=/dev/zero of="$state/fill" bs=1M status=none 2>/dev/null
dd if=/dev/zero of="$state/fill2" bs=4k status=none 2>/dev/null
check "the state directory is full" test "$(df --output=avail -k "$state" | tail -1)" -lt 8
printf 'name: probe\nentrypoint: x\nsearcher: {name: single, metric: l, max_length: {batches: 1}}\n' \
	>"$work/probe.yaml"
jq -n --rawfile c "$work/probe.yaml" '{config: $c, activate: false}' >"$work/req.json"
code=
for _ in $(seq 600); do
	code=$(curl -s -o "$work/body" -w '%{http_code}' --unix-socket "$work/m.sock" -X POST \
		-H 'Content-Type: application/json' --data-binary @"$work/req.json" \
		http://localhost/api/v1/experiments)
	[ "$code" != 200 ] && break
	sleep 0.1
done
eq "a write on a full disk answers 503 (retry later), not 500" 503 "$code"
grep -q 'database unavailable' "$work/body"
ok $? "the 503 says the database is unavailable: $(body .error.message)"
eq "reads still work; the experiment is still ACTIVE" ACTIVE \
	"$(sock GET "/experiments/$e" >/dev/null; body .experiment.state)"

# The task dies while nothing can be written: its end must not be lost.
for f in "$work"/pids/*; do
	[ -e "$f" ] && kill -9 -- "-${f##*/}" 2>/dev/null && rm -f "$f"
done
for _ in $(seq 600); do
	grep -q "task 0 ended\|write failed" "$work/master.err" && break
	sleep 0.1
done
sleep 2 # some ticks with the event waiting
eq "kill on a full disk answers 503" 503 "$(sock POST "/experiments/$e/kill")"
eq "and leaves the experiment as it was" ACTIVE \
	"$(sock GET "/experiments/$e" >/dev/null; body .experiment.state)"

# --- space returns ---
stop_reader
rm -f "$state/fill" "$state/fill2"
code=
for _ in $(seq 600); do
	code=$(sock POST "/experiments/$e/kill")
	[ "$code" = 200 ] && break
	sleep 0.1
done
eq "the client's retry of kill succeeds once space returns" 200 "$code"
wait_state "$e" CANCELED 60
eq "the killed experiment ends CANCELED (no STOPPING_KILLED left behind)" CANCELED \
	"$(sock GET "/experiments/$e" >/dev/null; body .experiment.state)"
sock GET "/experiments/$e/trials" >/dev/null
eq "its trial ended too" true "$(body '[.trials[].state] | all(. == "CANCELED" or . == "ERROR" or . == "COMPLETED")')"

# --- a task that ended during the full disk, for an experiment that goes on ---
cat >"$work/short.yaml" <<'YAML'
name: short
entrypoint: x
max_restarts: 5
environment: {environment_variables: [FAKE_STEPS=30, FAKE_SLEEP=0.1]}
searcher: {name: single, metric: val_loss, max_length: {batches: 30}}
YAML
e2=$(create_exp "$work/short.yaml")
for _ in $(seq 600); do
	sock GET "/experiments/$e2/trials" >/dev/null
	[ "$(body '.trials[0].steps_completed // 0')" -ge 2 ] 2>/dev/null && break
	sleep 0.1
done
start_reader
ok $? "a reader holds a read transaction on the store"
dd if=/dev/zero of="$state/fill" bs=1M status=none 2>/dev/null
dd if=/dev/zero of="$state/fill2" bs=4k status=none 2>/dev/null
before=$(wc -l <"$work/master.err")
for f in "$work"/pids/*; do
	[ -e "$f" ] && kill -9 -- "-${f##*/}" 2>/dev/null && rm -f "$f"
done
for _ in $(seq 600); do
	tail -n +"$((before + 1))" "$work/master.err" | grep -q "write failed" && break
	sleep 0.1
done
tail -n +"$((before + 1))" "$work/master.err" | grep -q "write failed"
ok $? "the task's end could not be written while the disk was full"
sleep 2
stop_reader
rm -f "$state/fill" "$state/fill2"
wait_state "$e2" COMPLETED 120
eq "once space returns the trial is restarted and the experiment completes" COMPLETED \
	"$(sock GET "/experiments/$e2" >/dev/null; body .experiment.state)"

# --- what a full disk could leave behind across a restart: a kill that was
# written, the end of its task that was not (the state is made with sqlite3) ---
e3=$(create_exp "$work/long.yaml")
for _ in $(seq 600); do
	sock GET "/experiments/$e3/trials" >/dev/null
	[ "$(body '.trials[0].steps_completed // 0')" -ge 2 ] 2>/dev/null && break
	sleep 0.1
done
stop_master TERM
ok $? "master stops"
gone=
for f in "$work"/pids/*; do
	[ -e "$f" ] && kill -9 -- "-${f##*/}" 2>/dev/null && rm -f "$f" && gone="$gone ${f##*/}"
done
for p in $gone; do # until reaped: a zombie would pass for a live task
	for _ in $(seq 600); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
done
sqlite3 "$state/master.db" "UPDATE experiments SET state = 'STOPPING_KILLED' WHERE id = $e3"
eq "the stored trial is still live, its task gone" ACTIVE \
	"$(sqlite3 "$state/master.db" "SELECT state FROM trials WHERE experiment_id = $e3")"
start_master
check "master restarts" test -n "$port"
wait_state "$e3" CANCELED 60
eq "a stopping experiment whose task is gone ends CANCELED after the restart" CANCELED \
	"$(sock GET "/experiments/$e3" >/dev/null; body .experiment.state)"

# --- a restart sees the same, truthful states ---
stop_master TERM
ok $? "master stops"
start_master
check "master restarts" test -n "$port"
sock GET "/experiments?limit=100" >/dev/null
eq "after the restart: no experiment stopping or active" "" \
	"$(body '[.experiments[] | select(.state | test("STOPPING|ACTIVE")) | .id] | map(tostring) | join(",")')"
eq "the killed experiment is still CANCELED" CANCELED \
	"$(sock GET "/experiments/$e" >/dev/null; body .experiment.state)"
stop_master TERM
ok $? "master stops"
echo "1..$tap_n"
exit $((tap_failed > 0))
