#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: starting notebooks and TensorBoards from the web UI
# (tests/web/notebook.mjs in headless Chromium) against a real det-master:
# the Tasks page's "New notebook" dialog starts a real Jupyter that becomes
# RUNNING and loads through /proxy/ID/ with the browser's session cookie, and
# Kill ends it; "Launch TensorBoard" on an experiment's page and on selected
# trials makes a task whose page shows why it ended (no tensorboard here).
# Skips when chromium, node/npm or jupyter are missing.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! [ -x /usr/bin/jupyter ]; then
	echo "1..0 # SKIP jupyter is not installed"
	exit 0
fi
. "$srcdir/tests/web/web-lib.sh"

printf 'notebook_launcher: %s\n' "$srcdir/share/det-notebook-launch" >"$work/master.yaml"
web_start_master --config "$work/master.yaml"

cat >"$work/exp.yaml" <<'YAML'
name: notebook-web
entrypoint: x
hyperparameters:
  lr: {type: log, minval: -5, maxval: -1}
searcher: {name: random, metric: val_loss, max_trials: 2, max_length: {batches: 2}}
YAML
exp=$(create_exp "$work/exp.yaml")
check "the experiment completes" wait_state "$exp" COMPLETED 120

BASE_URL=http://127.0.0.1:$port PW_MODULES=$mods CHROMIUM=$chromium \
	PROFILE_DIR=$work/chromium-profile ARTIFACTS=$artifacts EXP_ID=$exp ADMIN_PW=$pw \
	web_node_tap 400 "$srcdir/tests/web/notebook.mjs" "$work"
# Every notebook started here is killed (they outlive the master otherwise).
sock GET "/tasks?kind=notebook" >/dev/null
nbs=$(body '[.tasks[] | select(.state != "TERMINATED") | .task_id | sub("^task-"; "")] | join(" ")')
for nb in $nbs; do sock POST "/tasks/$nb/kill" >/dev/null; done
sock GET "/tasks?kind=notebook" >/dev/null
eq "notebooks made through the dialog" 2 "$(body '[.tasks[]] | length')"
live=0
for _ in $(seq 600); do
	sock GET "/tasks?kind=notebook" >/dev/null
	live=$(body '[.tasks[] | select(.state != "TERMINATED")] | length')
	[ "$live" = 0 ] && break
	sleep 0.1
done
eq "no notebook is left running" 0 "$live"
stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
