#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# job_submit_det on a real slurmctld: det jobs are rewritten by the policy,
# over-policy and malformed det jobs are refused with the message sbatch
# prints, and jobs without --det-experiment are left as they were.
. "$(dirname "$0")/lib.sh"
slurm_require
slurm_start
tap_plan 19

hold() {
	sbatch --parsable --hold -o /dev/null "$@" --wrap true 2>"$test_dir/sbatch.err"
}

# A det job: the test cluster's det.conf has PoolPartition=default:gpu,
# cpu-pool:cpu:cpu, MaxSlots=4, MaxSlotsPerNode=2, MaxArrayThrottle=4,
# DefaultTimeLimit=30, Requeue=yes.
id=$(hold --det-experiment=12 --det-slots=2 --array=0-99%50 --no-requeue)
check "det job accepted" test -n "$id"
check "name is det-e<ID>" test "$(job_field "$id" JobName)" = det-e12
check "partition from the default pool" test "$(job_field "$id" Partition)" = gpu
check "tres_per_node from slots" test "$(job_field "$id" TresPerNode)" = ${GRES}gpu:2
check "requeue forced on" test "$(job_field "$id" Requeue)" = 1
check "array throttle capped" test "$(job_field "$id" ArrayTaskThrottle)" = 4
check "default time limit" test "$(job_field "$id" TimeLimit)" = 00:30:00
check "admin comment names the experiment" \
	grep -q 'AdminComment=det-slurm experiment=12 pool=default slots=2' \
	<(scontrol show job "$id")

id=$(hold --det-experiment=13 --det-slots=4 --det-pool=default)
check "4 slots over MaxSlotsPerNode=2 span 2 nodes" \
	test "$(job_field "$id" NumNodes)/$(job_field "$id" TresPerNode)" = 2-2/${GRES}gpu:2

id=$(hold --det-experiment=14 --det-pool=cpu-pool --det-slots=3)
check "cpu pool: partition cpu, no gres, 3 tasks" \
	test "$(job_field "$id" Partition)/$(job_field "$id" TresPerNode)/$(job_field "$id" NumTasks)" = cpu//3

id=$(hold --det-experiment=15 --array=0-29)
check "throttle added to an array without one" test "$(job_field "$id" ArrayTaskThrottle)" = 4

if hold --det-experiment=16 --det-slots=8 >/dev/null; then false; else true; fi
check "over MaxSlots refused" grep -q \
	"det experiment 16: 8 slots per trial exceed this cluster's limit of 4" "$test_dir/sbatch.err"
diag "$(head -n 1 "$test_dir/sbatch.err")"

hold --det-experiment=17 --det-pool=nowhere >/dev/null
check "unknown pool refused" grep -q "det experiment 17: unknown resource pool 'nowhere'" \
	"$test_dir/sbatch.err"

hold --det-experiment=12abc >/dev/null
check "malformed experiment id refused" grep -q \
	"det-experiment wants a positive integer, got '12abc'" "$test_dir/sbatch.err"

# Not a det job: nothing changes, not even an over-cap throttle.
id=$(hold -J plain --array=0-9%50 -p cpu)
check "non-det job keeps its name and partition" \
	test "$(job_field "$id" JobName)/$(job_field "$id" Partition)" = plain/cpu
check "non-det job keeps its throttle, no gres, no admin comment" \
	test "$(job_field "$id" ArrayTaskThrottle)/$(job_field "$id" TresPerNode)" = 50/
check "non-det job has no time limit added" test "$(job_field "$id" TimeLimit)" = UNLIMITED
scancel --user=root

# A det.conf with a typo stops slurmctld at start, naming file, line and key.
printf 'MaxSlots=4\nMaxSlotz=5\n' >"$test_dir/bad.conf"
if DET_CONF_FILE=$test_dir/bad.conf "$slurm_tests_dir/cluster.sh" start "$test_dir/bad" \
	>/dev/null 2>"$test_dir/bad.err"; then
	"$slurm_tests_dir/cluster.sh" stop "$test_dir/bad"
	not_ok "slurmctld refuses to start with an unknown det.conf key"
else
	ok "slurmctld refuses to start with an unknown det.conf key"
fi
if grep -q "job_submit/det: $test_dir/bad/det.conf:2: unknown key 'MaxSlotz'" \
	"$test_dir/bad/log/slurmctld.log" 2>/dev/null; then
	ok "the log names the file, line and key"
else
	not_ok "the log names the file, line and key"
	diag "$(cat "$test_dir/bad.err")"
fi
tap_done
