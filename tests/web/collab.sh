#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: the Workspaces and Models pages in a real browser (tests/web/collab.mjs,
# Debian's chromium driven by playwright-core) against a real det-master: a
# workspace with a project holding a finished experiment is shown with its
# counts and the experiment's link; its description and notes are edited on
# the experiment page; a checkpoint of it is registered through its Register
# link and the Models page and becomes version 1 in the registry.
# Skips when chromium or node/npm are missing; playwright-core as in run.sh.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/web/web-lib.sh"

web_start_master

sock POST /workspaces '{"name": "team"}' >/dev/null
ws=$(body .workspace.id)
sock POST "/workspaces/$ws/projects" '{"name": "p"}' >/dev/null
cat >"$work/exp.yaml" <<'YAML'
name: collab-web
entrypoint: python3 train.py
environment: {environment_variables: [FAKE_STEPS=2, FAKE_SLEEP=0]}
searcher: {name: single, metric: val_loss, max_length: {batches: 2}}
YAML
jq -n --rawfile c "$work/exp.yaml" '{config: $c, project: "team/p", activate: true}' >"$work/req.json"
eq "an experiment is created in team/p" 200 "$(sock POST /experiments @"$work/req.json")"
exp=$(body .id)
check "it completes" wait_state "$exp" COMPLETED 60
sock GET "/experiments/$exp/checkpoints" >/dev/null
ck=$(body '[.checkpoints[] | select(.state == "COMPLETED")][0].uuid')
check "it has a checkpoint" test -n "$ck" -a "$ck" != null
eq "a model to register into" 200 "$(sock POST /models '{"name": "clf"}')"

BASE_URL=http://127.0.0.1:$port PW_MODULES=$mods CHROMIUM=$chromium \
	PROFILE_DIR=$work/chromium-profile ARTIFACTS=$artifacts EXP_ID=$exp CKPT=$ck ADMIN_PW=$pw \
	web_node_tap 300 "$srcdir/tests/web/collab.mjs" "$work"
sock GET /models/clf >/dev/null
eq "the registry has the checkpoint as version 1" "1 $ck" \
	"$(body '.model.versions[0] | "\(.version) \(.checkpoint_uuid)"')"
stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
