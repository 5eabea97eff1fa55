#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Data-parallel throughput of the Fashion-MNIST example: the same global
# batches trained by one rank and by two ranks (libdetcomm averaging the
# gradients), measured in the same run. Prints batches per second for each
# and their ratio (target on a 2-core machine: >= 1.7).
# usage: bench/fm_distributed.sh BUILD_DIR [BATCHES]
set -eu
build=${1:?usage: $0 BUILD_DIR [BATCHES]}
batches=${2:-300}
prog=$build/examples/fashion-mnist/det-example-fashion-mnist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset DET_MASTER DET_LATEST_CHECKPOINT DET_CHECKPOINT_DIR DET_PREEMPT_FILE
export OMPI_MCA_btl_vader_single_copy_mechanism=none OPENBLAS_NUM_THREADS=1
export DET_SEARCHER_LENGTH=$batches
# Validation only at the end and on a small set, so the figure is training.
export DET_HPARAMS='{"learning_rate": 0.02, "hidden1": 512, "hidden2": 256, "batch_size": 256,
 "momentum": 0.9, "weight_decay": 0.0001, "train_examples": 20000, "validation_examples": 200,
 "validation_period": 1000000, "report_period": 100}'

seconds() { # ranks
	local t0 t1
	t0=$(date +%s.%N)
	# Both through mpirun, so both pay the same launch and get the same binding.
	DET_LOCAL_DIR=$work/r$1 mpirun --allow-run-as-root -np "$1" --bind-to core \
		-x DET_HPARAMS -x DET_LOCAL_DIR -x DET_SEARCHER_LENGTH -x OPENBLAS_NUM_THREADS \
		"$prog" >"$work/r$1.out" 2>&1
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

# Data loading is the same for both and is not training: measure it with a
# one-batch run and subtract it.
base1=$(DET_SEARCHER_LENGTH=1 seconds 1)
base2=$(DET_SEARCHER_LENGTH=1 seconds 2)
one=$(seconds 1)
two=$(seconds 2)
python3 - "$batches" "$base1" "$base2" "$one" "$two" <<'PY'
import sys
n, b1, b2, t1, t2 = int(sys.argv[1]), *map(float, sys.argv[2:])
r1, r2 = (n - 1) / max(t1 - b1, 1e-9), (n - 1) / max(t2 - b2, 1e-9)
print("fashion-mnist data parallel, global batch 256, %d batches" % n)
print("  1 rank : %8.1f batches/s" % r1)
print("  2 ranks: %8.1f batches/s" % r2)
print("  ratio  : %8.2f x (target >= 1.70)" % (r2 / r1))
PY
