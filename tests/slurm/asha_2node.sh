#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# An adaptive ASHA search whose trials each span two nodes (slots_per_trial 2
# on a cluster whose policy puts one slot on a node, MaxSlotsPerNode=1): two
# trials run at once on the four-node cluster, each array task starts its
# ranks with srun --mpi=pmix, every rank of every trial reports from its own
# node, and the search completes with all its trials.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_policy PoolPartition=default:gpu MaxSlots=4 MaxSlotsPerNode=1 Requeue=yes
tap_plan 6

mkdir -p "$test_dir/ranks" "$test_dir/model"
chmod 777 "$test_dir/ranks"
# The tiny trial, reporting the time metric ASHA reads (batches) with its loss.
sed 's/metrics={"loss": loss}/metrics={"loss": loss, "batches": steps}/' \
	"$(tiny_model)/train.py" >"$test_dir/model/train.py"
grep -q '"batches": steps' "$test_dir/model/train.py" || diag "train.py: no batches metric"
cat >"$test_dir/asha.yaml" <<-YAML
	name: asha-2node
	entrypoint: python3 train.py
	hyperparameters:
	  x: {type: double, minval: 0.0, maxval: 0.6}
	  sleep: 0.05
	  period: 2
	searcher:
	  name: adaptive_asha
	  metric: loss
	  max_trials: 4
	  max_concurrent_trials: 2
	  time_metric: batches
	  max_time: 16
	  divisor: 4
	  max_rungs: 2
	  mode: standard
	resources: {slots_per_trial: 2}
	environment: {environment_variables: [TINY_RANK_DIR=$test_dir/ranks]}
	max_restarts: 0
YAML
det submit "$test_dir/asha.yaml" "$test_dir/model" -- -o "$test_dir/task-%A_%a.out" \
	>"$test_dir/submit.out" 2>&1
check "det submit of a search of 2-slot trials" test $? = 0
id=$(sed -n 's/^Created experiment \([0-9]*\)$/\1/p' "$test_dir/submit.out")
job=$(sed -n 's/^Submitted Slurm array job \([0-9]*\)$/\1/p' "$test_dir/submit.out")
check_eq "each array task asks for two nodes" 2 "$(job_field "$job" NumNodes | cut -d- -f1)"
check "the search completes" wait_exp_state "$id" COMPLETED 150
det_api GET "/experiments/$id/trials" >/dev/null
t=$(det_body '[.trials[] | select(.state == "COMPLETED")] | length')
check_eq "all four trials completed" 4 "$t"
# TINY_RANK_DIR/TRIAL-RANK holds the node each rank ran on.
ranks=$(find "$test_dir/ranks" -type f -printf '%f\n' | sort)
check_eq "both ranks of every trial reported" 8 "$(wc -l <<<"$ranks")"
bad=
for trial in $(sed 's/-.*//' <<<"$ranks" | sort -u); do
	n=$(for r in 0 1; do cat "$test_dir/ranks/$trial-$r"; echo; done 2>/dev/null | sort -u | wc -l)
	[ "$n" = 2 ] || bad="$bad $trial"
done
check_eq "every trial's two ranks ran on two different slurmd nodes" "" "$bad"
[ "$tap_failed" = 0 ] || diag "$(tail -n 20 "$test_dir/master.err"; tail -n 20 "$test_dir"/task-*.out)"
tap_done
