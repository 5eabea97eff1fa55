#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A restarted det-master never adopts (and so never signals) a process by its
# pid alone. The stored pids of two running local tasks are replaced with
# unrelated processes while the master is down: one carries the task's
# environment marker but not the recorded start time, the other has the
# recorded start time but not the marker. After the restart both tasks are
# treated as ended (they run again), and killing the experiment leaves both
# unrelated processes alive.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"

need_sqlite3
db=$work/state/master.db
q() { sqlite3 -cmd '.timeout 10000' "$db" "$@"; }
decoys=
ap_cleanup() {
	local p
	for p in $decoys; do kill -9 "$p" 2>/dev/null; done
	sec_cleanup
}
trap ap_cleanup EXIT

# two tasks at once, however few CPUs the machine has
printf 'local:\n  slots: 4\n' >"$work/master.yaml"
start_master --config "$work/master.yaml"
random_exp "$work/exp.yaml" adopt 2 100000 "FAKE_STEPS=100000, FAKE_SLEEP=1"
e=$(create_exp "$work/exp.yaml")
check "the experiment is created" test -n "$e" -a "$e" != null
running_pids() { # both tasks have a stored pid
	[ "$(q "SELECT count(*) FROM allocations WHERE experiment_id=$e AND pid > 0")" = 2 ]
}
wait_for 60 running_pids
ok $? "both tasks run and their pids are stored"
stop_master KILL
# The real tasks go away while the master is down (their process groups).
for p in $(q "SELECT pid FROM allocations WHERE experiment_id=$e"); do
	kill -9 -- "-$p" 2>/dev/null
done

# Decoy 0 carries the task's marker, decoy 1 gets its true start time stored.
env DET_EXPERIMENT_ID="$e" DET_ARRAY_TASK=0 sleep 600 &
d0=$!
sleep 600 &
d1=$!
disown "$d0" "$d1" # killed by the cleanup, quietly
decoys="$d0 $d1"
d1_start=$(sed 's/.*) //' "/proc/$d1/stat" | cut -d' ' -f20)
q "UPDATE allocations SET pid=$d0 WHERE experiment_id=$e AND array_task=0"
q "UPDATE allocations SET pid=$d1 WHERE experiment_id=$e AND array_task=1"
q "UPDATE allocations SET pid_start=$d1_start WHERE experiment_id=$e AND array_task=1" 2>/dev/null
start_master --config "$work/master.yaml"
not_adopted() { # neither task still has a decoy's pid
	[ "$(q "SELECT count(*) FROM allocations WHERE experiment_id=$e AND pid IN ($d0, $d1)")" = 0 ]
}
wait_for 60 not_adopted
ok $? "neither decoy is adopted: both tasks count as ended and run again"
sock POST "/experiments/$e/kill" >/dev/null
check "the experiment ends CANCELED" wait_state "$e" CANCELED 60
check "the decoy with the marker but another start time is alive" kill -0 "$d0"
check "the decoy with the start time but no marker is alive" kill -0 "$d1"
stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
