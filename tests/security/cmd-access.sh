#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Commands belong to their owner: a det-master running as root runs a second
# Unix user's command as that user (uid, gid, not root, none of the master's
# environment), and a third user can neither see it (describe, logs, list:
# 404 / absent, so ids cannot be probed) nor kill it; the owner and an admin can.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root
need_det
make_user U V || exit 1
export OWNER_TEST_MARKER=from-the-master
start_master
check "master starts" test -n "$port"

as_det() { # USER ARGS...: det as that Unix user over the socket
	local u=$1
	shift
	as_user "$u" env DET_MASTER="unix:$work/m.sock" "$det" "$@"
}
mkdir -m 1777 "$work/u"
as_sock() { # USER METHOD PATH: HTTP status, body in $work/u/body.USER
	as_user "$1" curl -s -o "$work/u/body.$1" -w '%{http_code}' --unix-socket "$work/m.sock" \
		-X "$2" "http://localhost/api/v1$3"
}

out=$(as_det "$U" cmd run sh -c 'echo "$(id -u) $(id -g) ${OWNER_TEST_MARKER:-unset}"' \
	2>"$work/run.err")
eq "the owner's det cmd run exits 0" 0 $?
eq "the command runs as the owner's uid and gid, without the master's environment" \
	"$(id -u "$U") $(id -g "$U") unset" "$out"
id=$(sed -n 's/^det: command //p' "$work/run.err")
check "its id was printed" test -n "$id"

eq "the owner reads it" 200 "$(as_sock "$U" GET "/tasks/$id")"
eq "another user gets 404 on it" 404 "$(as_sock "$V" GET "/tasks/$id")"
eq "... 404 on its logs" 404 "$(as_sock "$V" GET "/tasks/$id/logs")"
check "... and no output of it" bash -c "! grep -q '$(id -u "$U")' '$work/u/body.$V'"
eq "... and it is not in their list" 0 "$(as_det "$V" -o json task list | jq 'length')"
eq "det task logs as the other user fails" 1 "$(as_det "$V" task logs "$id" >/dev/null 2>&1; echo $?)"
eq "an admin (root) reads it" 200 "$(sock GET "/tasks/$id")"

# A running command of U: V cannot kill it, U can.
as_det "$U" cmd run --detach sleep 300 >/dev/null
sid=$(as_det "$U" -o json cmd list | jq -r 'map(select(.state != "TERMINATED")) | .[0].task_id | ltrimstr("task-")')
wait_task_state "$sid" RUNNING
eq "the owner's sleeping command is RUNNING" RUNNING "$(body .task.state)"
check "... as the owner's uid" pgrep -u "$(id -u "$U")" -x sleep
eq "another user's kill gets 404" 404 "$(as_sock "$V" POST "/tasks/$sid/kill")"
eq "det task kill as the other user fails" 1 "$(as_det "$V" task kill "$sid" >/dev/null 2>&1; echo $?)"
sock GET "/tasks/$sid" >/dev/null
eq "... and the command still runs" RUNNING "$(body .task.state)"
eq "the owner kills it" 200 "$(as_sock "$U" POST "/tasks/$sid/kill")"
eq "... TERMINATED, reason killed" "TERMINATED killed" \
	"$(jq -r '.task | "\(.state) \(.end_reason)"' "$work/u/body.$U")"
for _ in $(seq 600); do
	pgrep -u "$(id -u "$U")" -x sleep >/dev/null || break
	sleep 0.1
done
check "... and its process is gone" bash -c "! pgrep -u $(id -u "$U") -x sleep"

stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
