#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Config templates against a real det-master: create, list, describe,
# replace, delete; bad YAML, duplicates; det experiment create --template
# merges the template under the config (the config wins, maps merge key by
# key), and the experiment's normalized config shows the result.
set -u
. "$(dirname "$0")/master-lib.sh"
start_master
use_det_cli

cat >"$work/tmpl.yaml" <<'YAML'
description: from the template
labels: [tmpl]
max_restarts: 2
hyperparameters:
  lr: 0.1
  layers: 3
searcher: {name: single, metric: val_loss, max_length: {batches: 2}}
YAML
cat >"$work/exp.yaml" <<'YAML'
name: uses-template
entrypoint: python3 train.py
max_restarts: 7
hyperparameters:
  lr: 0.5
YAML

run template create base "$work/tmpl.yaml"
ok $? "det template create (a global one, as admin)"
run template create base "$work/tmpl.yaml"
eq "a duplicate name → 1" 1 $?
grep -q "already exists" "$work/err"
ok $? "... saying it exists"
printf 'a: [1, 2\n' >"$work/bad.yaml"
run template create broken "$work/bad.yaml"
eq "YAML that does not parse → 1" 1 $?
printf -- '- a\n- b\n' >"$work/list.yaml"
run template create listy "$work/list.yaml"
eq "YAML that is not a map → 1" 1 $?
run template create 'bad/name' "$work/tmpl.yaml"
eq "a name with / → 1" 1 $?
run template list
grep -q base "$work/out"
ok $? "det template list shows it"
run template describe base
grep -q "from the template" "$work/out"
ok $? "det template describe prints its YAML"
run template describe nope
eq "an unknown template → 1" 1 $?

run e create --paused --template base "$work/exp.yaml"
ok $? "det experiment create --template"
e1=$(sed -n 's/^Created experiment //p' "$work/out")
sock GET "/experiments/$e1" >/dev/null
eq "the config wins" "7 0.5" "$(body '"\(.experiment.config.max_restarts) \(.experiment.config.hyperparameters.lr.val)"')"
eq "maps merge key by key" 3 "$(body '.experiment.config.hyperparameters.layers.val')"
eq "the template fills what the config lacks" "from the template single" \
	"$(body '"\(.experiment.config.description) \(.experiment.config.searcher.name)"')"
eq "its labels too" tmpl "$(body '.experiment.labels | join(",")')"
run e create --paused "$work/exp.yaml"
eq "without the template the config is incomplete → 1" 1 $?
run e create --paused --template nope "$work/exp.yaml"
eq "an unknown template → 1" 1 $?

printf 'searcher: {name: single, metric: acc, smaller_is_better: false, max_length: {batches: 1}}\nhyperparameters: {lr: 0.2}\n' >"$work/tmpl2.yaml"
run template set base "$work/tmpl2.yaml"
ok $? "det template set"
run e create --paused --template base "$work/exp.yaml"
e2=$(sed -n 's/^Created experiment //p' "$work/out")
eq "a new experiment gets the new template" acc "$(sock GET "/experiments/$e2" >/dev/null; body .experiment.config.searcher.metric)"
eq "the earlier experiment keeps its config" val_loss "$(sock GET "/experiments/$e1" >/dev/null; body .experiment.config.searcher.metric)"
run template set nope "$work/tmpl2.yaml"
eq "det template set of an unknown template → 1" 1 $?

sock POST /workspaces '{"name": "ws"}' >/dev/null
run template create --workspace ws in-ws "$work/tmpl.yaml"
ok $? "det template create --workspace"
eq "... it belongs to the workspace" "$(body .workspace.id)" \
	"$(sock GET /templates/in-ws >/dev/null; body .template.workspace_id)"
run template create --workspace nowhere x "$work/tmpl.yaml"
eq "in an unknown workspace → 1" 1 $?
eq "REST: a body without config → 400" 400 "$(sock POST /templates '{"name": "x"}')"
eq "REST: a template field of the wrong type → 400" 400 \
	"$(sock POST /experiments '{"config": "name: x", "template": 5}')"

run template delete base
ok $? "det template delete"
run template describe base
eq "... it is gone" 1 $?
stop_master
start_master
eq "templates survive a restart" in-ws "$(sock GET /templates >/dev/null; body '[.templates[].name] | join(",")')"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
