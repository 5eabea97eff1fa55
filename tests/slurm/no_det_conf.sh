#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A cluster whose slurmctld loads job_submit_det without any det.conf: the
# controller starts and serves jobs (it used to exit with "failed to
# initialize job_submit plugin"), the plugin logs a warning naming the
# missing file, and det jobs get the documented defaults (one GPU per trial,
# requeue on, no throttle cap).
. "$(dirname "$0")/lib.sh"
slurm_require
DET_CONF_FILE=none slurm_start
tap_plan 6

check "no det.conf in the cluster" test ! -e "$test_dir/cluster/det.conf"
check "slurmctld answers" sh -c 'scontrol ping | grep -q "is UP"'
check "warning names the missing file" grep -q \
	"job_submit/det: warning: $test_dir/cluster/det.conf not found, using the defaults" \
	"$test_dir/cluster/log/slurmctld.log"

id=$(sbatch --parsable --hold -o /dev/null --det-experiment=21 --array=0-9%6 --wrap true)
check "det job accepted" test -n "$id"
check "defaults: name, one GPU, requeue" \
	test "$(job_field "$id" JobName)/$(job_field "$id" TresPerNode)/$(job_field "$id" Requeue)" \
	= det-e21/${GRES}gpu:1/1
check "defaults: no throttle cap" test "$(job_field "$id" ArrayTaskThrottle)" = 6
