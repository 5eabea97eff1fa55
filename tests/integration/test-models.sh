#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The model registry against a real det-master: det model create, list,
# describe, register-version, list-versions; a registered checkpoint is kept
# when the experiment's save_* policy deletes every other one, and refuses
# deletion; the Python SDK's get_model, Model.register_version and
# ModelVersion.checkpoint.
set -u
. "$(dirname "$0")/master-lib.sh"
start_master
use_det_cli

run model create --description "the classifier" classifier
ok $? "det model create"
run model create classifier
eq "a duplicate model → 1" 1 $?
run model create 'a/b'
eq "a bad name → 1" 1 $?
run model list
grep -q classifier "$work/out"
ok $? "det model list"

# A slow experiment whose policy keeps no checkpoint at all.
cat >"$work/exp.yaml" <<'YAML'
name: registry
entrypoint: python3 train.py
environment: {environment_variables: [FAKE_STEPS=4, FAKE_SLEEP=1]}
checkpoint_storage: {save_experiment_best: 0, save_trial_best: 0, save_trial_latest: 0}
searcher: {name: single, metric: val_loss, max_length: {batches: 4}}
YAML
e=$(create_exp "$work/exp.yaml")
first=
for _ in $(seq 600); do
	sock GET "/experiments/$e/checkpoints" >/dev/null
	first=$(body '.checkpoints[0].uuid // empty')
	[ -n "$first" ] && break
	sleep 0.1
done
check "the experiment's first checkpoint appears" test -n "$first"
run model register-version classifier "$first"
ok $? "det model register-version (while the experiment runs)"
grep -q "version 1" "$work/out"
ok $? "... it is version 1"
run model register-version classifier 00000000-0000-4000-8000-00000000ffff
eq "an unknown checkpoint → 1" 1 $?
run model register-version nope "$first"
eq "an unknown model → 1" 1 $?
check "the experiment completes" wait_state "$e" COMPLETED 60
sock GET "/experiments/$e/checkpoints" >/dev/null
eq "GC deleted every checkpoint but the registered one" "$first" \
	"$(body '[.checkpoints[] | select(.state == "COMPLETED") | .uuid] | join(" ")')"
check "... and the others are deleted" test "$(body '[.checkpoints[] | select(.state == "DELETED")] | length')" -ge 3
gone=$(body '[.checkpoints[] | select(.state == "DELETED")][0].uuid')
eq "a registered checkpoint is not deleted (409)" 409 "$(sock DELETE "/checkpoints/$first")"
eq "a deleted checkpoint cannot be registered (409)" 409 \
	"$(sock POST /models/classifier/versions "{\"checkpoint_uuid\": \"$gone\"}")"
run -o json model describe classifier
eq "det model describe: its versions" "1 $first" "$(jq -r '.versions[0] | "\(.version) \(.checkpoint_uuid)"' "$work/out")"
run model list-versions classifier
grep -q "$first" "$work/out"
ok $? "det model list-versions"

# Forced deletion of a workspace would take the registered checkpoint along: refused.
sock POST /workspaces '{"name": "w"}' >/dev/null
sock POST "/workspaces/$(body .workspace.id)/projects" '{"name": "p"}' >/dev/null
sock POST "/experiments/$e/move" '{"project": "w/p"}' >/dev/null
eq "a workspace holding a model version's checkpoint is not force-deleted" 409 \
	"$(sock DELETE "/workspaces/$(sock GET /projects/$(body .experiment.project_id) >/dev/null; body .project.workspace_id)?force=1")"

# The Python SDK.
PYTHONPATH=$srcdir/launcher/python python3 - "$work/m.sock" "$first" >"$work/sdk.out" 2>&1 <<'PY'
import sys
from determined.experimental import client
client.login(master="unix:" + sys.argv[1])
m = client.get_model("classifier")
v = m.get_version()
assert v.model_version == 1 and v.checkpoint.uuid == sys.argv[2], (v.model_version, v.checkpoint.uuid)
v2 = m.register_version(v.checkpoint)
assert v2.model_version == 2 and v2.checkpoint.uuid == sys.argv[2]
assert [x.model_version for x in m.list_versions()] == [1, 2]
n = client.create_model("other")
assert [x.name for x in client.get_models()] == ["classifier", "other"] and n.get_version() is None
print("sdk ok")
PY
eq "the Python SDK: get_model, get_version, register_version, checkpoint" "sdk ok" "$(tail -n 1 "$work/sdk.out")" ||
	sed 's/^/#   /' "$work/sdk.out" >&2

stop_master
start_master
eq "the registry survives a restart" 2 "$(sock GET /models/classifier >/dev/null; body '.model.versions | length')"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
