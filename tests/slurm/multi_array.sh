#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# An experiment with more trials than the cluster's MaxArraySize (3 here)
# becomes several Slurm arrays, whether the master submits it or det submit
# does; the master follows all of them and every trial completes. The arrays
# share one throttle: max_concurrent_trials holds for the experiment, not per
# array (later arrays wait held until the running trials leave room).
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
export DET_MAX_ARRAY_SIZE=3
slurm_start_with_master
tap_plan 10

sed -e 's/vals: \[0.1, 0.2, 0.3, 0.4\]/vals: [0.1, 0.2, 0.3, 0.4, 0.5]/' \
	"$(tiny_model)/grid.yaml" >"$test_dir/five.yaml"
id=$(det -o json experiment create "$test_dir/five.yaml" "$(tiny_model)" | jq -r .id)
det_api GET "/experiments/$id/slurm" >/dev/null
check "the master submits two arrays (3 + 2 tasks)" \
	grep -Eq '^[0-9]+\+0,[0-9]+\+3$' <<<"$(det_body .job_id)"
check "the experiment completes" wait_exp_state "$id" COMPLETED 60
check_eq "five det-e$id tasks ran" 5 \
	"$(grep -c "Name=det-e$id JobState=" "$test_dir/cluster/log/jobcomp.txt")"

# Seven trials over three arrays (3 + 3 + 1), at most two at once overall.
sed -e 's/vals: \[0.1, 0.2, 0.3, 0.4\]/vals: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]/' \
	-e 's/sleep: 0$/sleep: 0.2/' "$(tiny_model)/grid.yaml" >"$test_dir/seven.yaml"
id=$(det -o json experiment create "$test_dir/seven.yaml" "$(tiny_model)" | jq -r .id)
most=0
for _ in $(seq 600); do
	n=$(squeue -h -r -n "det-e$id" -t R -o %i 2>/dev/null | wc -l)
	[ "$n" -gt "$most" ] && most=$n
	det_api GET "/experiments/$id" >/dev/null
	[ "$(det_body .experiment.state)" = COMPLETED ] && break
	sleep 0.1
done
det_api GET "/experiments/$id/slurm" >/dev/null
check_eq "three arrays" 3 "$(det_body '.job_id | split(",") | length')"
check "the experiment completes" wait_exp_state "$id" COMPLETED 60
check_eq "never more than two of its tasks ran at once, over all arrays" 2 "$most"

det submit "$test_dir/five.yaml" "$(tiny_model)" -- -o /dev/null >"$test_dir/submit.out" 2>&1
check_eq "det submit submits two arrays" 2 "$(grep -c '^Submitted Slurm array job' "$test_dir/submit.out")"
id=$(sed -n 's/^Created experiment \([0-9]*\)$/\1/p' "$test_dir/submit.out")
det_api GET "/experiments/$id/slurm" >/dev/null
check "and registers both" grep -Eq '^[0-9]+\+0,[0-9]+\+3$' <<<"$(det_body .job_id)"
check "that experiment completes" wait_exp_state "$id" COMPLETED 60
det_api GET "/experiments/$id/trials" >/dev/null
check_eq "with five distinct trials" "0 1 2 3 4" "$(det_body '[.trials[].trial_index] | sort | map(tostring) | join(" ")')"
tap_done
