#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A 2-rank trial on one node: det-launch pins each srun task to its share of
# the step's CPUs. Each rank's Cpus_allowed_list lies inside the step's set
# and, with at least two CPUs, the two ranks' sets are disjoint. This test
# cluster runs TaskPlugin=task/none (no cgroup cpuset, no Slurm binding), so
# the step's set is the CPU set slurmd itself runs with: this script's.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_policy PoolPartition=default:cpu:cpu MaxSlots=4 MaxSlotsPerNode=0
tap_plan 5

mkdir -p "$test_dir/env"
chmod 777 "$test_dir/env"
sed -e 's/vals: \[0.1, 0.2, 0.3, 0.4\]/vals: [0.1]/' \
	-e "s|^max_restarts: 1\$|max_restarts: 0\nresources: {slots_per_trial: 2}\nenvironment: {environment_variables: [TINY_ENV_DIR=$test_dir/env]}|" \
	"$(tiny_model)/grid.yaml" >"$test_dir/pin.yaml"
det submit "$test_dir/pin.yaml" "$(tiny_model)" -- -w n1 -o "$test_dir/task-%A_%a.out" \
	>"$test_dir/submit.out" 2>&1
check "det submit of a 2-rank trial onto n1" test $? = 0
id=$(sed -n 's/^Created experiment \([0-9]*\)$/\1/p' "$test_dir/submit.out")
check "the experiment completes" wait_exp_state "$id" COMPLETED 90
check_eq "both ranks reported their CPUs" 2 "$(find "$test_dir/env" -type f | wc -l)"

step_cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
# "0-1,3" -> one CPU number a line
expand() {
	local part
	for part in ${1//,/ }; do
		if [[ $part == *-* ]]; then seq "${part%-*}" "${part#*-}"; else echo "$part"; fi
	done
}
inside=0 ranks=()
for f in "$test_dir"/env/*; do
	cpus=$(cut -d' ' -f4 "$f")
	ranks+=("$cpus")
	diag "${f##*/}: Cpus_allowed_list $cpus (step: $step_cpus)"
	[ -z "$(comm -23 <(expand "$cpus" | sort -u) <(expand "$step_cpus" | sort -u))" ] &&
		inside=$((inside + 1))
done
check_eq "each rank's CPUs are inside the step's set" 2 "$inside"
if [ "$(expand "$step_cpus" | wc -l)" -ge 2 ]; then
	check_eq "the two ranks' CPU sets are disjoint" "" \
		"$(comm -12 <(expand "${ranks[0]}" | sort -u) <(expand "${ranks[1]}" | sort -u))"
else
	ok "one CPU only: both ranks share it (nothing to split)"
fi
tap_done
