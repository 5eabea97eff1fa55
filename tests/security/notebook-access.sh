#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Who reaches a notebook (doc/tasks.md): a second Unix user's notebook runs
# Jupyter as that user; a third user gets 403 on its /proxy/<id>/ (HTTP and
# the WebSocket upgrade) and 404 on /tasks/<id>; Jupyter's own port refuses a
# request without the notebook's token (403), which only the relay adds.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root
if [ ! -x /usr/bin/jupyter ] || ! /usr/bin/python3 -c 'import notebook, ipykernel' 2>/dev/null; then
	echo "1..0 # SKIP jupyter-notebook or python3-ipykernel is missing"
	exit 0
fi
make_user U V || exit 1
# The launcher where the test users can read it.
mkdir -m 0755 "$work/nb"
install -m 0755 "$srcdir/share/det-notebook-launch" "$work/nb/det-notebook-launch"
install -m 0755 "$srcdir/tests/security/proxy-ws-client.py" "$work/nb/ws.py"
printf 'notebook_launcher: %s\n' "$work/nb/det-notebook-launch" >"$work/master.yaml"
start_master --config "$work/master.yaml"
check "master starts" test -n "$port"

as_sock() { # USER METHOD PATH [CURL ARGS...]: HTTP status, body in $work/nb/body.USER
	local u=$1 m=$2 p=$3
	shift 3
	: >"$work/nb/body.$u"
	chmod 0666 "$work/nb/body.$u"
	as_user "$u" curl -s -o "$work/nb/body.$u" -w '%{http_code}' --unix-socket "$work/m.sock" \
		-H 'Content-Type: application/json' -X "$m" "$@" "http://localhost$p"
}
wait_running() { # USER ID: until it is RUNNING with an address (120 s)
	for _ in $(seq 1200); do
		as_sock "$1" GET "/api/v1/tasks/$2" >/dev/null
		[ "$(jq -r .task.proxy_url "$work/nb/body.$1")" != null ] && return 0
		[ "$(jq -r .task.state "$work/nb/body.$1")" = TERMINATED ] && return 1
		sleep 0.1
	done
	return 1
}

eq "the first user starts a notebook" 201 \
	"$(as_sock "$U" POST /api/v1/tasks --data-binary '{"kind": "notebook"}')"
id=$(jq -r .task.id "$work/nb/body.$U")
check "... it runs and registers its port" wait_running "$U" "$id"
eq "... the owner reaches Jupyter through /proxy/$id/" 200 \
	"$(as_sock "$U" GET "/proxy/$id/api/status")"

eq "another user's GET /proxy/$id/: 403" 403 "$(as_sock "$V" GET "/proxy/$id/api/status")"
check "... with a JSON message" jq -e '.error.message | test("owner")' "$work/nb/body.$V"
eq "another user's POST /proxy/$id/api/kernels: 403" 403 \
	"$(as_sock "$V" POST "/proxy/$id/api/kernels" --data-binary '{}')"
eq "another user's WebSocket upgrade: 403" "403 - -" \
	"$(as_user "$V" /usr/bin/python3 "$work/nb/ws.py" "$work/m.sock" "/proxy/$id/api/events/subscribe")"
eq "another user's GET /tasks/$id: 404" 404 "$(as_sock "$V" GET "/api/v1/tasks/$id")"

jport=$(sqlite3 "$work/state/master.db" "SELECT proxy_port FROM tasks WHERE id = $id")
check "the registered port is known" test -n "$jport"
eq "Jupyter's port without the token (another user on the node): 403" 403 \
	"$(as_user "$V" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$jport/proxy/$id/api/status")"
eq "... a kernel without the token: 403" 403 \
	"$(as_user "$V" curl -s -o /dev/null -w '%{http_code}' -X POST -d '{}' "http://127.0.0.1:$jport/proxy/$id/api/kernels")"
eq "... a wrong token: 403" 403 \
	"$(as_user "$V" curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: token x' "http://127.0.0.1:$jport/proxy/$id/api/status")"
pid=$(ss -Hltnp "sport = :$jport" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)
check "the process listening on it is known" test -n "$pid"
eq "... Jupyter runs as the owner's uid" "$(id -u "$U")" "$(stat -c %u "/proc/$pid")"

tok=$(sqlite3 "$work/state/master.db" "SELECT proxy_auth FROM tasks WHERE id = $id")
check "Jupyter's token is stored for the relay" test -n "$tok"
printf '%s\n' "$tok" >"$work/nb/tok"
ps -eo args >"$work/nb/ps"
check "... and is not in any process's argv (ps shows argv to everyone)" \
	test "$(grep -cF -f "$work/nb/tok" "$work/nb/ps")" = 0
eq "the owner kills it" 200 "$(as_sock "$U" POST "/api/v1/tasks/$id/kill")"
eq "... then /proxy/$id/ answers 502" 502 "$(as_sock "$U" GET "/proxy/$id/api/status")"

stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
