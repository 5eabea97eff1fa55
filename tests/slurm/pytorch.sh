#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Determined's PyTorch tutorial CNN as a PyTorchTrial (examples/pytorch/
# model_def.py, unmodified, on Fashion-MNIST) on the test cluster, whose
# policy puts one slot on a node (MaxSlotsPerNode=1): started by
# determined.launch.torch_distributed and in the legacy model_def:Trial form,
# on one and on two slots, all complete. The two-slot trials run one rank on
# each of two slurmd nodes; a probe on the trial's PYTHONPATH
# (tests/slurm/torch/sitecustomize.py) records from inside each rank its
# Slurm node and torch.distributed variables (MASTER_ADDR: the address at
# which rank 0's node reached srun; gloo's interface: the one toward it),
# and its weights at the end, which DDP keeps bitwise-identical. An
# adaptive ASHA search over the PyTorchTrial completes with every trial at
# a rung; the Python SDK downloads its best checkpoint and
# det.pytorch.load_trial_from_checkpoint_path gives a trial that reproduces
# that checkpoint's validation accuracy. About 35 s on an idle machine.
# (All nodes of the test cluster are this machine: their hostnames are the
# same, and the nccl/GPU path is not exercised.)
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || skip_all "python3-torch is not installed"
[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
	skip_all "dataset-fashion-mnist is not installed"
slurm_start_with_policy PoolPartition=default:gpu MaxSlots=4 MaxSlotsPerNode=1 MaxArrayThrottle=4 Requeue=yes
tap_plan 22
top_srcdir=$(cd "$slurm_tests_dir/../.." && pwd)
mkdir -p "$test_dir/model" "$test_dir/probe"
cp "$top_srcdir/examples/pytorch/model_def.py" "$test_dir/model/"
cp "$slurm_tests_dir/torch/sitecustomize.py" "$test_dir/probe/"

# config NAME ENTRYPOINT SLOTS [SEARCHER [LEARNING-RATE]]: a small run of the tutorial CNN;
# the probe writes into $test_dir/out-NAME.
config() {
	mkdir -p "$test_dir/out-$1"
	cat <<YAML
name: $1
entrypoint: $2
resources:
  slots_per_trial: $3
hyperparameters:
  learning_rate: ${5:-1.0}
  global_batch_size: 32
  n_filters1: 4
  n_filters2: 8
  dropout1: 0.25
  dropout2: 0.5
  train_examples: 640
  validation_examples: 256
  min_validation_period: 10
searcher:
${4:-"  name: single
  metric: validation_loss
  max_length:
    batches: 20"}
max_restarts: 0
environment:
  environment_variables:
    - PATH=/usr/bin:/bin
    - OMP_NUM_THREADS=1
    - VALIDATION_PERIOD=10
    - PYTHONPATH=$test_dir/probe
    - PROBE_OUT=$test_dir/out-$1
YAML
}

# submit NAME CONFIG-ARGS...: det submit; the experiment id
submit() {
	local name=$1
	shift
	config "$name" "$@" >"$test_dir/$name.yaml"
	det submit "$test_dir/$name.yaml" "$test_dir/model" -- -o "$test_dir/$name-%A_%a.out" \
		>"$test_dir/$name.submit" 2>&1
	sed -n 's/^Created experiment \([0-9]*\)$/\1/p' "$test_dir/$name.submit"
}

# The last lines of an experiment's task output, as TAP comments.
show_output() {
	tail -n 25 "$test_dir/$1"-*.out 2>/dev/null | sed 's/^/#   /'
}

td="python3 -m determined.launch.torch_distributed python3 model_def.py"
asha="  name: adaptive_asha
  metric: validation_loss
  max_trials: 4
  max_concurrent_trials: 2
  time_metric: batches
  max_time: 40
  divisor: 4
  max_rungs: 2
  mode: standard"
lr='{type: log, base: 10, minval: -1, maxval: 0.3}'
# Everything at once: the cluster has 8 slots, these need 6 at a time.
e_td1=$(submit td1 "$td" 1)
e_td2=$(submit td2 "$td" 2)
e_lg1=$(submit legacy1 model_def:FashionMNISTTrial 1)
e_lg2=$(submit legacy2 model_def:FashionMNISTTrial 2)
e_asha=$(submit asha "$td" 1 "$asha" "$lr")
check "every experiment was submitted" test -n "$e_td1" -a -n "$e_td2" -a -n "$e_lg1" \
	-a -n "$e_lg2" -a -n "$e_asha"

for x in td1:"$e_td1" td2:"$e_td2" legacy1:"$e_lg1" legacy2:"$e_lg2"; do
	name=${x%%:*}
	id=${x#*:}
	if wait_exp_state "$id" COMPLETED 300; then
		ok "$name: the trial completes"
	else
		not_ok "$name: the trial completes"
		show_output "$name"
	fi
	det_api GET "/experiments/$id/trials" >/dev/null
	tid=$(det_body '.trials[0].id')
	det_api GET "/trials/$tid/metrics?group=validation&limit=100" >/dev/null
	check_eq "$name: validations at 10 and 20 batches" "10 20" \
		"$(det_body '[.metrics[].steps_completed | tostring] | join(" ")')"
done

# From inside the ranks of the two-slot trials.
rank_env() { # NAME RANK KEY
	jq -r ".$3" "$test_dir/out-$1/env-$2.json" 2>/dev/null
}
for name in td2 legacy2; do
	n0=$(rank_env "$name" 0 SLURMD_NODENAME)
	n1=$(rank_env "$name" 1 SLURMD_NODENAME)
	check "$name: the two ranks ran on two slurmd nodes ($n0, $n1)" \
		test -n "$n0" -a "$n0" != null -a -n "$n1" -a "$n1" != null -a "$n0" != "$n1"
	check_eq "$name: RANK LOCAL_RANK WORLD_SIZE LOCAL_WORLD_SIZE GROUP_RANK as torch saw them" \
		"0 0 2 1 0 0;1 0 2 1 1 1" \
		"$(for r in 0 1; do jq -r '[.RANK, .LOCAL_RANK, .WORLD_SIZE, .LOCAL_WORLD_SIZE,
			.GROUP_RANK, .torch_rank] | join(" ")' "$test_dir/out-$name/env-$r.json" 2>/dev/null
			done | paste -sd';')"
	a0=$(rank_env "$name" 0 MASTER_ADDR)
	p0=$(rank_env "$name" 0 MASTER_PORT)
	check "$name: MASTER_ADDR and MASTER_PORT agree ($a0:$p0), the address is where srun was reached on rank 0's node" \
		test -n "$a0" -a "$a0" = "$(rank_env "$name" 1 MASTER_ADDR)" \
		-a "$a0" = "$(rank_env "$name" 0 SLURM_LAUNCH_NODE_IPADDR)" \
		-a -n "$p0" -a "$p0" = "$(rank_env "$name" 1 MASTER_PORT)"
	# the interface holding MASTER_ADDR (this machine is every node)
	want=$(ip -o addr show 2>/dev/null | awk -v a="$a0" '{split($4, x, "/"); if (x[1] == a) { print $2; exit }}')
	check_eq "$name: gloo's interface on both ranks is the one toward MASTER_ADDR" "$want $want" \
		"$(rank_env "$name" 0 GLOO_SOCKET_IFNAME) $(rank_env "$name" 1 GLOO_SOCKET_IFNAME)"
	check "$name: both ranks end with bitwise-identical weights" \
		cmp -s "$test_dir/out-$name/weights-0.bin" "$test_dir/out-$name/weights-1.bin"
done

if wait_exp_state "$e_asha" COMPLETED 400; then
	ok "the ASHA search over the PyTorchTrial completes"
else
	not_ok "the ASHA search over the PyTorchTrial completes"
	show_output asha
fi
det_api GET "/experiments/$e_asha/trials" >/dev/null
check_eq "its 4 trials completed, each at a rung (10 or 40 batches)" "4 0" \
	"$(det_body '"\([.trials[] | select(.state == "COMPLETED")] | length) \([.trials[] |
		.steps_completed as $s | select([10, 40] | index($s) | not)] | length)"')"

# The SDK: the best checkpoint, downloaded and loaded, validates to the
# accuracy its trial reported at that checkpoint.
cat >"$test_dir/sdk.py" <<'PY'
import os, sys
import torch
import determined.pytorch as dpt
from determined.experimental import client
work, exp_id = sys.argv[1], int(sys.argv[2])
client.login(master="unix:" + os.path.join(work, "m.sock"))
ckpt = client.get_experiment(exp_id).top_checkpoint()
path = ckpt.download(os.path.join(work, "best"))
trial_id = ckpt._full()["trial_id"]
reported = [m["metrics"]["accuracy"] for m in client.get_trial(trial_id).iter_metrics()
            if m["steps_completed"] == ckpt.steps_completed]
sys.path.insert(0, os.path.join(work, "model"))
torch.set_num_threads(1)
trial = dpt.load_trial_from_checkpoint_path(path)
loader = trial.build_validation_data_loader().get_eval_loader(rank=0, size=1)
with torch.no_grad():
    acc = [trial.evaluate_batch(b)["accuracy"] for b in loader]
mine = sum(acc) / len(acc)
print(f"reported {reported} at batch {ckpt.steps_completed}, loaded {mine}")
assert len(reported) == 1 and abs(reported[0] - mine) < 1e-6, "accuracy differs"
print("sdk ok")
PY
out=$(PYTHONPATH="$top_srcdir/launcher/python" /usr/bin/python3 "$test_dir/sdk.py" "$test_dir" "$e_asha" 2>&1)
diag "$(tail -n 5 <<<"$out")"
check_eq "the SDK's best checkpoint, loaded, reproduces its validation accuracy" "sdk ok" \
	"$(tail -n 1 <<<"$out")"
tap_done
