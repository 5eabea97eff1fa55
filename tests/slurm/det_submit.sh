#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# det submit on the test cluster: the experiment is created without the
# master submitting, det runs sbatch with the array spec and batch script
# the master returns (plus the user's own sbatch arguments), squeue shows
# the det-e<ID> array under the printed job id, and every trial completes.
# A submission that job_submit_det refuses leaves no experiment running;
# the master follows only the owner's own det-e<ID> arrays.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_master
tap_plan 13

det submit "$(tiny_model)/grid.yaml" "$(tiny_model)" -- --time=7 \
	-o "$test_dir/mine-%A_%a.out" >"$test_dir/submit.out" 2>&1
check "det submit exits 0" test $? = 0
diag "$(cat "$test_dir/submit.out")"
id=$(sed -n 's/^Created experiment \([0-9]*\)$/\1/p' "$test_dir/submit.out")
job=$(sed -n 's/^Submitted Slurm array job \([0-9]*\)$/\1/p' "$test_dir/submit.out")
check "it prints the experiment id and the array job id" test -n "$id" -a -n "$job"
check_eq "the array is det-e$id" "det-e$id" "$(job_field "$job" JobName)"
check_eq "the user's sbatch arguments apply (--time=7)" 00:07:00 "$(job_field "$job" TimeLimit)"
det_api GET "/experiments/$id/slurm" >/dev/null
check_eq "the master watches the submitted array" "$job+0" "$(det_body .job_id)"
check "the experiment completes" wait_exp_state "$id" COMPLETED 60
check "the tasks wrote where the user said (-o)" test -e "$test_dir/mine-${job}_0.out"

# The registration endpoint takes only the owner's det-e<ID> arrays.
body=$(jq -n --rawfile c "$(tiny_model)/grid.yaml" '{config: $c, submit: "client"}')
det_api POST /experiments "$body" >/dev/null
e=$(det_body .id)
check "submit=client answers with the plan" test "$(det_body '.submit_plan.arrays[0].array')" = "0-3%2"
other=$(sbatch --parsable --array=0-3 -o /dev/null --wrap true)
check_eq "a job that is not det-e$e is refused" 400 \
	"$(det_api POST "/experiments/$e/submitted" "{\"job_id\": \"$other\"}")"
check_eq "a malformed job id is refused" 400 \
	"$(det_api POST "/experiments/$e/submitted" '{"job_id": "12;rm"}')"
det_api POST "/experiments/$e/kill" >/dev/null
check "an experiment nobody submitted can be killed" wait_exp_state "$e" CANCELED 10

# Over the policy (MaxSlots=4): sbatch refuses, det says why, the experiment is killed.
sed 's/^max_restarts: 1$/max_restarts: 1\nresources: {slots_per_trial: 8}/' \
	"$(tiny_model)/grid.yaml" >"$test_dir/big.yaml"
det submit "$test_dir/big.yaml" "$(tiny_model)" -- -o /dev/null >"$test_dir/big.out" 2>&1
rc=$?
diag "$(cat "$test_dir/big.out")"
check "a submission job_submit_det refuses fails with sbatch's reason" \
	test "$rc" = 1 -a -n "$(grep -i 'slots' "$test_dir/big.out")"
big=$(sed -n 's/^det: experiment \([0-9]*\) killed$/\1/p' "$test_dir/big.out")
check "and leaves its experiment killed" wait_exp_state "${big:-0}" CANCELED 10
tap_done
