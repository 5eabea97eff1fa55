#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/slurm/cluster.sh itself: two clusters side by side on their own
# ports, stop leaves none of a cluster's processes, and `run` tears the
# cluster down when its command fails or when it is interrupted.
. "$(dirname "$0")/lib.sh"
slurm_require
slurm_test_dir
tap_plan 9
cluster=$slurm_tests_dir/cluster.sh

# Pids a cluster's pid files name (daemons the harness started).
cluster_pids() {
	cat "$1"/run/*.pid 2>/dev/null | sort -u
}

# True when none of the pids given is alive.
all_dead() {
	local pid
	for pid in "$@"; do
		# A zombie has ended; only its parent has not collected it yet.
		kill -0 "$pid" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)" != Z ] &&
			return 1
	done
	return 0
}

# eventually SECONDS CMD...: CMD succeeds within SECONDS (tried every 0.2 s).
eventually() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# file_and_dead FILE PID...: FILE is not empty and no PID is alive.
file_and_dead() {
	test -s "$1" || return 1
	shift
	all_dead "$@"
}

# status_and_dead STATUS WANT PID...: STATUS is WANT and no PID is alive.
status_and_dead() {
	test "$1" = "$2" || return 1
	shift 2
	test $# -gt 0 && all_dead "$@"
}

"$cluster" start "$test_dir/a" >"$test_dir/a.env" 2>"$test_dir/a.err" &
pa=$!
"$cluster" start "$test_dir/b" >"$test_dir/b.env" 2>"$test_dir/b.err" &
pb=$!
wait $pa
ra=$?
wait $pb
rb=$?
check "two clusters start at the same time" test "$ra/$rb" = 0/0
check "start prints the env to use" grep -qx "export SLURM_CONF=$test_dir/a/slurm.conf" "$test_dir/a.env"
port_a=$(sed -n 's/^SlurmctldPort=//p' "$test_dir/a/slurm.conf")
port_b=$(sed -n 's/^SlurmctldPort=//p' "$test_dir/b/slurm.conf")
check "each cluster has its own ports" test -n "$port_a" -a "$port_a" != "$port_b"
check_eq "jobs run on both" "n1 n1" "$(SLURM_CONF=$test_dir/a/slurm.conf timeout 30 srun -N1 -w n1 printenv SLURMD_NODENAME) $(SLURM_CONF=$test_dir/b/slurm.conf timeout 30 srun -N1 -w n1 printenv SLURMD_NODENAME)"

# A running job (batch shell and an srun step) when the cluster stops.
SLURM_CONF=$test_dir/a/slurm.conf sbatch -o /dev/null \
	--wrap "echo \$\$ \$PPID >'$test_dir/batch.pid'; srun bash -c 'echo \$\$ \$PPID >$test_dir/step.pid; sleep 300'" >/dev/null
# A loaded machine can take a while to start the step: wait for it generously.
for _ in $(seq 1 1200); do
	[ -s "$test_dir/step.pid" ] && break
	sleep 0.1
done
pids_a="$(cluster_pids "$test_dir/a") $(cat "$test_dir/batch.pid" "$test_dir/step.pid" 2>/dev/null)"
"$cluster" stop "$test_dir/a"
# shellcheck disable=SC2086
if eventually 30 file_and_dead "$test_dir/step.pid" $pids_a; then
	ok "stop leaves none of the cluster's processes, jobs' included"
else
	not_ok "stop leaves none of the cluster's processes, jobs' included"
	diag "step.pid: $(cat "$test_dir/step.pid" 2>/dev/null || echo missing)"
	for pid in $pids_a; do
		all_dead "$pid" || diag "alive: $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
	done
fi
check_eq "the other cluster keeps running" 4 \
	"$(SLURM_CONF=$test_dir/b/slurm.conf sinfo -h -t idle -o %D -p gpu)"
pids_b=$(cluster_pids "$test_dir/b")
"$cluster" stop "$test_dir/b"

"$cluster" run "$test_dir/c" -- bash -c "cat '$test_dir'/c/run/*.pid >'$test_dir/c.pids'; exit 3"
rc=$?
# shellcheck disable=SC2046,SC2086
check "run passes the command's status and stops the cluster" \
	status_and_dead "$rc" 3 $(cat "$test_dir/c.pids") $pids_b

"$cluster" run "$test_dir/d" -- bash -c "cat '$test_dir'/d/run/*.pid >'$test_dir/d.pids'; sleep 60" &
pd=$!
for _ in $(seq 1 300); do
	[ -s "$test_dir/d.pids" ] && break
	sleep 0.1
done
kill -TERM $pd
wait $pd
rc=$?
check "a run stopped by SIGTERM exits 130" test "$rc" = 130
# shellcheck disable=SC2046
check "a run stopped by SIGTERM stops its cluster" all_dead $(cat "$test_dir/d.pids" 2>/dev/null || echo 1)
tap_done
