#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Collaboration on the test cluster, each user known by MUNGE: two real Unix
# users share a workspace (a Unix group of the first is its editor, the
# second user a viewer). The editor submits a tiny experiment to Slurm into
# the workspace (det submit --workspace --project; the viewer may not), forks
# it, and registers the fork's best checkpoint as version 1 of a model; the
# viewer downloads that version through the Python SDK (get_model → version
# → checkpoint.download) but may not kill the editor's experiment (403).
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
for c in runuser useradd groupadd setpriv munge; do
	command -v "$c" >/dev/null || skip_all "$c not found"
done

group=
collab_cleanup() {
	slurm_cleanup # and the users
	[ -n "$group" ] && groupdel "$group" 2>/dev/null
}
slurm_test_dir
trap collab_cleanup EXIT
slurm_new_user EDITOR || exit 1
slurm_new_user VIEWER || exit 1
group=dcg$$x$RANDOM
passwd_retry groupadd "$group" && passwd_retry usermod -a -G "$group" "$EDITOR" || exit 1
slurm_start_with_master
# The tasks (run as the users) write their output next to the master's files.
chmod 1777 "$test_dir"
tap_plan 12

sock=$test_dir/cluster/munge/munge.socket
# as USER CMD...: a command as that Unix user, talking to the master over TCP with MUNGE.
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --init-groups --reset-env -- \
		env HOME="/tmp/$u.home" PATH="$PATH" DET_MASTER="$det_master_url" DET_MUNGE_SOCKET="$sock" \
		PYTHONPATH="$slurm_tests_dir/../../launcher/python" SLURM_CONF="$SLURM_CONF" "$@"
}
udet() {
	local u=$1
	shift
	as "$u" "$top_builddir/cli/det" "$@"
}

# The admin (root) makes the workspace and gives the roles.
det workspace create team >/dev/null && det project create team p >/dev/null
check "root makes workspace team with project p" test $? = 0
det workspace assign-role editor team --group "$group" >/dev/null &&
	det workspace assign-role viewer team --user "$VIEWER" >/dev/null
check "the group is its editor, the second user a viewer" test $? = 0

# The editor runs the tiny experiment on Slurm in the workspace.
cp -r "$(tiny_model)" "/tmp/$EDITOR.home/tiny" && chown -R "$EDITOR:" "/tmp/$EDITOR.home/tiny"
udet "$EDITOR" submit --workspace team --project p "/tmp/$EDITOR.home/tiny/grid.yaml" \
	"/tmp/$EDITOR.home/tiny" -- -o "$test_dir/editor-%A_%a.out" >"$test_dir/create.out" 2>&1
diag "$(cat "$test_dir/create.out")"
e=$(sed -n 's/^Created experiment \([0-9]*\).*/\1/p' "$test_dir/create.out")
det_api GET "/experiments/${e:-0}" >/dev/null
check_eq "the editor's det submit --workspace team --project p puts it in team/p" \
	"$(det -o json project describe team/p 2>/dev/null | jq -r '.project.id // .id')" \
	"$(det_body .experiment.project_id)"
check "it completes on Slurm" wait_exp_state "${e:-0}" COMPLETED 120
udet "$VIEWER" experiment describe "${e:-0}" >"$test_dir/vdesc.out" 2>&1
check "the viewer sees it" test $? = 0

# The viewer may not submit into the workspace: nothing is created, nothing queued.
cp -r "$(tiny_model)" "/tmp/$VIEWER.home/tiny" && chown -R "$VIEWER:" "/tmp/$VIEWER.home/tiny"
udet "$VIEWER" submit --project team/p "/tmp/$VIEWER.home/tiny/grid.yaml" \
	"/tmp/$VIEWER.home/tiny" >"$test_dir/vsubmit.out" 2>&1
rc=$?
diag "$(cat "$test_dir/vsubmit.out")"
check "the viewer's det submit --project team/p is refused, with no job queued" \
	test "$rc" -ne 0 -a -z "$(squeue -h -u "$VIEWER" -o %i)" -a \
	"$(det_api GET "/experiments?limit=1000" >/dev/null; det_body '.experiments | length')" = 1

# The editor forks it and registers the fork's best checkpoint.
udet "$EDITOR" experiment fork "${e:-0}" --config name=forked >"$test_dir/fork.out" 2>&1
diag "$(cat "$test_dir/fork.out")"
f=$(sed -n 's/^Created experiment \([0-9]*\).*/\1/p' "$test_dir/fork.out")
check "the editor forks it" test -n "$f"
check "the fork completes on Slurm" wait_exp_state "${f:-0}" COMPLETED 120
best=$(as "$EDITOR" python3 -c 'import sys
from determined.experimental import client
print(client.get_experiment(int(sys.argv[1])).top_checkpoint().uuid)' "${f:-0}" 2>"$test_dir/best.err")
[ -s "$test_dir/best.err" ] && diag "$(cat "$test_dir/best.err")"
udet "$EDITOR" model create classifier >/dev/null 2>&1 &&
	udet "$EDITOR" model register-version classifier "$best" >"$test_dir/reg.out" 2>&1
check "the editor registers the fork's best checkpoint (SDK top_checkpoint) as version 1" \
	grep -q "version 1" "$test_dir/reg.out"
diag "$(cat "$test_dir/reg.out")"

# The viewer downloads it with the Python SDK over MUNGE.
as "$VIEWER" python3 - "$best" "/tmp/$VIEWER.home/dl" >"$test_dir/sdk.out" 2>&1 <<'PY'
import json, os, sys
from determined.experimental import client
v = client.get_model("classifier").get_version(1)
assert v.checkpoint.uuid == sys.argv[1], (v.checkpoint.uuid, sys.argv[1])
path = v.checkpoint.download(sys.argv[2])
steps = json.load(open(os.path.join(path, "state.json")))["steps"]
print("downloaded", steps)
PY
check_eq "the viewer downloads version 1 through the Python SDK" "downloaded 10" \
	"$(tail -n 1 "$test_dir/sdk.out")"
[ "$tap_failed" = 0 ] || diag "$(cat "$test_dir/sdk.out")"

# The viewer may not kill the editor's experiment; the editor may.
code=$(as "$VIEWER" curl -s -o /dev/null -w '%{http_code}' -X POST \
	-H "Authorization: Munge $(as "$VIEWER" munge -n -S "$sock")" \
	"$det_master_url/api/v1/experiments/${f:-0}/kill")
check_eq "the viewer gets 403 killing the editor's experiment" 403 "$code"
udet "$VIEWER" experiment kill "${f:-0}" >"$test_dir/vkill.out" 2>&1
check "det experiment kill as the viewer fails too" test $? -ne 0
tap_done
