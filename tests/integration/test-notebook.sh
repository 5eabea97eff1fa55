#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Notebook tasks on the local resource manager (doc/tasks.md): POST /tasks
# with kind "notebook" runs Jupyter under det-notebook-launch, which
# registers its port and token; /proxy/ID/ reaches it with the user's master
# credentials only (the relay adds Jupyter's token), a kernel runs code over
# its WebSocket channel, an idle notebook ends TERMINATED with reason "idle",
# and a PATH without jupyter ends the task at once with that reason.
set -u
. "$(dirname "$0")/master-lib.sh"
if [ ! -x /usr/bin/jupyter ] || ! /usr/bin/python3 -c 'import notebook, ipykernel' 2>/dev/null; then
	echo "1..0 # SKIP jupyter-notebook or python3-ipykernel is missing"
	exit 0
fi
cat >"$work/master.yaml" <<YAML
notebook_launcher: $srcdir/share/det-notebook-launch
YAML
start_master --config "$work/master.yaml"
check "master starts" test -n "$port"
admin_login tok
proxy() { # METHOD PATH [BODY]: through /proxy/ with the bearer token
	curl -s -o "$work/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $tok" \
		${3:+-H 'Content-Type: application/json' --data-binary "$3"} "http://127.0.0.1:$port$2"
}
wait_task() { # ID STATE [SECONDS]: until it is in STATE (RUNNING: and registered)
	for _ in $(seq $((${3:-60} * 10))); do
		sock GET "/tasks/$1" >/dev/null
		if [ "$(body .task.state)" = "$2" ]; then
			[ "$2" != RUNNING ] || [ "$(body .task.proxy_url)" != null ] && return 0
		fi
		[ "$(body .task.state)" = TERMINATED ] && [ "$2" != TERMINATED ] && return 1
		sleep 0.1
	done
	return 1
}

eq "a command (to tell apart)" 201 "$(sock POST /tasks '{"kind": "command", "argv": ["true"]}')"
cid=$(body .task.id)

# Validation: a notebook runs the master's launcher, nothing of the user's.
eq "a notebook with argv: 400" 400 "$(sock POST /tasks '{"kind": "notebook", "argv": ["sh"]}')"
eq "a bad idle_timeout: 400" 400 "$(sock POST /tasks '{"kind": "notebook", "idle_timeout": "5x"}')"
eq "idle_timeout on a command: 400" 400 \
	"$(sock POST /tasks '{"kind": "command", "argv": ["true"], "idle_timeout": 5}')"
eq "a register token with a space: 400" 400 \
	"$(http POST /tasks/1/register '{"port": 80, "token": "a b"}' "$(printf '%064d' 7)")"

eq "a notebook starts" 201 "$(sock POST /tasks '{"kind": "notebook", "description": "nb"}')"
id=$(body .task.id)
eq "... its kind" notebook "$(body .task.kind)"
check "... it runs and registers its port (120 s)" wait_task "$id" RUNNING 120
eq "... proxy_url" "/proxy/$id/" "$(body .task.proxy_url)"
eq "... in the task list too" "/proxy/$id/" \
	"$(sock GET "/tasks?kind=notebook" >/dev/null; body ".tasks[] | select(.task_id == \"task-$id\") | .proxy_url")"
eq "... not for a command" null \
	"$(sock GET /tasks >/dev/null; body ".tasks[] | select(.task_id == \"task-$cid\") | .proxy_url")"
eq "GET /proxy/$id/api/status with the bearer token: Jupyter answers" 200 \
	"$(proxy GET "/proxy/$id/api/status")"
check "... its status has last_activity" test "$(body .last_activity)" != null
eq "POST /proxy/$id/api/kernels: a kernel starts" 201 "$(proxy POST "/proxy/$id/api/kernels" '{}')"
kid=$(body .id)
check "... it has an id" test -n "$kid" -a "$kid" != null
eq "the kernel runs code over its WebSocket channel: the hostname" "$(hostname)" \
	"$(/usr/bin/python3 "$srcdir/tests/integration/notebook-kernel.py" "$port" "$tok" \
		"/proxy/$id/api/kernels/$kid/channels" 'import socket; print(socket.gethostname())')"
# A master that restarts adopts the running notebook (as a command) and relays to it again.
stop_master TERM
start_master --config "$work/master.yaml"
check "the master starts again" test -n "$port"
http POST /auth/login "{\"username\":\"admin\",\"password\":\"$pw\"}" >/dev/null
tok=$(body .token)
eq "... the notebook is still RUNNING" RUNNING "$(sock GET "/tasks/$id" >/dev/null; body .task.state)"
eq "... and reached through /proxy/$id/" 200 "$(proxy GET "/proxy/$id/api/status")"
jport=$(sqlite3 "$work/state/master.db" "SELECT proxy_port FROM tasks WHERE id = $id")
eq "Jupyter's own port without its token: 403" 403 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$jport/proxy/$id/api/status")"
eq "kill" 200 "$(sock POST "/tasks/$id/kill")"
check "... it ends" wait_task "$id" TERMINATED 60
gone() { # PORT: until nothing answers on it (60 s)
	for _ in $(seq 600); do
		curl -s -o /dev/null "http://127.0.0.1:$1/" || return 0
		sleep 0.1
	done
	return 1
}
check "... and Jupyter stops (the kill reached the adopted process)" gone "$jport"
eq "... its address and token are gone" "0" \
	"$(sqlite3 "$work/state/master.db" "SELECT count(*) FROM tasks WHERE id = $id AND (proxy_port IS NOT NULL OR proxy_auth IS NOT NULL)")"

# Idle: nothing connects, so after idle_timeout the launcher stops Jupyter.
eq "a notebook with idle_timeout 20 s" 201 "$(sock POST /tasks '{"kind": "notebook", "idle_timeout": 20}')"
idle=$(body .task.id)
check "... it runs" wait_task "$idle" RUNNING 120
check "... it ends by itself when idle (180 s)" wait_task "$idle" TERMINATED 180
eq "... end_reason idle" idle "$(body .task.end_reason)"

# No jupyter in PATH: the task ends at once with that reason.
eq "a notebook whose PATH has no jupyter" 201 "$(sock POST /tasks \
	'{"kind": "notebook", "environment": {"environment_variables": ["PATH=/nonexistent"]}}')"
nj=$(body .task.id)
check "... it ends (60 s)" wait_task "$nj" TERMINATED 60
eq "... end_reason" "jupyter not found in PATH" "$(body .task.end_reason)"

# The CLI: start waits until it serves and prints its URL; list, open, kill.
det() { DET_MASTER="unix:$work/m.sock" "$builddir/cli/det" "$@"; }
url=$(det notebook start --idle-timeout 10m 2>"$work/start.err")
nid=$(sed -n 's/^det: notebook //p' "$work/start.err")
check "det notebook start prints the notebook's id" test -n "$nid"
eq "... and its URL (a Unix socket master: the path)" "/proxy/$nid/" "$url"
eq "det -o json notebook list has it, RUNNING" RUNNING \
	"$(det -o json notebook list | jq -r ".[] | select(.task_id == \"task-$nid\") | .state")"
eq "det notebook open ID: its URL" "/proxy/$nid/" "$(det notebook open "$nid")"
eq "det -o json notebook open ID: the task" "/proxy/$nid/" "$(det -o json notebook open "$nid" | jq -r .proxy_url)"
det notebook open "$cid" >/dev/null 2>&1
eq "det notebook open on a command: refused" 1 "$?"
eq "det notebook kill ID" "Notebook $nid is TERMINATED" "$(det notebook kill "$nid")"
det notebook open "$nid" >/dev/null 2>&1
eq "det notebook open on an ended notebook: refused" 1 "$?"
det notebook start --idle-timeout 5x >/dev/null 2>&1
check "det notebook start --idle-timeout 5x: refused" test "$?" != 0
det -o json notebook start --detach >"$work/detach.json"
eq "det -o json notebook start --detach: the task at once" notebook "$(jq -r .kind "$work/detach.json")"
eq "... it is killed (a notebook outlives a master that stops)" 200 \
	"$(sock POST "/tasks/$(jq -r .id "$work/detach.json")/kill")"

stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
