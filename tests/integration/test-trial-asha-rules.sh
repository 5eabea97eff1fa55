#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A 16-trial adaptive_asha experiment (two brackets, 4 at once) run by a real
# det-master and det-launch, with a Core API training script whose validation
# loss is a fixed function of its hyperparameters and steps; trials whose
# "crash" hyperparameter is small exit 3 after their first report (an ERRORED
# trial, max_restarts 0). Each trial logs what the master answered to each
# report. Afterwards every validation report is replayed, in the order the
# master stored it (row ids; failed exits at their ended_at), through
# asha_rules.py, the rules of doc/searchers.md written again for this test:
# each answer the master gave must be the rules' decision, no trial may report
# after a stop, and each trial must have ended exactly where the rules stop it.
set -u
. "$(dirname "$0")/trial-lib.sh"
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
skip_all_unless_ready 8
ok "$(python3 "$srcdir/tests/integration/asha_rules.py" self-test >&2; echo $?)" \
	"the test's own ASHA rules pass their self-test"
start_master || exit 1

mkdir -p "$work/asha"
cat >"$work/asha/train.py" <<'PY'
import sys
import time

import determined as det

with det.core.init() as core:
    hp = det.get_cluster_info().trial.hparams
    a, b, period = hp["a"], hp["b"], int(hp["period"])
    length = next(iter(core.searcher.operations())).length
    for steps in range(1, length + 1):
        time.sleep(0.06)
        if steps % period and steps != length:
            continue
        core.train.report_validation_metrics(
            steps_completed=steps, metrics={"validation_loss": a + b / steps, "batches": steps})
        stop = core.preempt.should_preempt()
        print(f"asha-check: validation at {steps}: {'stop' if stop else 'continue'}", flush=True)
        if hp["crash"] < 0.3:
            sys.exit(3)
        if stop:
            break
PY
cat >"$work/asha.yaml" <<'YAML'
name: asha-rules
entrypoint: python3 train.py
hyperparameters:
  a: {type: double, minval: 0, maxval: 1}
  b: {type: double, minval: 0, maxval: 8}
  period: {type: categorical, vals: [2, 3, 5, 9]}
  crash: {type: double, minval: 0, maxval: 1}
searcher:
  name: adaptive_asha
  metric: validation_loss
  smaller_is_better: true
  max_trials: 16
  max_concurrent_trials: 4
  time_metric: batches
  max_time: 16
  divisor: 2
  max_rungs: 3
  mode: standard
max_restarts: 0
reproducibility: {experiment_seed: 7}
YAML
cat >"$work/params.json" <<'JSON'
{"divisor": 2, "max_rungs": 3, "max_time": 16, "max_trials": 16, "mode": "standard",
 "metric": "validation_loss", "time_metric": "batches", "smaller_is_better": true}
JSON
pack "$work/asha" "$work/asha.tgz"
t0=$(date +%s)
id=$(create_exp "$work/asha.yaml" "$work/asha.tgz")
state=$(wait_exp "$id" 120)
check_state() { case $1 in COMPLETED | ERROR) return 0 ;; esac; return 1; }
check_state "$state"
ok $? "the ASHA experiment ends ($state, $(($(date +%s) - t0)) s)"

t=$(trial_json "$id")
echo "$t" >"$work/trials.json"
eq "all 16 planned trials ran" 16 "$(jq 'length' <<<"$t")"
n_err=$(jq '[.[] | select(.state == "ERROR")] | length' <<<"$t")
n_done=$(jq '[.[] | select(.state == "COMPLETED")] | length' <<<"$t")
[ "$n_err" -ge 1 ] && [ $((n_err + n_done)) = 16 ]
ok $? "the crashing trials ended ERROR ($n_err), the others COMPLETED ($n_done)"

# Every validation row and what each trial logged it was told.
echo '[]' >"$work/rows.json"
echo '{}' >"$work/answers.json"
for tid in $(jq '.[].id' <<<"$t"); do
	api GET "/trials/$tid/metrics?group=validation&limit=10000"
	jq -s '.[0] + .[1].metrics' "$work/rows.json" "$work/body" >"$work/rows.tmp" &&
		mv "$work/rows.tmp" "$work/rows.json"
	api GET "/trials/$tid/logs?limit=10000"
	jq --arg t "$tid" --slurpfile l "$work/body" '.[$t] = [$l[0].logs[].line
		| capture("asha-check: validation at [0-9]+: (?<a>stop|continue)") | .a]' \
		"$work/answers.json" >"$work/answers.tmp" && mv "$work/answers.tmp" "$work/answers.json"
done
nrows=$(jq 'length' "$work/rows.json")
nans=$(jq '[.[] | length] | add' "$work/answers.json")
[ "$nrows" -ge 16 ] && [ "$nrows" = "$nans" ]
ok $? "every validation report was stored and answered ($nrows reports, $nans answers logged)"

python3 "$srcdir/tests/integration/asha_rules.py" check "$work/params.json" "$work/trials.json" \
	"$work/rows.json" "$work/answers.json" >"$work/replay.out" 2>&1
rc=$?
ok $rc "replayed in the master's order, every answer is the rules' decision and every trial stopped where the rules stop it"
diag "$work/replay.out"
n_early=$(jq '[.[] | select(.state == "COMPLETED" and .steps_completed < 16)] | length' <<<"$t")
n_full=$(jq '[.[] | select(.steps_completed == 16)] | length' <<<"$t")
[ "$n_early" -ge 1 ] && [ "$n_full" -ge 1 ]
ok $? "some trials were stopped early ($n_early), some trained to the end ($n_full)"
grep -q "failed$" "$work/replay.out" && grep -q "stop$" "$work/replay.out"
ok $? "the replay saw failed trials and stop decisions"
stop_master
