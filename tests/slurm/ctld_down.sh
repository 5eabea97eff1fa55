#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The master stays responsive while slurmctld is down: with slurmctld stopped,
# det experiment pause returns at once and health and the experiment's Slurm
# view answer at once (the resource manager only records the pause; its poll
# applies it once slurmctld answers again), and /agents still lists the nodes
# (served from a cache that the poll refreshes). Then kill works the same way and
# the array's jobs are canceled once slurmctld is back.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_master
tap_plan 10

# Milliseconds that a command takes.
timed() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

submit_slow 200
for _ in $(seq 100); do
	[ "$(array_running)" = 2 ] && break
	sleep 0.1
done
check_eq "two tasks run" 2 "$(array_running)"
# The master has seen them run (it learns nothing while slurmctld is down).
for _ in $(seq 100); do
	det_api GET "/experiments/$id/slurm" >/dev/null
	[ "$(det_body '[.tasks[] | select(.state == "RUNNING")] | length')" = 2 ] && break
	sleep 0.1
done

"$slurm_tests_dir/cluster.sh" stop-ctld "$test_dir/cluster"
ms=$(timed det experiment pause "$id")
check "det experiment pause returns within 2 s with slurmctld down (${ms} ms)" test "$ms" -lt 2000
ms=$(timed det_api GET /health)
check "GET /health answers within 2 s (${ms} ms)" test "$ms" -lt 2000
ms=$(timed det_api GET "/experiments/$id/slurm")
check "GET /experiments/$id/slurm answers within 2 s (${ms} ms)" test "$ms" -lt 2000
# A poll is now waiting on slurmctld; the views still answer at once.
sleep 3
ms=$(timed det_api GET "/experiments/$id/slurm")
check "and again while a poll waits on slurmctld (${ms} ms)" test "$ms" -lt 2000
det_api GET /agents >/dev/null
check_eq "GET /agents lists the four nodes from its cache, not asking slurmctld" 4 \
	"$(det_body '.agents | length')"

check "slurmctld starts again" "$slurm_tests_dir/cluster.sh" start-ctld "$test_dir/cluster"
held=
for _ in $(seq 300); do
	held=$(squeue -h -r -j "$job" -o '%t %r' 2>/dev/null | sed 's/ .*[Hh]eld.*/ held/' | sort -u)
	[ "$held" = "PD held" ] && break
	sleep 0.1
done
check_eq "the pause takes effect: every task is pending and held" "PD held" "$held"

"$slurm_tests_dir/cluster.sh" stop-ctld "$test_dir/cluster"
ms=$(timed det experiment kill "$id")
check "det experiment kill returns within 2 s with slurmctld down (${ms} ms)" test "$ms" -lt 2000
"$slurm_tests_dir/cluster.sh" start-ctld "$test_dir/cluster"
check "the kill takes effect: the array's jobs are gone from Slurm" wait_job_gone "$job" 60
tap_done
