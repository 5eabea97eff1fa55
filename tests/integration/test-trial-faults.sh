#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Faults around a trial, with a real det-master and det-launch: kill -9 of
# the trial process (restart from the latest checkpoint, final weights
# bit-identical to an uninterrupted run); max_restarts exhausted (that trial
# ERROR, the experiment goes on); SIGTERM to det-launch (preemption
# checkpoint, then resume); the master killed and restarted mid-trial (the
# trial carries on and no report is lost).
set -u
. "$(dirname "$0")/trial-lib.sh"
skip_all_unless_ready 24
start_master || exit 1
mkdir -p "$work/fm"
cp "$srcdir/examples/fashion-mnist/README.md" "$work/fm/"
pack "$work/fm" "$work/fm.tgz"

# How long an experiment may take, and a trial may take to start, on a loaded
# machine (the bounds only matter when something is wrong).
long=600
started() { # EXP: its first trial has reported training steps (its loop runs)
	[ "$(trial_json "$1" | jq '.[0].steps_completed // 0')" -gt 0 ]
}

final_sha() { # EXP: SHA-256 of model.bin in the trial's latest checkpoint
	local t uuid
	t=$(trial_json "$1")
	uuid=$(jq -r '.[0].latest_checkpoint' <<<"$t")
	api GET "/checkpoints/$uuid"
	body '.files[] | select(.path == "model.bin") | .sha256'
}

# training NAME: an experiment NAME of 6000 batches (validations every 1000)
# whose trial is training; sets id and dir (det-launch's job directory).
training() {
	fm_config "$1" 6000 >"$work/$1.yaml"
	sed -i 's/validation_period: 100/validation_period: 1000/' "$work/$1.yaml"
	id=$(create_exp "$work/$1.yaml" "$work/fm.tgz")
	wait_for 60 sh -c "ls -d '$HOME'/.det-slurm/run/e$id-t0-pid* >/dev/null 2>&1"
	dir=$(ls -d "$HOME"/.det-slurm/run/e"$id"-t0-pid* | head -n 1)
	wait_for 60 test -e "$dir/assign-0.json"
	wait_for 120 started "$id"
}

# 1. Uninterrupted reference run.
fm_config straight 1500 >"$work/straight.yaml"
id=$(create_exp "$work/straight.yaml" "$work/fm.tgz")
eq "reference run completes" COMPLETED "$(wait_exp "$id" "$long")"
ref=$(final_sha "$id")

# 2. The same trial, its process killed with SIGKILL after its first
# checkpoint. The entrypoint does it to itself on the first run only, so the
# timing is exact: it waits until a new checkpoint directory appears (the
# temporary ones are hidden), then kill -9.
cat >"$work/fm/killer.sh" <<'SH'
if [ -n "$DET_LATEST_CHECKPOINT" ]; then
	exec det-example-fashion-mnist
fi
before=$(ls "$DET_CHECKPOINT_DIR" 2>/dev/null | wc -l)
det-example-fashion-mnist &
p=$!
until [ "$(ls "$DET_CHECKPOINT_DIR" 2>/dev/null | wc -l)" -gt "$before" ]; do sleep 0.01; done
sleep 0.2
kill -9 $p
wait $p
SH
cat >"$work/fm/crash.sh" <<'SH'
case $DET_HPARAMS in *'"crash":1'*) exit 7 ;; esac
exec det-example-fashion-mnist
SH
pack "$work/fm" "$work/fm.tgz"
FM_ENTRYPOINT="[sh, killer.sh]" fm_config killed 1500 "max_restarts: 2" >"$work/killed.yaml"
id=$(create_exp "$work/killed.yaml" "$work/fm.tgz")
eq "the killed trial's experiment completes" COMPLETED "$(wait_exp "$id" "$long")"
t=$(trial_json "$id")
eq "the trial was restarted once" 1 "$(jq '.[0].restarts' <<<"$t")"
tid=$(jq '.[0].id' <<<"$t")
api GET "/trials/$tid/logs"
jq -e '[.logs[] | select(.line | test("^resumed from checkpoint .* at batch [1-9]"))] | length == 1' \
	<"$work/body" >/dev/null
ok $? "the restart resumed from the latest checkpoint"
eq "final weights are bit-identical to the uninterrupted run" "$ref" "$(final_sha "$id")"

# 3. max_restarts exhausted: one trial always crashes, the other completes.
FM_ENTRYPOINT="[sh, crash.sh]" fm_config restarts 200 "max_restarts: 1" >"$work/restarts.yaml"
sed -i -e 's|^  name: single|  name: grid|' \
	-e 's|^hyperparameters:|hyperparameters:\n  crash: {type: categorical, vals: [0, 1]}|' \
	"$work/restarts.yaml"
id=$(create_exp "$work/restarts.yaml" "$work/fm.tgz")
wait_exp "$id" "$long" >/dev/null
t=$(trial_json "$id")
eq "the crashing trial ends in ERROR after max_restarts" "ERROR 1" \
	"$(jq -r '.[] | select(.hparams.crash == 1) | "\(.state) \(.restarts)"' <<<"$t")"
eq "the other trial completes" "COMPLETED 200" \
	"$(jq -r '.[] | select(.hparams.crash == 0) | "\(.state) \(.steps_completed)"' <<<"$t")"

# 4. SIGTERM to det-launch: preemption checkpoint, then the trial resumes.
training preempted
kill -TERM "${dir##*-pid}"
eq "after SIGTERM the trial still completes" COMPLETED "$(wait_exp "$id" "$long")"
t=$(trial_json "$id")
tid=$(jq '.[0].id' <<<"$t")
api GET "/trials/$tid/logs"
jq -e '[.logs[] | select(.line | test("^preempted at batch"))] | length == 1' <"$work/body" >/dev/null
ok $? "the trial saw should_preempt and checkpointed"
jq -e '[.logs[] | select(.line | test("^resumed from checkpoint"))] | length == 1' <"$work/body" >/dev/null
ok $? "it resumed from the preemption checkpoint"
eq "and trained to its full length" 6000 "$(jq '.[0].steps_completed' <<<"$t")"

# 5. The master asks for the preemption (a pause): det-launch's long poll on
# the trial's signals creates the preempt file; activate resumes the trial.
training paused
api POST "/experiments/$id/pause"
wait_for 60 test -e "$dir/preempt-0"
ok $? "pausing the experiment reaches the trial through the signals long poll"
tid=$(jq '.[0].id' <<<"$(trial_json "$id")")
has_line() { # TRIAL REGEX
	api GET "/trials/$1/logs?limit=10000"
	jq -e --arg re "$2" '[.logs[] | select(.line | test($re))] | length > 0' <"$work/body" >/dev/null
}
# The trial learns of the pause from the preempt file ("preempted at batch")
# or, when the pause lands during a validation, from that report's answer
# ("stopping at batch N (preempted)"); it checkpoints and exits either way.
wait_for 60 has_line "$tid" "^(preempted at batch|stopping at batch [0-9]+ [(]preempted[)])"
ok $? "the trial checkpointed and exited"
# Activate once the master has recorded the preempted exit. (Activating
# earlier races with that exit report: the exit body cannot say
# "preempted", so det-launch then leaves the trial to be requeued, which the
# master counts as a restart.)
is_preempted() {
	[ "$(trial_json "$id" | jq -r '.[0].preempted')" = true ]
}
wait_for 60 is_preempted
ok $? "the master recorded the preempted exit"
api POST "/experiments/$id/activate"
eq "after activate the experiment completes" COMPLETED "$(wait_exp "$id" "$long")"
t=$(trial_json "$id")
has_line "$tid" "^resumed from checkpoint"
ok $? "the trial resumed from its preemption checkpoint"
eq "a preemption is not counted as a restart" "0 6000" \
	"$(jq -r '.[0] | "\(.restarts) \(.steps_completed)"' <<<"$t")"

# 6. The master killed with SIGKILL mid-trial and restarted.
fm_config master-restart 4000 >"$work/mr.yaml"
id=$(create_exp "$work/mr.yaml" "$work/fm.tgz")
wait_for 60 sh -c "ls -d '$HOME'/.det-slurm/run/e$id-t0-pid* >/dev/null 2>&1"
dir=$(ls -d "$HOME"/.det-slurm/run/e"$id"-t0-pid* | head -n 1)
wait_for 60 test -e "$dir/assign-0.json"
wait_for 120 started "$id"
stop_master KILL
sleep 1
start_master
eq "the experiment completes across the master restart" COMPLETED "$(wait_exp "$id" "$long")"
t=$(trial_json "$id")
tid=$(jq '.[0].id' <<<"$t")
want=$(seq -s' ' 100 100 4000)
eq "no validation report is missing" "$want" \
	"$(validations "$tid" | jq -r 'map(.steps) | unique | map(tostring) | join(" ")')"
eq "the trial was not restarted" 0 "$(jq '.[0].restarts' <<<"$t")" ||
	diag "$work/master.err" "$work"/state/task-logs/e"$id"-*.log
api GET "/trials/$tid/logs?limit=10000"
eq "no log line is missing (spilled while the master was away, sent later)" 40 \
	"$(jq '[.logs[] | select(.line | test("^batch [0-9]+: validation loss"))] | map(.line) | unique | length' <"$work/body")"

# 7. INVALID_HP: the trial exits early and det-launch claims the replacement.
fm_config invalid 100 >"$work/invalid.yaml"
sed -i -e 's|^  name: single|  name: random\n  max_trials: 2\n  max_concurrent_trials: 1|' \
	-e 's|^  batch_size: 64|  batch_size: {type: categorical, vals: [0, 64]}|' "$work/invalid.yaml"
id=$(create_exp "$work/invalid.yaml" "$work/fm.tgz")
eq "the experiment with invalid hyperparameters completes" COMPLETED "$(wait_exp "$id" "$long")"
t=$(trial_json "$id")
eq "two valid trials completed" 2 \
	"$(jq '[.[] | select(.state == "COMPLETED" and .hparams.batch_size == 64)] | length' <<<"$t")"
n_bad=$(jq '[.[] | select(.hparams.batch_size == 0)] | length' <<<"$t")
eq "the invalid ones ended in ERROR ($n_bad of them), replaced in the same allocation" "true true" \
	"$(jq -r '"\([.[] | select(.hparams.batch_size == 0)] | length > 0) \([.[] | select(.hparams.batch_size == 0) | .state == "ERROR"] | all)"' <<<"$t")"
stop_master
