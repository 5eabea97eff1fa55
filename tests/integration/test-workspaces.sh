#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Workspaces and projects against a real det-master: a store written before
# they existed (schema 4) gets the default workspace and project with every
# experiment in it; create, list with counts, describe, archive, duplicate
# and odd names, experiments created into and moved between projects, list
# by project, and deletion (refused when not empty, all of it with force).
set -u
. "$(dirname "$0")/master-lib.sh"

need_sqlite3

# --- a store of the previous release: migrations 1-4, a user and two experiments ---
mkdir -p "$work/state"
chmod 0700 "$work/state"
for f in 001_init 002_allocation_events 003_token_hashes 004_allocation_pid_start; do
	sed 's/det_token_hash(token)/token/' "$srcdir/master/schema/$f.sql"
done >"$work/old.sql"
cat >>"$work/old.sql" <<'SQL'
PRAGMA user_version=4;
INSERT INTO users (id, name, admin, uid, created_at) VALUES (1, 'admin', 1, 0, 0);
INSERT INTO experiments (id, owner_id, name, state, config, config_yaml, labels, num_tasks,
	max_concurrent, created_at, ended_at)
	VALUES (1, 1, 'old-one', 'COMPLETED', '{}', 'name: old-one', '[]', 1, 1, 1, 2),
	       (2, 1, 'old-two', 'CANCELED', '{}', 'name: old-two', '[]', 1, 1, 1, 2);
SQL
sqlite3 "$work/state/master.db" <"$work/old.sql"
chmod 0600 "$work/state/master.db"

start_master
check "master starts on a schema-4 store" test -n "$port"
eq "the default workspace exists" "1 Uncategorized" \
	"$(sock GET /workspaces >/dev/null; body '.workspaces[0] | "\(.id) \(.name)"')"
eq "... holding both old experiments in one project" "1 2" \
	"$(body '.workspaces[0] | "\(.num_projects) \(.num_experiments)"')"
eq "the default project" "Uncategorized Uncategorized 2" \
	"$(sock GET /projects/1 >/dev/null; body '.project | "\(.name) \(.workspace_name) \(.num_experiments)"')"
eq "old experiments are in project 1" "1 1" \
	"$(sock GET '/experiments?archived=1' >/dev/null; body '[.experiments[].project_id] | join(" ")')"
eq "schema version 5 or later after the upgrade" 1 \
	"$(sqlite3 "$work/state/master.db" 'PRAGMA user_version' | awk '{print ($1 >= 5)}')"

# --- workspaces ---
eq "create a workspace" 200 "$(sock POST /workspaces '{"name": "vision"}')"
ws=$(body .workspace.id)
eq "... owned by its creator, empty" "admin 0 0" "$(body '.workspace | "\(.owner) \(.num_projects) \(.num_experiments)"')"
eq "duplicate workspace name → 409" 409 "$(sock POST /workspaces '{"name": "vision"}')"
eq "empty name → 400" 400 "$(sock POST /workspaces '{"name": ""}')"
eq "control character → 400" 400 "$(sock POST /workspaces '{"name": "a\u0007b"}')"
eq "a slash → 400" 400 "$(sock POST /workspaces '{"name": "a/b"}')"
eq "digits only → 400" 400 "$(sock POST /workspaces '{"name": "123"}')"
eq "129 bytes → 400" 400 "$(sock POST /workspaces "{\"name\": \"$(printf 'x%.0s' $(seq 129))\"}")"
eq "128 bytes is fine" 200 "$(sock POST /workspaces "{\"name\": \"$(printf 'y%.0s' $(seq 128))\"}")"
eq "no name → 400" 400 "$(sock POST /workspaces '{}')"
eq "unknown workspace → 404" 404 "$(sock GET /workspaces/999)"
eq "the default workspace cannot be deleted" 409 "$(sock DELETE /workspaces/1)"
eq "... nor archived" 409 "$(sock POST /workspaces/1/archive {})"

# --- projects ---
eq "create a project" 200 "$(sock POST "/workspaces/$ws/projects" '{"name": "detection"}')"
proj=$(body .project.id)
eq "... in its workspace" "vision 0" "$(body '.project | "\(.workspace_name) \(.num_experiments)"')"
eq "duplicate project name in a workspace → 409" 409 "$(sock POST "/workspaces/$ws/projects" '{"name": "detection"}')"
eq "the same name in another workspace is fine" 200 "$(sock POST /workspaces/1/projects '{"name": "detection"}')"
eq "odd project name → 400" 400 "$(sock POST "/workspaces/$ws/projects" '{"name": "a\nb"}')"
eq "project in an unknown workspace → 404" 404 "$(sock POST /workspaces/999/projects '{"name": "p"}')"
eq "the workspace lists its project" detection "$(sock GET "/workspaces/$ws/projects" >/dev/null; body '.projects[0].name')"

# --- experiments in projects ---
cat >"$work/exp.yaml" <<'YAML'
name: in-project
entrypoint: python3 train.py
searcher: {name: single, metric: val_loss, max_length: {batches: 2}}
YAML
sockf() { # METHOD PATH FILE
	curl -s -o "$work/body" -w '%{http_code}' --unix-socket "$work/m.sock" -X "$1" \
		-H 'Content-Type: application/json' --data-binary @"$3" "http://localhost/api/v1$2"
}
jq -n --rawfile c "$work/exp.yaml" '{config: $c, activate: false, project: "vision/detection"}' >"$work/req.json"
eq "create an experiment in WORKSPACE/PROJECT" 200 "$(sockf POST /experiments "$work/req.json")"
e1=$(body .id)
eq "... it is in that project" "$proj" "$(body .project_id)"
jq -n --rawfile c "$work/exp.yaml" --arg p "$proj" '{config: $c, activate: false, project: $p}' >"$work/req.json"
eq "create an experiment by project id" 200 "$(sockf POST /experiments "$work/req.json")"
e2=$(body .id)
jq -n --rawfile c "$work/exp.yaml" '{config: $c, activate: false}' >"$work/req.json"
eq "without a project: the default one" 200 "$(sockf POST /experiments "$work/req.json")"
e3=$(body .id)
eq "... project 1" 1 "$(body .project_id)"
jq -n --rawfile c "$work/exp.yaml" '{config: $c, project: "vision/nope"}' >"$work/req.json"
eq "unknown project → 404" 404 "$(sockf POST /experiments "$work/req.json")"
jq -n --rawfile c "$work/exp.yaml" '{config: $c, project: 5}' >"$work/req.json"
eq "project of the wrong type → 400" 400 "$(sockf POST /experiments "$work/req.json")"
eq "list by project id" "$e1 $e2" \
	"$(sock GET "/experiments?project=$proj" >/dev/null; body '[.experiments[].id] | sort | join(" ")')"
eq "list by WORKSPACE/PROJECT" 2 "$(sock GET "/experiments?project=vision/detection" >/dev/null; body '.pagination.total')"
eq "list by an unknown project → 404" 404 "$(sock GET "/experiments?project=77")"
eq "project counts" "2 2" "$(sock GET "/projects/$proj" >/dev/null; body '.project | "\(.num_experiments) \(.num_active_experiments)"')"
eq "workspace counts" "1 2" "$(sock GET "/workspaces/$ws" >/dev/null; body '.workspace | "\(.num_projects) \(.num_experiments)"')"

eq "move an experiment" 200 "$(sock POST "/experiments/$e3/move" "{\"project\": $proj}")"
eq "... now in that project" "$proj" "$(body .experiment.project_id)"
eq "move back by WORKSPACE/PROJECT" 200 "$(sock POST "/experiments/$e3/move" '{"project": "Uncategorized/Uncategorized"}')"
eq "move to an unknown project → 404" 404 "$(sock POST "/experiments/$e3/move" '{"project": 999}')"
eq "move without a project → 400" 400 "$(sock POST "/experiments/$e3/move" '{}')"
eq "move of an unknown experiment → 404" 404 "$(sock POST /experiments/999/move '{"project": 1}')"

# --- archive ---
eq "archive the project" 200 "$(sock POST "/projects/$proj/archive" {})"
eq "... shown archived" true "$(body .project.archived)"
jq -n --rawfile c "$work/exp.yaml" --arg p "$proj" '{config: $c, activate: false, project: $p}' >"$work/req.json"
eq "no new experiment in an archived project (409)" 409 "$(sockf POST /experiments "$work/req.json")"
eq "unarchive it" 200 "$(sock POST "/projects/$proj/unarchive" {})"
eq "archive the workspace" 200 "$(sock POST "/workspaces/$ws/archive" {})"
eq "no move into an archived workspace (409)" 409 "$(sock POST "/experiments/$e3/move" "{\"project\": $proj}")"
eq "no project in an archived workspace (409)" 409 "$(sock POST "/workspaces/$ws/projects" '{"name": "later"}')"
eq "unarchive the workspace" 200 "$(sock POST "/workspaces/$ws/unarchive" {})"

# --- delete ---
eq "a non-empty workspace is not deleted" 409 "$(sock DELETE "/workspaces/$ws")"
eq "... nor with force while an experiment in it is not finished" 409 "$(sock DELETE "/workspaces/$ws?force=1")"
eq "... the experiment is still there" 200 "$(sock GET "/experiments/$e1")"
eq "a bad force value → 400" 400 "$(sock DELETE "/workspaces/$ws?force=yes")"
sock POST "/experiments/$e1/kill" {} >/dev/null
sock POST "/experiments/$e2/kill" {} >/dev/null
check "both experiments end" wait_state "$e2" CANCELED 60
check "... the first too" wait_state "$e1" CANCELED 60
eq "a non-empty project is not deleted without force" 409 "$(sock DELETE "/projects/$proj")"
eq "delete the workspace with force" 200 "$(sock DELETE "/workspaces/$ws?force=1")"
eq "the workspace is gone" 404 "$(sock GET "/workspaces/$ws")"
eq "its project is gone" 404 "$(sock GET "/projects/$proj")"
eq "its experiments are gone" "404 404" "$(sock GET "/experiments/$e1") $(sock GET "/experiments/$e2")"
eq "the other experiment stays" 200 "$(sock GET "/experiments/$e3")"
eq "their rows are gone from the store" "0 0 0" \
	"$(sqlite3 "$work/state/master.db" "SELECT (SELECT count(*) FROM experiments WHERE id IN ($e1, $e2)) || ' ' || (SELECT count(*) FROM trials WHERE experiment_id IN ($e1, $e2)) || ' ' || (SELECT count(*) FROM projects WHERE workspace_id = $ws)")"
sock POST /workspaces/1/projects '{"name": "empty"}' >/dev/null
eq "an empty project is deleted" 200 "$(sock DELETE "/projects/$(body .project.id)")"

# --- the det command line ---
use_det_cli
run workspace create nlp
ok $? "det workspace create"
grep -q "Created workspace" "$work/out"
ok $? "... says so"
run workspace create nlp
eq "det workspace create of a duplicate → 1" 1 $?
run workspace create 'bad/name'
eq "det workspace create of a bad name → 1" 1 $?
run project create nlp translation
ok $? "det project create WORKSPACE NAME"
run project create nowhere x
eq "det project create in an unknown workspace → 1" 1 $?
run -o json workspace describe nlp
eq "det workspace describe NAME" "nlp 1" "$(jq -r '"\(.name) \(.num_projects)"' "$work/out")"
run workspace list
grep -q "^.*nlp" "$work/out"
ok $? "det workspace list shows it"
run -o json project describe nlp/translation
eq "det project describe WORKSPACE/PROJECT" translation "$(jq -r .name "$work/out")"
pid=$(jq -r .id "$work/out")
run project list nlp
grep -q translation "$work/out"
ok $? "det project list WORKSPACE"
printf 'name: cli\nentrypoint: python3 train.py\nsearcher: {name: single, metric: val_loss, max_length: {batches: 2}}\n' >"$work/cli.yaml"
run e create --paused --workspace nlp --project translation "$work/cli.yaml"
ok $? "det experiment create --workspace --project"
ce=$(sed -n 's/^Created experiment //p' "$work/out")
run -o json e list --project nlp/translation
eq "det experiment list --project WORKSPACE/PROJECT" "$ce" "$(jq -r '[.experiments[].id] | join(" ")' "$work/out")"
run e create --paused --project "$pid" "$work/cli.yaml"
ok $? "det experiment create --project ID"
ce2=$(sed -n 's/^Created experiment //p' "$work/out")
run e move "$ce2" --project Uncategorized/Uncategorized
ok $? "det experiment move"
eq "... moved" 1 "$(sock GET "/experiments/$ce2" >/dev/null; body .experiment.project_id)"
run e move "$ce2"
eq "det experiment move without --project → 2" 2 $?
run workspace archive nlp
ok $? "det workspace archive"
run e move "$ce2" --project nlp/translation
eq "... then no move into it → 1" 1 $?
run workspace unarchive nlp
ok $? "det workspace unarchive"
run workspace delete nlp
eq "det workspace delete of a non-empty workspace → 1" 1 $?
grep -q force "$work/err"
ok $? "... the error names --force"
run e kill "$ce"
check "the experiment in it ends" wait_state "$ce" CANCELED 60
run workspace delete --force nlp
ok $? "det workspace delete --force"
eq "... with its experiment" 404 "$(sock GET "/experiments/$ce")"
run project delete Uncategorized/Uncategorized
eq "det project delete of the default project → 1" 1 $?

# --- a restart keeps it all ---
sock POST /workspaces '{"name": "kept"}' >/dev/null
kept=$(body .workspace.id)
sock POST "/workspaces/$kept/projects" '{"name": "p"}' >/dev/null
sock POST "/experiments/$e3/move" '{"project": "kept/p"}' >/dev/null
stop_master
start_master
eq "after a restart: workspace, project and membership" "kept p 1" \
	"$(sock GET "/projects?x=1" >/dev/null; body "[.projects[] | select(.workspace_name == \"kept\")][0] | \"\(.workspace_name) \(.name) \(.num_experiments)\"")"
eq "... the experiment's project" kept/p \
	"$(sock GET "/experiments/$e3" >/dev/null; p=$(body .experiment.project_id); sock GET "/projects/$p" >/dev/null; body '"\(.project.workspace_name)/\(.project.name)"')"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
