#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The examples off-cluster, as TAP: the C Fashion-MNIST program trains and
# resumes bit-identically from its own checkpoint; the plain-Python Core API
# example runs. Skipped when Debian's dataset-fashion-mnist is not installed.
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${top_builddir:-$top}
prog=$build/examples/fashion-mnist/det-example-fashion-mnist
data=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
echo "1..5"
if [ ! -r "$data/train-images-idx3-ubyte.gz" ]; then
	for i in 1 2 3 4 5; do echo "ok $i # SKIP dataset-fashion-mnist is not installed"; done
	exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset DET_MASTER DET_LATEST_CHECKPOINT DET_CHECKPOINT_DIR DET_PREEMPT_FILE
export OPENBLAS_NUM_THREADS=1
export DET_HPARAMS='{"learning_rate": 0.05, "hidden1": 32, "batch_size": 32, "momentum": 0.9,
 "weight_decay": 0.0001, "train_examples": 2000, "validation_examples": 500,
 "validation_period": 20, "report_period": 10}'

last_ckpt() { # the uuid of the checkpoint at batch $2 under local dir $1
	grep -l "\"steps_completed\": $2," "$1"/checkpoints/*/metadata.json | head -n 1 | xargs dirname
}

# 1: straight to 40 batches
DET_LOCAL_DIR=$work/a DET_SEARCHER_LENGTH=40 "$prog" >"$work/a.out" 2>&1 &&
	grep -q "batch 40: validation loss" "$work/a.out" &&
	[ "$(grep -c '"group":"validation"' "$work/a/metrics.jsonl")" = 2 ] &&
	echo "ok 1 - fashion-mnist trains off-cluster and reports validations" ||
	{ echo "not ok 1 - fashion-mnist trains off-cluster and reports validations"; cat "$work/a.out"; }

# 2: 20 batches, then resume from that checkpoint to 40: the weights must be identical
ok=0
if DET_LOCAL_DIR=$work/b DET_SEARCHER_LENGTH=20 "$prog" >"$work/b1.out" 2>&1; then
	mid=$(basename "$(last_ckpt "$work/b" 20)")
	if DET_LOCAL_DIR=$work/b DET_SEARCHER_LENGTH=40 DET_LATEST_CHECKPOINT=$mid "$prog" \
		>"$work/b2.out" 2>&1 && grep -q "resumed from checkpoint $mid at batch 20" "$work/b2.out" &&
		cmp "$(last_ckpt "$work/a" 40)/model.bin" "$(last_ckpt "$work/b" 40)/model.bin"; then
		ok=1
	fi
fi
[ $ok = 1 ] && echo "ok 2 - fashion-mnist resumed from a checkpoint ends bit-identical" ||
	{ echo "not ok 2 - fashion-mnist resumed from a checkpoint ends bit-identical"; cat "$work"/b*.out; }

# example DIR PYTHON SCRIPT [VAR=VALUE...]: the Python example SCRIPT (under
# examples/) off-cluster for 20 batches, its local directory $work/DIR, its
# output in $work/DIR.out, with the environment given on top.
example() {
	dir=$1 py=$2 script=$3
	shift 3
	(cd "$work" && env DET_LOCAL_DIR="$work/$dir" DET_SEARCHER_LENGTH=20 DET_HPARAMS= \
		PYTHONPATH="$top/launcher/python" PYTHONDONTWRITEBYTECODE=1 "$@" \
		"$py" "$top/examples/$script" >"$work/$dir.out" 2>&1)
}
# result STATUS N NAME OUTPUT: TAP point N from STATUS, OUTPUT after a failure.
result() {
	if [ "$1" = 0 ]; then
		echo "ok $2 - $3"
	else
		echo "not ok $2 - $3"
		cat "$4"
	fi
}

# 3: the plain-Python Core API example
example py python3 python-core-api/train.py && grep -q '"validation_accuracy"' "$work/py/metrics.jsonl"
result $? 3 "the plain-Python Core API example runs off-cluster" "$work/py.out"

# 4: the PyTorch example (Debian's python3-torch runs on /usr/bin/python3)
if ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
	echo "ok 4 # SKIP python3-torch is not installed"
else
	example pt /usr/bin/python3 pytorch/train.py && grep -q '"test_accuracy"' "$work/pt/metrics.jsonl"
	result $? 4 "the PyTorch example runs off-cluster" "$work/pt.out"
fi

# 5: the PyTorchTrial example, off-cluster, small
if ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
	echo "ok 5 # SKIP python3-torch is not installed"
else
	example ptt /usr/bin/python3 pytorch/model_def.py VALIDATION_PERIOD=10 \
		DET_HPARAMS='{"train_examples": 2000, "validation_examples": 500}' &&
		[ "$(grep -c '"group": "validation"' "$work/ptt/metrics.jsonl")" = 2 ]
	result $? 5 "the PyTorchTrial example runs off-cluster" "$work/ptt.out"
fi
