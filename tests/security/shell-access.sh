#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Shell tasks between real Unix users (doc/tasks.md): a user's shell runs its
# sshd as that user (unprivileged) and its owner reaches it through the
# master's det-tcp tunnel; another user gets 404 for the shell's ssh-key and
# 403 for its tunnel upgrade, an admin may fetch the key; the
# sshd accepts only the task's key (a connection with another key is refused).
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root
det=$builddir/cli/det
if [ ! -x "$det" ] || [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null; then
	echo "1..0 # SKIP det, sshd or ssh is missing"
	exit 0
fi
make_user U V || exit 1
start_master
check "master starts" test -n "$port"
mkdir -m 1777 "$work/u"

as_det() { # USER ARGS...: det as that Unix user over the socket
	local u=$1
	shift
	as_user "$u" env DET_MASTER="unix:$work/m.sock" "$det" "$@"
}
as_sock() { # USER PATH [CURL ARGS...]: GET's HTTP status, body in $work/u/body.USER
	local u=$1 p=$2
	shift 2
	as_user "$u" curl -s -o "$work/u/body.$u" -w '%{http_code}' --unix-socket "$work/m.sock" \
		"$@" "http://localhost$p"
}

id=$(as_det "$U" -o json shell start --detach | jq -r .id)
check "the owner starts a shell" test -n "$id"
wait_task_state "$id" RUNNING
eq "... it runs" RUNNING "$(body .task.state)"

eq "the owner opens it: id -u is the owner's uid" "$(id -u "$U")" \
	"$(as_det "$U" shell open "$id" -- id -u 2>"$work/u/open.err")"
# One argument: ssh hands it to the remote shell, where $PPID is the session's sshd.
# shellcheck disable=SC2016
eq "... and the sshd runs as the owner" "$(id -u "$U")" \
	"$(as_det "$U" shell open "$id" -- 'ps -o uid= -p $PPID' 2>/dev/null | tr -d ' ')"
eq "another user's GET /tasks/ID/ssh-key → 404" 404 "$(as_sock "$V" "/api/v1/tasks/$id/ssh-key")"
eq "... no key in the answer" null "$(jq -r .private_key "$work/u/body.$V")"
eq "another user's tunnel upgrade → 403" 403 \
	"$(as_sock "$V" "/proxy/$id/" -H 'Connection: Upgrade' -H 'Upgrade: det-tcp')"
check "... with a JSON message" jq -e '.error.message | test("owner")' "$work/u/body.$V"
out=$(as_det "$V" shell open "$id" -- id -u 2>&1)
eq "another user's det shell open fails" 1 $?
check "... with not found" grep -q "not found" <<<"$out"
eq "an admin (root on the socket) may fetch the key" 200 "$(sock GET "/tasks/$id/ssh-key")"

# The sshd takes only the task's key: the owner's tunnel with a key of its own is refused.
as_user "$U" ssh-keygen -q -t ed25519 -N '' -f "$work/u/other" || true
out=$(as_user "$U" env DET_MASTER="unix:$work/m.sock" timeout 120 ssh -F /dev/null \
	-o "ProxyCommand=$det shell proxy $id" -o "IdentityFile=$work/u/other" \
	-o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o "User=$U" "det-task-$id" id -u 2>&1)
eq "another key through the owner's own tunnel is refused (ssh exits 255)" 255 $?
check "... by public key authentication" grep -q "Permission denied (publickey)" <<<"$out"
out=$(as_user "$U" env DET_MASTER="unix:$work/m.sock" timeout 120 ssh -F /dev/null \
	-o "ProxyCommand=$det shell proxy $id" -o "IdentityFile=$work/u/other" \
	-o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile=/dev/null -o "User=$V" "det-task-$id" id -u 2>&1)
eq "logging in as another user is refused" 255 $?

as_det "$U" shell kill "$id" >/dev/null
eq "the owner kills it" 0 $?
stop_master TERM
remove_users
echo "1..$tap_n"
exit $((tap_failed > 0))
