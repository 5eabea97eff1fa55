#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A det experiment as a 30-task array asking for 10 at a time: job_submit_det
# caps the throttle at MaxArrayThrottle=4, and squeue never shows more than 4
# tasks running while all 30 complete.
. "$(dirname "$0")/lib.sh"
slurm_require
slurm_start
tap_plan 4

id=$(sbatch --parsable --det-experiment=30 --array=0-29%10 -o /dev/null --wrap 'sleep 1')
check "array submitted" test -n "$id"
check "throttle capped to 4" test "$(job_field "$id" ArrayTaskThrottle)" = 4

max=0
deadline=$((SECONDS + 120))
while [ "$SECONDS" -lt "$deadline" ]; do
	all=$(squeue -h -r -j "$id" -o %T 2>/dev/null)
	[ -z "$all" ] && break
	running=$(grep -c '^RUNNING$' <<<"$all")
	[ "$running" -gt "$max" ] && max=$running
	sleep 0.1
done
diag "most tasks running at once: $max"
check "never more than 4 running (and 4 did run together)" test "$max" = 4
done_tasks=$(grep -c "Name=det-e30 JobState=COMPLETED" "$test_dir/cluster/log/jobcomp.txt")
check "all 30 tasks completed" test "$done_tasks" = 30
tap_done
