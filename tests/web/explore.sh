#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: the experiment page's exploration tools in a real browser
# (tests/web/explore.mjs, Debian's chromium driven by playwright-core) against
# a real det-master whose local resource manager runs
# tests/integration/fake-launch.sh: dragging across a learning curve zooms its
# x axis (kept across polls, reset by its button or Escape, + / - by
# keyboard; a plain click still opens the trial), brushing the
# parallel-coordinates chart filters the master-paged trials table
# (trial_ids), and Fork and Continue create the new experiments; another user
# may fork in the shared default workspace, and gets 404 for an experiment of
# a workspace they have no role in. Skips when chromium or node/npm are missing.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/web/web-lib.sh"

web_start_master
eq "a second user" 200 "$(sock POST /users '{"username": "sam", "password": "sam-pw-123456"}')"

cat >"$work/exp.yaml" <<'YAML'
name: explore-web
entrypoint: x
hyperparameters:
  lr: {type: log, minval: -5, maxval: -1}
  layers: {type: int, minval: 1, maxval: 100}
searcher: {name: random, metric: val_loss, max_trials: 12, max_concurrent_trials: 4, max_length: {batches: 4}}
YAML
exp=$(create_exp "$work/exp.yaml")
cat >"$work/one.yaml" <<'YAML'
name: explore-one
entrypoint: x
hyperparameters:
  lr: 0.01
searcher: {name: single, metric: val_loss, max_length: {batches: 2}}
checkpoint_storage: {save_trial_latest: 10}
YAML
one=$(create_exp "$work/one.yaml")
check "the search completes" wait_state "$exp" COMPLETED 120
check "the one-trial experiment completes" wait_state "$one" COMPLETED 120
# A copy in a workspace sam has no role in: not there for sam.
eq "workspace ws" 200 "$(sock POST /workspaces '{"name": "ws"}')"
ws=$(body .workspace.id)
eq "project ws/p" 200 "$(sock POST "/workspaces/$ws/projects" '{"name": "p"}')"
eq "a paused fork of it in ws/p" 200 "$(sock POST "/experiments/$one/fork" '{"project": "ws/p", "activate": false}')"
hidden=$(body '.experiment.id // .id')
check "... with an id" test "$hidden" -gt 0

BASE_URL=http://127.0.0.1:$port PW_MODULES=$mods CHROMIUM=$chromium \
	PROFILE_DIR=$work/chromium-profile ARTIFACTS=$artifacts EXP_ID=$exp ONE_ID=$one HIDDEN_ID=$hidden ADMIN_PW=$pw \
	web_node_tap 300 "$srcdir/tests/web/explore.mjs" "$work"
stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
