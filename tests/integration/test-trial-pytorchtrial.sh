#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A PyTorchTrial (tests/python/pt_fixture.py) through a real det-master, the
# local resource manager and det-launch on two ranks (DDP over gloo): started
# with determined.launch.torch_distributed, and in the legacy
# "model_def:TinyTrial" form paused mid-run and activated again. Both ranks end
# with the same weights, and the paused run ends with the weights of the
# uninterrupted one. Skipped without Debian's python3-torch.
set -u
. "$(dirname "$0")/trial-lib.sh"
if ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
	echo "1..0 # SKIP python3-torch is not installed"
	exit 0
fi
skip_all_unless_ready 14
start_master || exit 1
mkdir -p "$work/model" "$work/full" "$work/paused" "$work/killed"
cp "$srcdir/tests/python/pt_fixture.py" "$work/model/model_def.py"
pack "$work/model" "$work/model.tgz"

config() { # NAME ENTRYPOINT OUT-DIR SLEEP [MAX-RESTARTS]
	cat <<YAML
name: $1
entrypoint: $2
resources:
  slots_per_trial: 2
hyperparameters:
  lr: 0.1
  global_batch_size: 16
  min_validation_period: 10
searcher:
  name: single
  metric: validation_loss
  max_length:
    batches: 40
max_restarts: ${5:-0}
reproducibility:
  experiment_seed: 1234
data:
  source: generated
  records: 200
environment:
  environment_variables:
    - FIXTURE_OUT=$3
    - FIXTURE_SLEEP=$4
    - OMP_NUM_THREADS=1
    - PATH=/usr/bin:/bin
YAML
}

config full "[/usr/bin/python3, -m, determined.launch.torch_distributed, /usr/bin/python3, model_def.py]" \
	"$work/full" 0 >"$work/full.yaml"
show_logs() { # TRIAL-ID: its last log lines as TAP comments
	api GET "/trials/$1/logs?limit=10000"
	jq -r '.logs[] | "\(.rank) \(.line)"' <"$work/body" | tail -n 30 | sed 's/^/#   /'
}

id=$(create_exp "$work/full.yaml" "$work/model.tgz")
eq "the two-rank PyTorchTrial through torch_distributed completes" COMPLETED "$(wait_exp "$id" 300)"
tid=$(trial_json "$id" | jq '.[0].id')
[ "$(trial_json "$id" | jq -r '.[0].state')" = COMPLETED ] || show_logs "$tid"
eq "validations at 10, 20, 30 and 40 batches" "10 20 30 40" \
	"$(validations "$tid" | jq -r 'map(.steps | tostring) | join(" ")')"
cmp -s "$work/full/weights-0.bin" "$work/full/weights-1.bin"
ok $? "both ranks end with bitwise-identical weights"
# The Python SDK: the experiment's top checkpoint, downloaded and loaded,
# holds the final weights; an experiment created through the SDK completes.
cat >"$work/sdk.py" <<'PY'
import os, sys
import determined.pytorch as dpt
from determined.experimental import client
work, exp_id = sys.argv[1], int(sys.argv[2])
client.login(master="unix:" + os.path.join(work, "m.sock"))
exp = client.get_experiment(exp_id)
assert exp.state == "COMPLETED", exp.state
assert [t.state for t in exp.list_trials()] == ["COMPLETED"]
path = exp.top_checkpoint().download(os.path.join(work, "dl"))
sys.path.insert(0, os.path.join(work, "model"))
import model_def
trial = dpt.load_trial_from_checkpoint_path(path, trial_class=model_def.TinyTrial)
with open(os.path.join(work, "full", "weights-0.bin"), "rb") as f:
    assert model_def.weights_bytes(trial.model) == f.read(), "weights differ"
config = {"name": "sdk", "entrypoint": "model_def:TinyTrial",
          "hyperparameters": {"lr": 0.1, "global_batch_size": 8},
          "searcher": {"name": "single", "metric": "validation_loss",
                       "max_length": {"batches": 5}},
          "environment": {"environment_variables": ["PATH=/usr/bin:/bin", "OMP_NUM_THREADS=1"]}}
new = client.create_experiment(config, os.path.join(work, "model"))
assert new.wait(interval=0.5, timeout=240) == "COMPLETED"
print("sdk ok")
PY
eq "the SDK downloads the top checkpoint, which loads to the final weights; its experiments complete" \
	"sdk ok" "$(PYTHONPATH="$srcdir/launcher/python" /usr/bin/python3 "$work/sdk.py" "$work" "$id" 2>&1 | tail -n 3)"
eq "ClusterInfo.user_data is the config's data section" '{"records": 200, "source": "generated"}' \
	"$(cat "$work/full/user_data.json")"

config paused model_def:TinyTrial "$work/paused" 0.2 >"$work/paused.yaml"
id=$(create_exp "$work/paused.yaml" "$work/model.tgz")
tid=
has_validation() {
	tid=$(trial_json "$id" | jq '.[0].id // empty')
	[ -n "$tid" ] && [ "$(validations "$tid" | jq length)" -ge 1 ]
}
wait_for 120 has_validation
api POST "/experiments/$id/pause" >/dev/null
paused_at() { # the checkpoint the pause left, once the trial has stopped
	api GET "/experiments/$id/trials"
	[ "$(body '.trials[0].state')" = PAUSED ] && [ "$(body '.trials[0].latest_checkpoint // empty')" != "" ] || return 1
	api GET "/checkpoints/$(body '.trials[0].latest_checkpoint')"
	body .steps_completed
}
# activate only once the master has recorded the preempted exit (see test-trial-faults.sh)
is_preempted() {
	[ "$(trial_json "$id" | jq -r '.[0].preempted')" = true ]
}
wait_for 120 paused_at >/dev/null
wait_for 120 is_preempted
steps=$(paused_at)
[ -n "$steps" ] && [ "$steps" -ge 10 ] && [ "$steps" -lt 40 ] && [ ! -e "$work/paused/weights-0.bin" ]
ok $? "the legacy-form trial paused mid-run with a checkpoint at batch $steps"
api POST "/experiments/$id/activate" >/dev/null
eq "activated again, it completes" COMPLETED "$(wait_exp "$id" 300)" || show_logs "$tid"
resumed_ranks() {
	api GET "/trials/$tid/logs?limit=10000"
	[ "$(jq "[.logs[] | select(.line | test(\"resumed from checkpoint .* at batch $steps\"))] | length" <"$work/body")" = 2 ]
}
wait_for 60 resumed_ranks
ok $? "both ranks resumed from the pause's checkpoint"
if cmp -s "$work/full/weights-0.bin" "$work/paused/weights-0.bin" &&
	cmp -s "$work/full/weights-1.bin" "$work/paused/weights-1.bin"; then
	ok 0 "paused and resumed, the weights equal the uninterrupted run's"
else
	ok 1 "paused and resumed, the weights equal the uninterrupted run's"
	ls -l "$work/paused" | sed 's/^/#   /'
	show_logs "$tid"
fi

# One rank killed with SIGKILL after the first validation (checkpoint policy
# "best" left one there): the trial restarts from that checkpoint and still
# ends with the uninterrupted run's weights.
config killed model_def:TinyTrial "$work/killed" 0.2 1 >"$work/killed.yaml"
id=$(create_exp "$work/killed.yaml" "$work/model.tgz")
has_checkpoint() {
	[ "$(trial_json "$id" | jq -r '.[0].latest_checkpoint // empty')" != "" ]
}
wait_for 120 has_validation
wait_for 120 has_checkpoint
kill -KILL "$(cat "$work/killed/pid-1")"
eq "one rank killed, the trial restarts once and completes" "COMPLETED 1" \
	"$(wait_exp "$id" 300) $(trial_json "$id" | jq -r '.[0].restarts')"
api GET "/trials/$tid/logs?limit=10000"
eq "both ranks of the restart resumed from a checkpoint" 2 \
	"$(jq '[.logs[] | select(.line | test("resumed from checkpoint"))] | length' <"$work/body")"
if cmp -s "$work/full/weights-0.bin" "$work/killed/weights-0.bin" &&
	cmp -s "$work/full/weights-1.bin" "$work/killed/weights-1.bin"; then
	ok 0 "killed and restarted, the weights equal the uninterrupted run's"
else
	ok 1 "killed and restarted, the weights equal the uninterrupted run's"
	show_logs "$tid"
fi

# An adaptive ASHA search over the PyTorchTrial (one slot a trial): ASHA's
# stops reach the Trainer through the metrics answer, and every trial ends at
# a rung (the Trainer reports "batches" with each validation).
mkdir -p "$work/asha"
cat >"$work/asha.yaml" <<YAML
name: asha
entrypoint: [/usr/bin/python3, -m, determined.launch.torch_distributed, /usr/bin/python3, model_def.py]
hyperparameters:
  lr:
    type: double
    minval: 0.01
    maxval: 0.5
  global_batch_size: 16
searcher:
  name: adaptive_asha
  metric: validation_loss
  max_trials: 4
  max_concurrent_trials: 2
  time_metric: batches
  max_time: 40
  divisor: 4
  max_rungs: 2
  mode: standard
max_restarts: 0
environment:
  environment_variables:
    - FIXTURE_OUT=$work/asha
    - OMP_NUM_THREADS=1
    - PATH=/usr/bin:/bin
YAML
id=$(create_exp "$work/asha.yaml" "$work/model.tgz")
eq "the ASHA search over the PyTorchTrial completes" COMPLETED "$(wait_exp "$id" 300)"
eq "its 4 trials completed, each at a rung (10 or 40 batches)" "4 0" \
	"$(trial_json "$id" | jq -r '"\([.[] | select(.state == "COMPLETED")] | length) \([.[] | .steps_completed as $s | select([10, 40] | index($s) | not)] | length)"')"
stop_master
