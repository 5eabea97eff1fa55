#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Killing an experiment ends every process of its trial: a real det-master
# with the local manager and the real det-launch runs an entrypoint whose
# workers hide behind `sh -c`, one ignoring SIGTERM and one daemonised into
# its own session. After the kill no process carrying the trial's marker is
# left and the experiment ends CANCELED.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"

need_command python3
export HOME=$work/home # det-launch's job directories stay private to the test
mkdir -p "$HOME"
launcher=$builddir/launcher/det-launch
mark=kt$$x$RANDOM

# marked: pids of processes whose environment carries this test's marker
marked() {
	grep -lzxs "KILL_TREE_MARK=$mark" /proc/[0-9]*/environ | cut -d/ -f3
}
none_marked() { [ -z "$(marked)" ]; }
at_least_marked() { [ "$(marked | wc -l)" -ge "$1" ]; }
kt_cleanup() {
	local p
	for p in $(marked); do kill -9 "$p" 2>/dev/null; done
	sec_cleanup
}
trap kt_cleanup EXIT

mkdir -p "$work/model"
cat >"$work/model/stubborn.py" <<'PY'
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    time.sleep(1)
PY
cat >"$work/model/daemon.py" <<'PY'
import os, signal, sys, time
if os.fork():
    sys.exit(0)
os.setsid()
if os.fork():
    os._exit(0)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
fd = os.open(os.devnull, os.O_RDWR)
for i in (0, 1, 2):
    os.dup2(fd, i)
while True:
    time.sleep(1)
PY
tar -C "$work/model" -czf "$work/model.tgz" .
cat >"$work/exp.yaml" <<YAML
name: kill-tree
entrypoint: python3 stubborn.py & python3 daemon.py & wait
searcher: {name: single, metric: loss, max_length: {batches: 1000}}
max_restarts: 0
environment: {environment_variables: [KILL_TREE_MARK=$mark]}
YAML

start_master
e=$(create_exp "$work/exp.yaml" true "$work/model.tgz")
check "the experiment is created" test -n "$e" -a "$e" != null
wait_for 60 at_least_marked 2
ok $? "the trial's workers run (stubborn and daemonised)"
sock POST "/experiments/$e/kill" >/dev/null
wait_for 60 none_marked
ok $? "after the kill no process of the trial remains"
if ! none_marked; then
	for p in $(marked); do echo "#   left: $p $(tr '\0' ' ' <"/proc/$p/cmdline")"; done
fi
check "the experiment ends CANCELED" wait_state "$e" CANCELED 60
stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
