#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Workspace roles with real Unix users and a real Unix group: a matrix of
# endpoints × roles. U1 creates a workspace (its workspace-admin) with an
# experiment that ran and one that is paused. U2, a viewer by uid, reads and
# downloads but gets 403 on kill/pause/delete/move; U3, an editor through a
# Unix group, may control and kill U1's experiments there; a non-member gets
# 404 (or 403) on everything in the workspace and does not see it in lists.
# In the default workspace every user still reads all experiments and
# changes only their own.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root

make_user U1 U2 U3 || exit 1
make_group group "$U3" || exit 1
start_master

cat >"$work/exp.yaml" <<'YAML'
name: roles
entrypoint: python3 train.py
searcher: {name: single, metric: val_loss, max_length: {batches: 2}}
YAML
printf 'model bytes' | gzip >"$work/model.tgz"
# mkexp USER PROJECT ACTIVATE: an experiment with a model definition (USER root:
# over the socket as root); prints its id.
mkexp() {
	jq -n --rawfile c "$work/exp.yaml" --arg m "$(base64 -w0 "$work/model.tgz")" --arg p "$2" \
		--argjson a "$3" '{config: $c, model_definition: $m, project: $p, activate: $a}' >"$work/req.json"
	chmod 0644 "$work/req.json"
	if [ "$1" = root ]; then
		sock POST /experiments @"$work/req.json" >/dev/null
	else
		usock "$1" POST /experiments @"$work/req.json" >/dev/null
	fi
	body .id
}

eq "U1 creates a workspace" 200 "$(usock "$U1" POST /workspaces '{"name": "team"}')"
ws=$(body .workspace.id)
usock "$U1" POST "/workspaces/$ws/projects" '{"name": "p"}' >/dev/null
proj=$(body .project.id)
e1=$(mkexp root team/p true)
check "an experiment in the workspace completes" wait_state "$e1" COMPLETED 60
e2=$(mkexp "$U1" team/p false)
usock "$U1" GET "/experiments/$e1/trials" >/dev/null
t1=$(body '.trials[0].id')
usock "$U1" GET "/experiments/$e1/checkpoints" >/dev/null
ck=$(body '.checkpoints[0].uuid')
check "there is a trial and a checkpoint to read" test -n "$t1" -a "$t1" != null -a -n "$ck" -a "$ck" != null

reads() { # USER: the status codes of every read, space-separated
	local u=$1 out=
	for p in "/experiments/$e1" "/experiments/$e1/trials" "/experiments/$e1/checkpoints" \
		"/experiments/$e1/model_def" "/experiments/$e1/slurm" "/trials/$t1" "/trials/$t1/metrics" \
		"/trials/$t1/logs" "/trials/$t1/checkpoints" "/checkpoints/$ck" "/workspaces/$ws" \
		"/workspaces/$ws/projects" "/workspaces/$ws/roles" "/projects/$proj"; do
		out="$out $(usock "$u" GET "$p")"
	done
	echo $out
}
all200="200 200 200 200 200 200 200 200 200 200 200 200 200 200"
all404="404 404 404 404 404 404 404 404 404 404 404 404 404 404"
listed() { # USER: how many of the workspace's experiments the user's list shows
	usock "$1" GET "/experiments?archived=1&limit=1000" >/dev/null
	body "[.experiments[] | select(.id == $e1 or .id == $e2)] | length"
}

# --- a non-member ---
eq "the creator reads everything" "$all200" "$(reads "$U1")"
eq "a non-member reads nothing (404)" "$all404" "$(reads "$U2")"
eq "... and lists none of its experiments" 0 "$(listed "$U2")"
eq "... nor the workspace" 0 "$(usock "$U2" GET /workspaces >/dev/null; body "[.workspaces[] | select(.id == $ws)] | length")"
eq "... nor its project" 0 "$(usock "$U2" GET /projects >/dev/null; body "[.projects[] | select(.id == $proj)] | length")"
writes() { # USER: pause, kill, delete, move, trial kill, checkpoint delete, new project, new experiment, roles
	local u=$1 out=
	out="$(usock "$u" POST "/experiments/$e2/pause")"
	out="$out $(usock "$u" POST "/experiments/$e2/kill")"
	out="$out $(usock "$u" DELETE "/experiments/$e1")"
	out="$out $(usock "$u" POST "/experiments/$e1/move" '{"project": 1}')"
	out="$out $(usock "$u" POST "/trials/$t1/kill")"
	out="$out $(usock "$u" DELETE "/checkpoints/$ck")"
	out="$out $(usock "$u" POST "/workspaces/$ws/projects" '{"name": "q"}')"
	jq -n --rawfile c "$work/exp.yaml" --arg p "$proj" '{config: $c, project: $p, activate: false}' >"$work/req2.json"
	chmod 0644 "$work/req2.json"
	out="$out $(usock "$u" POST /experiments @"$work/req2.json")"
	out="$out $(usock "$u" POST "/workspaces/$ws/roles" "{\"role\": \"editor\", \"user\": \"$u\"}")"
	echo $out
}
w=$(writes "$U2")
case "$w" in *200*) ok 1 "a non-member changes nothing (403/404)"; echo "#   got: $w" >&2 ;; *) ok 0 "a non-member changes nothing (403/404)" ;; esac

# --- roles are the workspace-admin's to give ---
eq "a non-member may not give roles" 404 "$(usock "$U2" POST "/workspaces/$ws/roles" "{\"role\": \"viewer\", \"user\": \"$U2\"}")"
eq "U1 makes U2 a viewer" 200 "$(usock "$U1" POST "/workspaces/$ws/roles" "{\"role\": \"viewer\", \"user\": \"$U2\"}")"
eq "U1 makes the group an editor" 200 "$(usock "$U1" POST "/workspaces/$ws/roles" "{\"role\": \"editor\", \"group\": \"$group\"}")"
eq "both are listed" "editor viewer" "$(usock "$U1" GET "/workspaces/$ws/roles" >/dev/null; body '[.roles[].role] | sort | join(" ")')"
eq "an unknown role → 400" 400 "$(usock "$U1" POST "/workspaces/$ws/roles" "{\"role\": \"owner\", \"user\": \"$U2\"}")"
eq "an unknown user → 404" 404 "$(usock "$U1" POST "/workspaces/$ws/roles" '{"role": "viewer", "user": "no-such-user-x"}')"
eq "an unknown group → 404" 404 "$(usock "$U1" POST "/workspaces/$ws/roles" '{"role": "viewer", "group": "no-such-group-x"}')"
eq "user and group at once → 400" 400 "$(usock "$U1" POST "/workspaces/$ws/roles" "{\"role\": \"viewer\", \"user\": \"$U2\", \"group\": \"$group\"}")"
eq "roles in the default workspace are fixed (409)" 409 "$(sock POST /workspaces/1/roles "{\"role\": \"viewer\", \"user\": \"$U2\"}")"

# --- a viewer ---
eq "a viewer reads and downloads everything" "$all200" "$(reads "$U2")"
eq "... and lists the experiments" 2 "$(listed "$U2")"
eq "a viewer: 403 on pause, kill, delete, move, trial kill, checkpoint delete, project, experiment, roles" \
	"403 403 403 403 403 403 403 403 403" "$(writes "$U2")"
eq "a viewer may not edit notes (403)" 403 "$(usock "$U2" POST "/experiments/$e1/set" '{"notes": "x"}')"
eq "... the paused experiment is untouched" PAUSED "$(usock "$U1" GET "/experiments/$e2" >/dev/null; body .experiment.state)"

# --- an editor through a Unix group ---
eq "an editor (by group) reads everything" "$all200" "$(reads "$U3")"
eq "an editor edits another's description" 200 "$(usock "$U3" POST "/experiments/$e1/set" '{"description": "by the editor"}')"
eq "an editor activates another's experiment" 200 "$(usock "$U3" POST "/experiments/$e2/activate")"
eq "an editor pauses it" 200 "$(usock "$U3" POST "/experiments/$e2/pause")"
eq "an editor kills it" 200 "$(usock "$U3" POST "/experiments/$e2/kill")"
check "... it ends" wait_state "$e2" CANCELED 60
eq "an editor creates an experiment in the workspace" 200 "$(usock "$U3" POST /experiments @"$work/req2.json")"
e3=$(body .id)
eq "an editor moves another's experiment within reach" 200 "$(usock "$U3" POST "/experiments/$e2/move" "{\"project\": $proj}")"
eq "an editor may not add projects (workspace-admin's)" 403 "$(usock "$U3" POST "/workspaces/$ws/projects" '{"name": "q"}')"
eq "an editor may not give roles" 403 "$(usock "$U3" POST "/workspaces/$ws/roles" "{\"role\": \"editor\", \"user\": \"$U2\"}")"
eq "an editor deletes another's finished experiment" 200 "$(usock "$U3" DELETE "/experiments/$e2")"
eq "a viewer may not kill the editor's experiment" 403 "$(usock "$U2" POST "/experiments/$e3/kill")"

# --- templates follow the workspace's roles ---
tj=$(jq -n '{name: "team-t", workspace: "team", config: "max_restarts: 1\n"}')
eq "a viewer may not create a template in the workspace" 403 "$(usock "$U2" POST /templates "$tj")"
eq "an editor creates one" 200 "$(usock "$U3" POST /templates "$tj")"
eq "a viewer reads it" 200 "$(usock "$U2" GET /templates/team-t)"
eq "a viewer may not replace it" 403 "$(usock "$U2" POST /templates/team-t '{"config": "max_restarts: 2\n"}')"
eq "the workspace-admin replaces it" 200 "$(usock "$U1" POST /templates/team-t '{"config": "max_restarts: 3\n"}')"
eq "a user may not create a global template (admins only)" 403 \
	"$(usock "$U2" POST /templates '{"name": "global-t", "config": "max_restarts: 1\n"}')"
eq "the admin creates one" 200 "$(sock POST /templates '{"name": "global-t", "config": "max_restarts: 1\n"}')"
eq "every user reads a global template" 200 "$(usock "$U2" GET /templates/global-t)"
eq "but may not delete it" 403 "$(usock "$U2" DELETE /templates/global-t)"

# --- taking a role away ---
eq "U1 takes U2's role away" 200 "$(usock "$U1" POST "/workspaces/$ws/roles/remove" "{\"user\": \"$U2\"}")"
eq "... U2 is a non-member again" "$all404" "$(reads "$U2")"
eq "... and cannot see the workspace's template" 404 "$(usock "$U2" GET /templates/team-t)"
eq "... nor use it" 404 "$(usock "$U2" POST /experiments '{"config": "name: x\n", "template": "team-t"}')"
usock "$U2" POST /models '{"name": "u2-model"}' >/dev/null
eq "... nor register its checkpoints in a model (404)" 404 "$(usock "$U2" POST /models/u2-model/versions "{\"checkpoint_uuid\": \"$ck\"}")"
eq "... nor version another user's model (403)" 403 "$(usock "$U1" POST /models/u2-model/versions "{\"checkpoint_uuid\": \"$ck\"}")"
eq "... nor fork its experiments (404: it may not see them)" 404 "$(usock "$U2" POST "/experiments/$e1/fork" '{}')"
jq -n --arg u "$ck" '{config: ("name: x\nentrypoint: python3 t.py\nsearcher: {name: single, metric: m, max_length: {batches: 1}, source_checkpoint_uuid: " + $u + "}\n"), activate: false}' >"$work/req4.json"
chmod 0644 "$work/req4.json"
eq "... nor start from its checkpoints (403)" 403 "$(usock "$U2" POST /experiments @"$work/req4.json")"
sock POST "/workspaces/$ws/roles" "{\"role\": \"viewer\", \"user\": \"$U2\"}" >/dev/null
code=$(usock "$U2" POST /experiments @"$work/req4.json")
# (fake-launch's checkpoint may be gone by now: then the answer tells its state)
check "a viewer may start from them (no 403)" test "$code" = 200 -o "$code" = 409
usock "$U1" POST "/workspaces/$ws/roles/remove" "{\"user\": \"$U2\"}" >/dev/null
eq "taking away a role nobody has → 404" 404 "$(usock "$U1" POST "/workspaces/$ws/roles/remove" "{\"user\": \"$U2\"}")"
eq "the admin (root) gives roles anywhere" 200 "$(sock POST "/workspaces/$ws/roles" "{\"role\": \"workspace-admin\", \"user\": \"$U2\"}")"
eq "... a workspace-admin adds projects" 200 "$(usock "$U2" POST "/workspaces/$ws/projects" '{"name": "by-u2"}')"

# --- the default workspace keeps today's rules ---
jq -n --rawfile c "$work/exp.yaml" '{config: $c, activate: false}' >"$work/req3.json"
chmod 0644 "$work/req3.json"
usock "$U1" POST /experiments @"$work/req3.json" >/dev/null
d1=$(body .id)
eq "in Uncategorized another user reads the experiment" 200 "$(usock "$U2" GET "/experiments/$d1")"
eq "... lists it" 1 "$(usock "$U2" GET "/experiments?limit=1000" >/dev/null; body "[.experiments[] | select(.id == $d1)] | length")"
eq "... but may not kill it" 403 "$(usock "$U2" POST "/experiments/$d1/kill")"
eq "... nor move it" 403 "$(usock "$U2" POST "/experiments/$d1/move" "{\"project\": $proj}")"
eq "its owner kills it" 200 "$(usock "$U1" POST "/experiments/$d1/kill")"

# --- roles survive a restart ---
stop_master
start_master
eq "after a restart the editor group still edits" 200 "$(usock "$U3" POST "/experiments/$e3/kill")"
eq "... and the non-member still reads nothing" 404 "$(usock "$U2" GET "/projects/$proj" >/dev/null; usock "$U1" POST "/workspaces/$ws/roles/remove" "{\"user\": \"$U2\"}" >/dev/null; usock "$U2" GET "/experiments/$e1")"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
