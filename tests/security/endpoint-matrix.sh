#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The permission matrix: every route of master/api.c's table, asked by six
# principals over the master's Unix socket with real Unix users and a real
# Unix group. Roles in workspace "mx" (created by root): V viewer (by uid),
# E editor (through a Unix group), W workspace-admin (by uid), N nobody;
# O owns the experiments, tasks and model (it was an editor while creating
# them, then lost the role: an owner keeps its objects wherever they are);
# A is root, a cluster admin. Expected answers (doc/collaboration.md,
# doc/security.md): ok = 2xx; okc = authorised, 2xx or 409 where the
# object's state forbids the action; pass = authorised, then judged on the
# request (anything but 401/403/404); 404 = may not see; 403 = may see but not
# change; 401 = not this kind of credential. The last check fails when a
# route of api.c has no line in the table.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root

make_user O V E W N || exit 1
make_group group "$E" || exit 1
start_master

api() { # USER METHOD PATH [BODY] under /api/v1
	local u=$1 m=$2 p=$3
	shift 3
	ucall "$u" "$m" "/api/v1$p" "$@"
}
cat >"$work/exp.yaml" <<'YAML'
name: matrix
entrypoint: python3 train.py
searcher: {name: single, metric: val_loss, max_length: {batches: 2}}
YAML
chmod 0644 "$work/exp.yaml"
printf 'model bytes' | gzip >"$work/model.tgz"
jq -n --rawfile c "$work/exp.yaml" --arg m "$(base64 -w0 "$work/model.tgz")" \
	'{config: $c, model_definition: $m, project: "mx/p", activate: false}' >"$work/paused.json"
jq '.activate = true' "$work/paused.json" >"$work/active.json"
chmod 0644 "$work/paused.json" "$work/active.json"

# --- setup: the workspace, its roles, O's objects ---
eq "root creates workspace mx" 200 "$(api root POST /workspaces '{"name": "mx"}')"
ws=$(body .workspace.id)
api root POST "/workspaces/$ws/projects" '{"name": "p"}' >/dev/null
proj=$(body .project.id)
give_roles() { # WORKSPACE-ID [OWNER-TOO]
	local r
	for r in "viewer\", \"user\": \"$V" "editor\", \"group\": \"$group" \
		"workspace-admin\", \"user\": \"$W" ${2:+"editor\", \"user\": \"$O"}; do
		[ "$(api root POST "/workspaces/$1/roles" "{\"role\": \"$r\"}")" = 200 ] || return 1
	done
}
check "roles: viewer, editor by group, workspace-admin, owner as editor" give_roles "$ws" o
newexp() { # FILE: an experiment of O in mx/p; prints its id
	api "$O" POST /experiments @"$1" >/dev/null
	body .id
}
done_ids=
for _ in 1 2 3 4 5 6 7; do done_ids="$done_ids $(newexp "$work/active.json")"; done
ed=${done_ids# }
ed=${ed%% *}
for i in $done_ids; do wait_state "$i" COMPLETED 60 || break; done
check "O's experiments in mx complete" wait_state "$ed" COMPLETED 60
api "$O" GET "/experiments/$ed/trials" >/dev/null
tr=$(body '.trials[0].id')
# {CK}: a checkpoint of {E} that garbage collection kept; the pool for {FCK}
# comes from the other experiments, so {E}'s latest checkpoint stays.
api "$O" GET "/experiments/$ed/checkpoints" >/dev/null
ck=$(body '[.checkpoints[] | select(.state == "COMPLETED") | .uuid][0] // empty')
ck_pool=
for i in $done_ids; do
	[ "$i" = "$ed" ] && continue
	api "$O" GET "/experiments/$i/checkpoints" >/dev/null
	ck_pool="$ck_pool $(body '[.checkpoints[] | select(.state == "COMPLETED") | .uuid] | join(" ")')"
done
check "a trial and a checkpoint to read" test -n "$tr" -a "$tr" != null -a -n "$ck"
model_name=o-model
api "$O" POST /models "{\"name\": \"$model_name\"}" >/dev/null
api "$O" POST /templates "{\"name\": \"mx-t\", \"workspace\": \"mx\", \"config\": \"max_restarts: 1\\n\"}" >/dev/null
newtask() { # a command of O that sleeps; prints its id
	api "$O" POST /tasks '{"argv": ["sleep", "120"]}' >/dev/null
	body '.task.id // .id'
}
task=$(newtask)
check "O has a task" test -n "$task" -a "$task" != null
eq "O loses its role: an owner only" 200 "$(api root POST "/workspaces/$ws/roles/remove" "{\"user\": \"$O\"}")"

# Placeholders: {E} O's completed experiment, {T} its trial, {CK} its
# checkpoint, {W} the workspace, {P} its project, {M} O's model, {TPL} the
# workspace's template, {TASK} O's task; fresh per call: {FE} a paused
# experiment of O, {FX} a canceled one, {FA} an archived one, {FCK} a
# checkpoint, {FW} a workspace with the roles, {FP} a project, {FT} a
# template, {FTASK} a task of O.
# expand runs in a subshell: its counter and the checkpoint pool live in files.
echo 0 >"$work/fresh_n"
echo "$ck_pool" | tr ' ' '\n' | sed '/^$/d' >"$work/ck_pool"
check "six checkpoints to delete, one per principal" test "$(wc -l <"$work/ck_pool")" -ge 6
expand() { # TEMPLATE: the path or body with its placeholders filled
	local s=$1 id fresh_n
	fresh_n=$(($(cat "$work/fresh_n") + 1))
	echo "$fresh_n" >"$work/fresh_n"
	case "$s" in *'{FE}'* | *'{FX}'* | *'{FA}'*)
		api root POST "/workspaces/$ws/roles" "{\"role\": \"editor\", \"user\": \"$O\"}" >/dev/null
		id=$(newexp "$work/paused.json")
		api root POST "/workspaces/$ws/roles/remove" "{\"user\": \"$O\"}" >/dev/null
		case "$s" in *'{FX}'* | *'{FA}'*)
			api root POST "/experiments/$id/kill" >/dev/null
			wait_state "$id" CANCELED 60 >/dev/null
			;;
		esac
		case "$s" in *'{FA}'*) api root POST "/experiments/$id/archive" >/dev/null ;; esac
		s=${s//\{FE\}/$id} s=${s//\{FX\}/$id} s=${s//\{FA\}/$id}
		;;
	esac
	case "$s" in *'{FCK}'*)
		id=$(head -n 1 "$work/ck_pool")
		sed -i 1d "$work/ck_pool"
		s=${s//\{FCK\}/${id:-none}}
		;;
	esac
	case "$s" in *'{FW}'*)
		api root POST /workspaces "{\"name\": \"fw$fresh_n\"}" >/dev/null
		id=$(body .workspace.id)
		give_roles "$id" >/dev/null
		s=${s//\{FW\}/$id}
		;;
	esac
	case "$s" in *'{FP}'*)
		api root POST "/workspaces/$ws/projects" "{\"name\": \"fp$fresh_n\"}" >/dev/null
		s=${s//\{FP\}/$(body .project.id)}
		;;
	esac
	case "$s" in *'{FT}'*)
		api root POST /templates "{\"name\": \"ft$fresh_n\", \"workspace\": \"mx\", \"config\": \"max_restarts: 1\\n\"}" >/dev/null
		s=${s//\{FT\}/ft$fresh_n}
		;;
	esac
	case "$s" in *'{FTASK}'*) s=${s//\{FTASK\}/$(newtask)} ;; esac
	s=${s//\{E\}/$ed} s=${s//\{T\}/$tr} s=${s//\{CK\}/$ck} s=${s//\{W\}/$ws} s=${s//\{P\}/$proj}
	s=${s//\{M\}/$model_name} s=${s//\{TPL\}/mx-t} s=${s//\{TASK\}/$task}
	s=${s//\{G\}/$group} s=${s//\{V\}/$V} s=${s//\{U\}/$fresh_n}
	printf '%s' "$s"
}
matches() { # EXPECTED CODE
	case "$1" in
	ok) case "$2" in 2??) return 0 ;; esac ;;
	okc) case "$2" in 2?? | 409) return 0 ;; esac ;;
	pass) case "$2" in 401 | 403 | 404) ;; *) return 0 ;; esac ;;
	*) [ "$1" = "$2" ] && return 0 ;;
	esac
	return 1
}

# One line per route: METHOD | pattern as in api.c | path asked | body (- none) |
# owner viewer editor workspace-admin non-member admin. Global routes: the
# first five columns are plain users. Notes: POST /experiments answers 403
# for a project the caller may not write, seen or not (doc/collaboration.md);
# the trial side (metrics, checkpoints, logs, progress, exits, signals) is a
# trial token's, or a cluster admin's; POST /images is refused here because
# the path is not readable as the caller; moving or forking into mx/p needs
# a role there, so the role-less owner gets 403; /submitted is the owner's
# own sbatch (det submit), 403 for anyone else (doc/api.md).
table=$(
	cat <<'TABLE'
GET    | /health                              | /health                      | - | ok ok ok ok ok ok
GET    | /metrics                             | /metrics                     | - | ok ok ok ok ok ok
GET    | /api/v1/health                       | =                            | - | ok ok ok ok ok ok
GET    | /api/v1/master                       | =                            | - | ok ok ok ok ok ok
GET    | /api/v1/agents                       | =                            | - | ok ok ok ok ok ok
GET    | /api/v1/resource-pools               | =                            | - | ok ok ok ok ok ok
POST   | /api/v1/auth/login                   | =                            | {"username": "nobody-x", "password": "x"} | 401 401 401 401 401 401
POST   | /api/v1/auth/logout                  | =                            | - | ok ok ok ok ok ok
GET    | /api/v1/me                           | =                            | - | ok ok ok ok ok ok
GET    | /api/v1/users                        | =                            | - | ok ok ok ok ok ok
POST   | /api/v1/users                        | =                            | {"username": "mx-new", "password": "secret-pw-1"} | 403 403 403 403 403 ok
POST   | /api/v1/users/me/password            | =                            | {"password": "another-pw-1"} | ok ok ok ok ok ok
POST   | /api/v1/experiments                  | =                            | {"config": "name: x\nentrypoint: a\nsearcher: {name: single, metric: m, max_length: {batches: 1}}\n", "project": "mx/p", "activate": false} | 403 403 ok ok 403 ok
POST   | /api/v1/images                       | =                            | {"name": "mx-img", "path": "/nonexistent-x"} | 403 403 403 403 403 403
GET    | /api/v1/images                       | =                            | - | ok ok ok ok ok ok
DELETE | /api/v1/images                       | /api/v1/images?name=none-x   | - | 404 404 404 404 404 404
GET    | /api/v1/experiments                  | =                            | - | ok ok ok ok ok ok
GET    | /api/v1/experiments/{id}             | /api/v1/experiments/{E}      | - | ok ok ok ok 404 ok
DELETE | /api/v1/experiments/{id}             | /api/v1/experiments/{FX}     | - | ok 403 ok ok 404 ok
POST   | /api/v1/experiments/{id}/activate    | /api/v1/experiments/{FE}/activate | - | ok 403 ok ok 404 ok
POST   | /api/v1/experiments/{id}/pause       | /api/v1/experiments/{FE}/pause | - | okc 403 okc okc 404 okc
POST   | /api/v1/experiments/{id}/cancel      | /api/v1/experiments/{FE}/cancel | - | ok 403 ok ok 404 ok
POST   | /api/v1/experiments/{id}/kill        | /api/v1/experiments/{FE}/kill | - | ok 403 ok ok 404 ok
POST   | /api/v1/experiments/{id}/archive     | /api/v1/experiments/{FX}/archive | - | ok 403 ok ok 404 ok
POST   | /api/v1/experiments/{id}/unarchive   | /api/v1/experiments/{FA}/unarchive | - | ok 403 ok ok 404 ok
GET    | /api/v1/experiments/{id}/trials      | /api/v1/experiments/{E}/trials | - | ok ok ok ok 404 ok
GET    | /api/v1/experiments/{id}/checkpoints | /api/v1/experiments/{E}/checkpoints | - | ok ok ok ok 404 ok
GET    | /api/v1/experiments/{id}/model_def   | /api/v1/experiments/{E}/model_def | - | ok ok ok ok 404 ok
POST   | /api/v1/experiments/{id}/submitted   | /api/v1/experiments/{E}/submitted | {"job_id": "123"} | okc 403 403 403 403 403
GET    | /api/v1/experiments/{id}/slurm       | /api/v1/experiments/{E}/slurm | - | ok ok ok ok 404 ok
POST   | /api/v1/experiments/{id}/claim       | /api/v1/experiments/{E}/claim | {"array_task": 0} | okc 403 okc okc 404 okc
POST   | /api/v1/preview-hp-search            | =                            | {"config": "name: x\nentrypoint: a\nsearcher: {name: single, metric: m, max_length: {batches: 1}}\n"} | ok ok ok ok ok ok
GET    | /api/v1/trials/{id}                  | /api/v1/trials/{T}           | - | ok ok ok ok 404 ok
POST   | /api/v1/trials/{id}/kill             | /api/v1/trials/{T}/kill      | - | okc 403 okc okc 404 okc
GET    | /api/v1/trials/{id}/metrics          | /api/v1/trials/{T}/metrics   | - | ok ok ok ok 404 ok
GET    | /api/v1/trials/{id}/logs             | /api/v1/trials/{T}/logs      | - | ok ok ok ok 404 ok
GET    | /api/v1/trials/{id}/logs/download    | /api/v1/trials/{T}/logs/download | - | ok ok ok ok 404 ok
GET    | /api/v1/trials/{id}/checkpoints      | /api/v1/trials/{T}/checkpoints | - | ok ok ok ok 404 ok
POST   | /api/v1/trials/{id}/metrics          | /api/v1/trials/{T}/metrics   | {} | 403 403 403 403 403 pass
POST   | /api/v1/trials/{id}/checkpoints      | /api/v1/trials/{T}/checkpoints | {} | 403 403 403 403 403 pass
POST   | /api/v1/trials/{id}/logs             | /api/v1/trials/{T}/logs      | {} | 403 403 403 403 403 pass
POST   | /api/v1/trials/{id}/progress         | /api/v1/trials/{T}/progress  | {} | 403 403 403 403 403 pass
POST   | /api/v1/trials/{id}/early_exit       | /api/v1/trials/{T}/early_exit | {} | 403 403 403 403 403 pass
POST   | /api/v1/trials/{id}/exit             | /api/v1/trials/{T}/exit      | {} | 403 403 403 403 403 pass
GET    | /api/v1/trials/{id}/signals          | /api/v1/trials/{T}/signals?timeout_seconds=0 | - | 403 403 403 403 403 ok
GET    | /api/v1/checkpoints/{uuid}           | /api/v1/checkpoints/{CK}     | - | ok ok ok ok 404 ok
GET    | /api/v1/checkpoints/{uuid}/download  | /api/v1/checkpoints/{CK}/download | - | pass pass pass pass 404 pass
DELETE | /api/v1/checkpoints/{uuid}           | /api/v1/checkpoints/{FCK}    | - | ok 403 ok ok 404 ok
POST   | /api/v1/allocations/{id}/events      | /api/v1/allocations/1/events | {"type": "allocation", "experiment_id": {E}} | 400 400 400 400 400 400
POST   | /api/v1/experiments/{id}/move        | /api/v1/experiments/{FE}/move | {"project": {P}} | 403 403 ok ok 404 ok
POST   | /api/v1/experiments/{id}/fork        | /api/v1/experiments/{E}/fork | {"project": "mx/p"} | 403 403 ok ok 404 ok
POST   | /api/v1/experiments/{id}/continue    | /api/v1/experiments/{E}/continue | {"project": "mx/p"} | 403 403 okc okc 404 okc
POST   | /api/v1/experiments/{id}/set         | /api/v1/experiments/{E}/set  | {"notes": "n"} | ok 403 ok ok 404 ok
GET    | /api/v1/workspaces                   | =                            | - | ok ok ok ok ok ok
POST   | /api/v1/workspaces                   | =                            | {"name": "ws-{U}"} | ok ok ok ok ok ok
GET    | /api/v1/workspaces/{id}              | /api/v1/workspaces/{W}       | - | 404 ok ok ok 404 ok
DELETE | /api/v1/workspaces/{id}              | /api/v1/workspaces/{FW}?force=1 | - | 404 403 403 ok 404 ok
POST   | /api/v1/workspaces/{id}/archive      | /api/v1/workspaces/{FW}/archive | - | 404 403 403 ok 404 ok
POST   | /api/v1/workspaces/{id}/unarchive    | /api/v1/workspaces/{W}/unarchive | - | 404 403 403 ok 404 ok
GET    | /api/v1/workspaces/{id}/projects     | /api/v1/workspaces/{W}/projects | - | 404 ok ok ok 404 ok
POST   | /api/v1/workspaces/{id}/projects     | /api/v1/workspaces/{W}/projects | {"name": "np-{U}"} | 404 403 403 ok 404 ok
GET    | /api/v1/workspaces/{id}/roles        | /api/v1/workspaces/{W}/roles | - | 404 ok ok ok 404 ok
POST   | /api/v1/workspaces/{id}/roles        | /api/v1/workspaces/{W}/roles | {"role": "viewer", "user": "{V}"} | 404 403 403 ok 404 ok
POST   | /api/v1/workspaces/{id}/roles/remove | /api/v1/workspaces/{FW}/roles/remove | {"group": "{G}"} | 404 403 403 ok 404 ok
GET    | /api/v1/templates                    | =                            | - | ok ok ok ok ok ok
POST   | /api/v1/templates                    | =                            | {"name": "tpl-{U}", "workspace": "mx", "config": "max_restarts: 1\n"} | 404 403 ok ok 404 ok
GET    | /api/v1/templates/{uuid}             | /api/v1/templates/{TPL}      | - | 404 ok ok ok 404 ok
POST   | /api/v1/templates/{uuid}             | /api/v1/templates/{TPL}      | {"config": "max_restarts: 2\n"} | 404 403 ok ok 404 ok
DELETE | /api/v1/templates/{uuid}             | /api/v1/templates/{FT}       | - | 404 403 ok ok 404 ok
GET    | /api/v1/models                       | =                            | - | ok ok ok ok ok ok
POST   | /api/v1/models                       | =                            | {"name": "model-{U}"} | ok ok ok ok ok ok
GET    | /api/v1/models/{uuid}                | /api/v1/models/{M}           | - | ok ok ok ok ok ok
POST   | /api/v1/models/{uuid}/versions       | /api/v1/models/{M}/versions  | {"checkpoint_uuid": "{CK}"} | ok 403 403 403 403 ok
GET    | /api/v1/projects                     | =                            | - | ok ok ok ok ok ok
GET    | /api/v1/projects/{id}                | /api/v1/projects/{P}         | - | 404 ok ok ok 404 ok
DELETE | /api/v1/projects/{id}                | /api/v1/projects/{FP}?force=1 | - | 404 403 403 ok 404 ok
POST   | /api/v1/projects/{id}/archive        | /api/v1/projects/{FP}/archive | - | 404 403 403 ok 404 ok
POST   | /api/v1/projects/{id}/unarchive      | /api/v1/projects/{P}/unarchive | - | 404 403 403 okc 404 okc
POST   | /api/v1/tasks                        | =                            | {"argv": ["true"]} | ok ok ok ok ok ok
GET    | /api/v1/tasks                        | =                            | - | ok ok ok ok ok ok
GET    | /api/v1/tasks/{id}                   | /api/v1/tasks/{TASK}         | - | ok 404 404 404 404 ok
POST   | /api/v1/tasks/{id}/kill              | /api/v1/tasks/{FTASK}/kill   | - | ok 404 404 404 404 ok
GET    | /api/v1/tasks/{id}/logs              | /api/v1/tasks/{TASK}/logs    | - | ok 404 404 404 404 ok
POST   | /api/v1/tasks/{id}/register          | /api/v1/tasks/{TASK}/register | {"port": 8000} | 404 404 404 404 404 404
GET    | /api/v1/tasks/{id}/context           | /api/v1/tasks/{TASK}/context | - | 404 404 404 404 404 404
GET    | /api/v1/tasks/{id}/ssh-key           | /api/v1/tasks/{TASK}/ssh-key | - | 400 404 404 404 404 400
GET    | /proxy/{id}/*                        | /proxy/{TASK}/               | - | pass 403 403 403 403 pass
TABLE
)

trim() { local s=$1; s=${s#"${s%%[! ]*}"}; printf '%s' "${s%"${s##*[! ]}"}"; }
users=("$O" "$V" "$E" "$W" "$N" root)
names=(owner viewer editor workspace-admin non-member admin)
while IFS='|' read -r m pat path bodyt want; do
	m=$(trim "$m") pat=$(trim "$pat") path=$(trim "$path") bodyt=$(trim "$bodyt")
	read -r -a exp <<<"$want"
	[ "$path" = = ] && path=$pat
	got= bad=
	for r in 0 1 2 3 4 5; do
		p=$(expand "$path")
		b=
		[ "$bodyt" != - ] && b=$(expand "$bodyt")
		c=$(ucall "${users[$r]}" "$m" "$p" ${b:+"$b"} </dev/null)
		got="$got $c"
		matches "${exp[$r]}" "$c" || bad="$bad ${names[$r]}=$c(want ${exp[$r]})"
	done
	ok "$([ -z "$bad" ] && echo 0 || echo 1)" "$m $pat:$got"
	[ -n "$bad" ] && echo "#  $bad" >&2
done <<<"$table"

# --- every route of api.c has a line ---
api_c="$srcdir/master/api.c"
mine=$(awk -F'|' '{gsub(/ /, "", $1); gsub(/ /, "", $2); print $1 " " $2}' <<<"$table" | sort)
theirs=$(sed -n 's/^[[:space:]]*{"\([A-Z]*\)", "\([^"]*\)", .*/\1 \2/p' "$api_c" | sort)
missing=$(comm -13 <(echo "$mine") <(echo "$theirs"))
check "api.c has routes (parsed)" test "$(echo "$theirs" | wc -l)" -gt 50
eq "every route of api.c is in the matrix" "" "$missing"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
