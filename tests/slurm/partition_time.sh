#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A pool whose partition has DefaultTime=5 and MaxTime=10 (minutes): det-master
# reads them from its cached partition list. An experiment asking for more
# than MaxTime (slurm.sbatch_args --time=20) is refused at create time with an
# error naming the partition's MaxTime, and nothing reaches Slurm; one within
# it runs with its own limit; one without --time gets the partition's
# DefaultTime and completes, and det submit's plan for one without --time
# carries the walltime signal, since DefaultTime leaves the trial time to run.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_test_dir
export DET_TIMED_PARTITION=timed:5:10
slurm_start_with_policy PoolPartition=default:timed:cpu MaxSlots=4
tap_plan 7

timed_yaml() { # $1: the slurm: line or "" ; $2: output
	if [ -n "$1" ]; then
		sed "s/^max_restarts: 1\$/max_restarts: 0\n$1/" "$(tiny_model)/grid.yaml" >"$2"
	else
		sed 's/^max_restarts: 1$/max_restarts: 0/' "$(tiny_model)/grid.yaml" >"$2"
	fi
}
timed_yaml "slurm: {sbatch_args: [--time=20]}" "$test_dir/over.yaml"
det experiment create "$test_dir/over.yaml" "$(tiny_model)" >"$test_dir/over.out" 2>&1
rc=$?
diag "$(cat "$test_dir/over.out")"
check "--time above MaxTime: create refused, naming the partition's MaxTime" \
	test "$rc" != 0 -a -n "$(grep "partition timed's MaxTime of 10 minutes" "$test_dir/over.out")"
det_api GET "/experiments" >/dev/null
check_eq "no experiment was created, nothing submitted" "0 " \
	"$(det_body '.experiments | length') $(squeue -h -o %i 2>/dev/null)"

timed_yaml "slurm: {sbatch_args: [--time=8]}" "$test_dir/within.yaml"
t=$(det -o json experiment create --paused "$test_dir/within.yaml" "$(tiny_model)" | jq -r .id)
check_eq "--time within MaxTime applies" 00:08:00 \
	"$(job_field "$(squeue -h -n "det-e$t" -o %F | head -n 1)" TimeLimit)"
det_api POST "/experiments/$t/kill" >/dev/null
wait_exp_state "$t" CANCELED 60 >/dev/null

timed_yaml "" "$test_dir/default.yaml"
id=$(det -o json experiment create "$test_dir/default.yaml" "$(tiny_model)" | jq -r .id)
check "without --time: created" test -n "$id"
limit=
for _ in $(seq 100); do
	limit=$(job_field "$(squeue -h -n "det-e$id" -o %F | head -n 1)" TimeLimit)
	[ -n "$limit" ] && break
	sleep 0.1
done
check_eq "its tasks get the partition's DefaultTime" 00:05:00 "$limit"
check "and it completes" wait_exp_state "$id" COMPLETED 90

timed_yaml "slurm: {walltime_signal_seconds: 60}" "$test_dir/signal.yaml"
det_api POST /experiments "$(jq -n --rawfile c "$test_dir/signal.yaml" \
	'{config: $c, activate: false, submit: "client"}')" >/dev/null
check_eq "det submit's plan without --time: the signal, from DefaultTime" "--signal=B:USR1@60" \
	"$(det_body '.submit_plan.sbatch_args[0]')"
tap_done
