#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# MPI launch across nodes as det trials use it: srun --mpi=pmix over two of
# the test cluster's nodes, once plainly and once as a det step, whose
# slurmstepd on each node reports its own node to the master.
. "$(dirname "$0")/lib.sh"
slurm_require
start_listener
export DET_SPANK_ARGS="master=$master auth=none timeout_ms=2000"
slurm_start
tap_plan 5

out=$(timeout 60 srun --mpi=pmix -N2 -n2 bash -c 'echo "$SLURM_PROCID $SLURMD_NODENAME $(hostname)"' 2>&1 | sort)
diag "$out"
check_eq "srun --mpi=pmix -N2 -n2 runs one rank per node" "0 n1|1 n2" \
	"$(awk '{print $1, $2}' <<<"$out" | tr '\n' '|' | sed 's/|$//')"
check "every rank ran hostname" test "$(grep -c " $(hostname)$" <<<"$out")" = 2

: >"$test_dir/posts.jsonl"
timeout 60 srun --mpi=pmix -N2 -n2 --det-experiment=21 --det-pool=cpu-pool --det-slots=2 \
	bash -c 'test "$DET_EXPERIMENT_ID" = 21 && echo "$SLURMD_NODENAME"' >"$test_dir/det.out" 2>&1
check "det step over two nodes: every rank sees DET_EXPERIMENT_ID" test $? = 0
nodes=$(sort "$test_dir/det.out" | tr '\n' ' ')
diag "ranks ran on: $nodes"
check_eq "each node's slurmstepd reports its own node" \
	"$(sort -u "$test_dir/det.out" | sed "s/.*/'&'/" | paste -sd, | sed 's/,/, /g; s/^/[/; s/$/]/')" \
	"$(posts "sorted(p['body']['node'] for p in posts if p['body']['type']=='allocation')")"
check "the two ranks ran on two nodes" test "$(sort -u "$test_dir/det.out" | wc -l)" = 2
tap_done
