#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fork and starting checkpoints with the real det-launch and a tiny
# deterministic Python trial (its loss halves at every step and is
# checkpointed): an experiment created with searcher.source_checkpoint_uuid,
# or source_trial_id, reports first the loss its source reached; det
# experiment fork makes a new experiment with the model definition and the
# config overrides, and records its lineage; det experiment continue is a
# fork whose trial starts where the source's trial ended.
set -u
. "$(dirname "$0")/trial-lib.sh"
if [ ! -x "$launch_bin" ] || ! command -v python3 >/dev/null || ! command -v jq >/dev/null; then
	echo "1..0 # SKIP det-launch, python3 and jq are needed"
	exit 0
fi
det=$builddir/cli/det
start_master || exit 1
export DET_MASTER=unix:$work/m.sock DET_AUTH_FILE=$work/auth.json

mkdir -p "$work/model"
cat >"$work/model/train.py" <<'PY'
import json
import pathlib

import determined as det


def main(core):
    info = det.get_cluster_info()
    loss, steps = 1.0, 0
    if info.latest_checkpoint:
        with core.checkpoint.restore_path(info.latest_checkpoint) as path:
            state = json.loads((pathlib.Path(path) / "state.json").read_text())
        loss, steps = state["loss"], state["steps"]
        core.train.report_validation_metrics(steps_completed=steps, metrics={"loss": loss})
    for op in core.searcher.operations():
        while steps < op.length:
            steps += 1
            loss *= 0.5
            core.train.report_validation_metrics(steps_completed=steps, metrics={"loss": loss})
            with core.checkpoint.store_path({"steps_completed": steps}) as (path, uuid):
                (pathlib.Path(path) / "state.json").write_text(
                    json.dumps({"loss": loss, "steps": steps}))
            op.report_progress(steps)
        op.report_completed(loss)


with det.core.init() as core_context:
    main(core_context)
PY
pack "$work/model" "$work/model.tgz"
config() { # NAME LENGTH [SEARCHER-EXTRA]
	printf 'name: %s\nentrypoint: python3 train.py\nmax_restarts: 0\nsearcher: {name: single, metric: loss, max_length: {batches: %s}%s}\n' \
		"$1" "$2" "${3:+, $3}"
}
first_loss() { # TRIAL-ID: the first validation loss it reported
	validations "$1" | jq -r '.[0].metrics.loss'
}
last_loss() {
	validations "$1" | jq -r '.[-1].metrics.loss'
}

echo "1..19"
config source 3 >"$work/a.yaml"
a=$(create_exp "$work/a.yaml" "$work/model.tgz")
eq "the source experiment completes" COMPLETED "$(wait_exp "$a" 120)" || diag "$work/master.err"
t=$(trial_json "$a")
ta=$(jq '.[0].id' <<<"$t")
uuid=$(jq -r '.[0].latest_checkpoint' <<<"$t")
eq "its trial's loss after 3 steps" 0.125 "$(last_loss "$ta")"

config from-uuid 5 "source_checkpoint_uuid: $uuid" >"$work/b.yaml"
b=$(create_exp "$work/b.yaml" "$work/model.tgz")
eq "an experiment from source_checkpoint_uuid completes" COMPLETED "$(wait_exp "$b" 120)" || diag "$work/master.err"
tb=$(trial_json "$b" | jq '.[0].id')
eq "its first reported loss is the loss the source reached" 0.125 "$(first_loss "$tb")"
eq "... and it trains on from there" 0.03125 "$(last_loss "$tb")"

config from-trial 4 "source_trial_id: $ta" >"$work/c.yaml"
c=$(create_exp "$work/c.yaml" "$work/model.tgz")
eq "an experiment from source_trial_id completes" COMPLETED "$(wait_exp "$c" 120)"
tc=$(trial_json "$c" | jq '.[0].id')
eq "its first reported loss is the source trial's last" 0.125 "$(first_loss "$tc")"
api GET "/experiments/$c"
eq "the trial's checkpoint is recorded in its config" "$uuid" "$(body .experiment.config.searcher.source_checkpoint_uuid)"

config bad 2 'source_checkpoint_uuid: 00000000-0000-0000-0000-000000000000' >"$work/d.yaml"
jq -n --rawfile c "$work/d.yaml" '{config: $c}' >"$work/req.json"
api POST /experiments "$work/req.json"
eq "an unknown source checkpoint → 404" 404 "$(cat "$work/status")"

"$det" experiment fork "$a" --config searcher.max_length.batches=2 --config description=forked >"$work/out" 2>"$work/err"
eq "det experiment fork" 0 $?
f=$(sed -n 's/^Created experiment \([0-9]*\) (forked from .*/\1/p' "$work/out")
eq "the fork completes" COMPLETED "$(wait_exp "$f" 120)" || diag "$work/err"
api GET "/experiments/$f"
eq "its lineage: forked from the source" "$a" "$(body .experiment.parent_id)"
eq "the overrides are merged over the source's config" "2 forked loss" \
	"$(body '"\(.experiment.config.searcher.max_length.batches) \(.experiment.config.description) \(.experiment.config.searcher.metric)"')"
"$det" experiment describe "$f" >"$work/out" 2>&1
grep -q "forked from experiment $a" "$work/out"
ok $? "det experiment describe shows the lineage"

"$det" experiment continue "$a" --config searcher.max_length.batches=5 >"$work/out" 2>"$work/err"
eq "det experiment continue" 0 $?
g=$(sed -n 's/^Created experiment \([0-9]*\) (continuing .*/\1/p' "$work/out")
eq "the continuation completes" COMPLETED "$(wait_exp "$g" 120)" || diag "$work/err"
tg=$(trial_json "$g" | jq '.[0].id')
eq "it starts from the loss the source's trial reached" 0.125 "$(first_loss "$tg")"
eq "... and trains to the new length" 0.03125 "$(last_loss "$tg")"
"$det" experiment continue 999 >"$work/out" 2>"$work/err"
eq "continue of an unknown experiment → 1" 1 $?
