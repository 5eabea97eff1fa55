#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Workspaces and projects with real Unix users: only a workspace's owner (or
# an admin) changes it or adds projects to it; an experiment goes only into
# a project its creator may write, and only its owner (or an admin) moves
# it; moving into another user's workspace is 403 and leaves it in place.
# What U2 may not see (U1's workspace, its project and experiments) answers 404.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root

make_user U1 U2 || exit 1
start_master

cat >"$work/exp.yaml" <<'YAML'
name: mine
entrypoint: python3 train.py
searcher: {name: single, metric: val_loss, max_length: {batches: 2}}
YAML
chmod 0644 "$work/exp.yaml"
# mkexp USER [PROJECT]: a paused experiment created by USER; status code.
mkexp() {
	jq -n --rawfile c "$work/exp.yaml" --arg p "${2:-}" \
		'{config: $c, activate: false} + (if $p == "" then {} else {project: $p} end)' >"$work/req-$1.json"
	chmod 0644 "$work/req-$1.json"
	usock "$1" POST /experiments @"$work/req-$1.json"
}

eq "U1 creates a workspace" 200 "$(usock "$U1" POST /workspaces '{"name": "u1-space"}')"
ws=$(body .workspace.id)
eq "... and owns it" "$U1" "$(body .workspace.owner | sed 's/-uid[0-9]*$//')"
eq "U1 adds a project" 200 "$(usock "$U1" POST "/workspaces/$ws/projects" '{"name": "p"}')"
proj=$(body .project.id)

eq "U2 may not add a project to U1's workspace" 404 "$(usock "$U2" POST "/workspaces/$ws/projects" '{"name": "x"}')"
eq "U2 may not archive it" 404 "$(usock "$U2" POST "/workspaces/$ws/archive" '{}')"
eq "U2 may not delete it" 404 "$(usock "$U2" DELETE "/workspaces/$ws?force=1")"
eq "U2 may not archive its project" 404 "$(usock "$U2" POST "/projects/$proj/archive" '{}')"
eq "U2 may not delete its project" 404 "$(usock "$U2" DELETE "/projects/$proj?force=1")"
eq "... which is still there" 200 "$(usock "$U1" GET "/projects/$proj")"
eq "U2 may not delete the default workspace" 403 "$(usock "$U2" DELETE /workspaces/1)"

eq "U2 may not create an experiment in U1's project" 403 "$(mkexp "$U2" "$proj")"
eq "U2 creates one in the default project" 200 "$(mkexp "$U2")"
e2=$(body .id)
eq "U2 may not move it into U1's project" 403 "$(usock "$U2" POST "/experiments/$e2/move" "{\"project\": $proj}")"
eq "... it stays in the default project" 1 "$(usock "$U2" GET "/experiments/$e2" >/dev/null; body .experiment.project_id)"
eq "U1 may not move U2's experiment" 403 "$(usock "$U1" POST "/experiments/$e2/move" "{\"project\": $proj}")"
eq "U1 creates one in its own project" 200 "$(mkexp "$U1" "u1-space/p")"
e1=$(body .id)
eq "U1 moves it to the default project" 200 "$(usock "$U1" POST "/experiments/$e1/move" '{"project": 1}')"
eq "... and back" 200 "$(usock "$U1" POST "/experiments/$e1/move" "{\"project\": $proj}")"
eq "U2 may not move U1's experiment out" 404 "$(usock "$U2" POST "/experiments/$e1/move" '{"project": 1}')"
eq "the admin (root) may move U2's experiment anywhere" 200 "$(sock POST "/experiments/$e2/move" "{\"project\": $proj}")"
eq "the admin may archive U1's workspace" 200 "$(sock POST "/workspaces/$ws/archive" '{}')"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
