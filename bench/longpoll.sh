#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench-longpoll: what idle long polls cost det-master. Runs
# tests/security/longpoll-idle.sh twice in one go, with no poll (the
# baseline: a master with one running trial) and with BENCH_POLLS parked
# `logs?follow=1` polls, and prints the master's CPU time over the window
# (utime+stime from /proc/PID/stat, % of one core) for both and their
# difference, the polls' cost. Needs root like the security tests.
#
#   make bench-longpoll                     (from the build tree)
#   BENCH_POLLS=1000 BENCH_WINDOW_S=10 bench/longpoll.sh
set -u
bench_dir=$(cd "$(dirname "$0")" && pwd)
export top_srcdir=${top_srcdir:-$bench_dir/..}
export top_builddir=${top_builddir:-$(pwd)}
polls=${BENCH_POLLS:-1000}
window=${BENCH_WINDOW_S:-10}

run() { # POLLS: prints the CPU % of one core the master used over the window
	LONGPOLL_POLLS=$1 LONGPOLL_WINDOW_S=$window \
		bash "$top_srcdir/tests/security/longpoll-idle.sh" >"$out" 2>&1
	sed -n 's/.*master CPU \([0-9.]*\)% of one core.*/\1/p' "$out"
}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
base=$(run 0)
with=$(run "$polls")
if [ -z "$base" ] || [ -z "$with" ]; then
	echo "bench-longpoll: the run failed:" >&2
	cat "$out" >&2
	exit 1
fi
echo "master CPU over ${window}s, % of one core: no poll $base, $polls idle polls $with"
awk -v a="$base" -v b="$with" -v n="$polls" \
	'BEGIN {printf "idle polls cost %.2f%% of one core (%.4f%% per 1000)\n", b - a, (b - a) * 1000 / n}'
