#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A trial with slots_per_trial 2 on a cluster whose policy puts one slot on
# a node (MaxSlotsPerNode=1): det submit's batch script starts det-launch
# under srun --mpi=pmix, one rank per node, and the trial completes with
# both ranks having run, each on its own node.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_policy PoolPartition=default:gpu MaxSlots=4 MaxSlotsPerNode=1 Requeue=yes
tap_plan 5

mkdir -p "$test_dir/ranks"
chmod 777 "$test_dir/ranks"
sed -e 's/vals: \[0.1, 0.2, 0.3, 0.4\]/vals: [0.1]/' \
	-e "s|^max_restarts: 1\$|max_restarts: 0\nresources: {slots_per_trial: 2}\nenvironment: {environment_variables: [TINY_RANK_DIR=$test_dir/ranks]}|" \
	"$(tiny_model)/grid.yaml" >"$test_dir/dist.yaml"
det submit "$test_dir/dist.yaml" "$(tiny_model)" -- -o "$test_dir/task-%A_%a.out" >"$test_dir/submit.out" 2>&1
check "det submit of a 2-slot trial" test $? = 0
id=$(sed -n 's/^Created experiment \([0-9]*\)$/\1/p' "$test_dir/submit.out")
job=$(sed -n 's/^Submitted Slurm array job \([0-9]*\)$/\1/p' "$test_dir/submit.out")
check_eq "the array task asks for two nodes" 2 "$(job_field "$job" NumNodes | cut -d- -f1)"
check "the experiment completes" wait_exp_state "$id" COMPLETED 60
check_eq "both ranks ran" 2 "$(find "$test_dir/ranks" -type f | wc -l)"
check_eq "on two different nodes" 2 "$(for f in "$test_dir"/ranks/*; do cat "$f"; echo; done | sort -u | wc -l)"
tap_done
