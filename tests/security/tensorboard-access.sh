#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A TensorBoard shows only what its owner may read: a second Unix user gets 404
# (as for an experiment it cannot see, so ids cannot be probed) when starting
# one for the first user's experiment or trial, and no task is made; the
# owner's own request is accepted and runs as the owner. The experiment is in
# the owner's workspace (the default workspace lets every user read).
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root
make_user U V || exit 1
start_master
check "master starts" test -n "$port"

mkdir -m 1777 "$work/u"
as_post() { # USER PATH FILE: HTTP status, body in $work/u/body.USER
	as_user "$1" curl -s -o "$work/u/body.$1" -w '%{http_code}' --unix-socket "$work/m.sock" \
		-X POST -H 'Content-Type: application/json' --data-binary @"$3" "http://localhost/api/v1$2"
}

cat >"$work/exp.yaml" <<'YAML'
name: tb-owner
entrypoint: python3 train.py
searcher: {name: single, metric: val_loss, max_length: {batches: 1}}
YAML
printf 'model bytes' | gzip >"$work/model.tgz"
# The default workspace lets every user read; the owner's own workspace does not.
echo '{"name": "u-space"}' >"$work/u/ws.json"
chmod 644 "$work/u/ws.json"
eq "the owner creates a workspace" 200 "$(as_post "$U" /workspaces "$work/u/ws.json")"
ws=$(jq -r .workspace.id <"$work/u/body.$U")
echo '{"name": "p"}' >"$work/u/p.json"
chmod 644 "$work/u/p.json"
eq "... and a project in it" 200 "$(as_post "$U" "/workspaces/$ws/projects" "$work/u/p.json")"
proj=$(jq -r .project.id <"$work/u/body.$U")
jq -n --rawfile c "$work/exp.yaml" --arg m "$(base64 -w0 "$work/model.tgz")" --arg p "$proj" \
	'{config: $c, model_definition: $m, project: $p}' >"$work/u/exp.json"
chmod 644 "$work/u/exp.json"
eq "the owner creates an experiment" 200 "$(as_post "$U" /experiments "$work/u/exp.json")"
e=$(jq -r .id <"$work/u/body.$U")
check "it completes" wait_state "$e" COMPLETED 60
sock GET "/experiments/$e/trials" >/dev/null
t=$(body '.trials[0].id')

echo "{\"kind\": \"tensorboard\", \"experiment_ids\": [$e]}" >"$work/u/by-exp.json"
echo "{\"kind\": \"tensorboard\", \"trial_ids\": [$t]}" >"$work/u/by-trial.json"
chmod 644 "$work/u/by-exp.json" "$work/u/by-trial.json"
sock GET "/tasks?kind=tensorboard" >/dev/null
eq "no TensorBoard yet" 0 "$(body '.tasks | length')"
eq "another user starting one for the owner's experiment gets 404" 404 \
	"$(as_post "$V" /tasks "$work/u/by-exp.json")"
check "... which names the experiment, not the owner's data" \
	grep -q "experiment $e not found" "$work/u/body.$V"
eq "... and for the owner's trial 404" 404 "$(as_post "$V" /tasks "$work/u/by-trial.json")"
sock GET "/tasks?kind=tensorboard" >/dev/null
eq "... no task was made" 0 "$(body '.tasks | length')"
eq "the owner starts one for the experiment" 201 "$(as_post "$U" /tasks "$work/u/by-exp.json")"
eq "... owned by the owner's uid" "$(id -u "$U")" "$(jq -r .task.owner_uid <"$work/u/body.$U")"

stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
