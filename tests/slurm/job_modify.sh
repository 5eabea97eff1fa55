#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# job_submit_det's job_modify on a real slurmctld: `scontrol update` of a det
# job cannot lift its array throttle over MaxArrayThrottle (it is lowered,
# 0 = unlimited included) nor change its name, requeue, partition or slots;
# the same updates of a job that is not a det job go through unchanged.
. "$(dirname "$0")/lib.sh"
slurm_require
slurm_start
tap_plan 13

hold() {
	sbatch --parsable --hold -o /dev/null "$@" --wrap true 2>"$test_dir/sbatch.err"
}

update() {
	scontrol update "$@" 2>"$test_dir/update.err"
}

# The test cluster's det.conf: MaxArrayThrottle=4, Requeue=yes, pool default -> gpu.
id=$(hold --det-experiment=21 --array=0-29%2)
check_eq "det array submitted with its own throttle 2" 2 "$(job_field "$id" ArrayTaskThrottle)"
update JobId="$id" ArrayTaskThrottle=3
check_eq "throttle raised within the cap" 3 "$(job_field "$id" ArrayTaskThrottle)"
update JobId="$id" ArrayTaskThrottle=50
check_eq "throttle over the cap lowered to 4" 4 "$(job_field "$id" ArrayTaskThrottle)"
update JobId="$id" ArrayTaskThrottle=1
update JobId="$id" ArrayTaskThrottle=0
check_eq "throttle 0 (unlimited) lowered to 4" 4 "$(job_field "$id" ArrayTaskThrottle)"
check "the capping is logged by slurmctld" \
	grep -q "job_submit/det: uid 0 experiment 21: array throttle 0 capped to 4" \
	"$test_dir/cluster/log/slurmctld.log"

if update JobId="$id" Name=mine; then false; else true; fi
check_eq "renaming a det job refused" "det-e21/Access/permission denied" \
	"$(job_field "$id" JobName)/$(grep -o 'Access/permission denied' "$test_dir/update.err")"
diag "$(cat "$test_dir/update.err")"
check "the reason is in slurmctld's log" grep -q \
	"refused update by uid 0: det experiment 21: the job name stays 'det-e21'" \
	"$test_dir/cluster/log/slurmctld.log"
if update JobId="$id" Requeue=0; then false; else true; fi
check_eq "requeue off refused (det.conf Requeue=yes)" 1 "$(job_field "$id" Requeue)"
if update JobId="$id" Partition=cpu; then false; else true; fi
check_eq "moving out of the pool's partition refused" gpu "$(job_field "$id" Partition)"

# Hold and release (what det-master does to pause an experiment) still work.
update JobId="$id" Priority=0 # a no-op on a held job, but an update all the same
scontrol release "$id"
check "release of a det job still allowed" test "$(job_field "$id" Reason)" != JobHeldUser
scancel "$id"

# A plain array: the same updates go through as asked.
id=$(hold -J plain --array=0-29%2 -p cpu)
update JobId="$id" ArrayTaskThrottle=50
check_eq "non-det job: throttle 50 kept" 50 "$(job_field "$id" ArrayTaskThrottle)"
update JobId="$id" Name=renamed
update JobId="$id" Partition=gpu
check_eq "non-det job: renamed and moved" renamed/gpu \
	"$(job_field "$id" JobName)/$(job_field "$id" Partition)"
# Moves back and forth, each one accepted: on 24.11 without accounting, a stale
# errno in slurmctld refused some of them when job_modify left it set.
moved=0
for part in cpu gpu cpu gpu cpu gpu cpu gpu cpu gpu cpu gpu; do
	update JobId="$id" Partition=$part && [ "$(job_field "$id" Partition)" = $part ] &&
		moved=$((moved + 1))
done
check_eq "non-det job: 12 partition moves in a row all accepted" 12 "$moved"
diag "$(cat "$test_dir/update.err")"
scancel --user=root
tap_done
