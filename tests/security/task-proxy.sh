#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Interactive tasks' addresses and the /proxy/<id>/ relay (doc/tasks.md): a
# second Unix user's running command registers the port it serves on with
# the token the master gave it (only its own, only while RUNNING, host never
# from the body); its owner and an admin reach it through /proxy/<id>/ (any
# method, headers and body relayed, the user's credentials never), a third
# user gets 403 (a task that does not exist 404), nobody names the target; a task that does
# not serve answers 502 at once; slow backends do not hold up the master; the
# address is gone when the task ends. WebSocket upgrades are relayed too.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root
need_det /usr/bin/python3
make_user U V || exit 1
start_master
check "master starts" test -n "$port"

mkdir -m 1777 "$work/u"
cp "$srcdir/tests/security/proxy-backend.py" "$work/u/backend.py"
chmod 0755 "$work/u/backend.py"
as_det() { # USER ARGS...: det as that Unix user over the socket
	local u=$1
	shift
	as_user "$u" env DET_MASTER="unix:$work/m.sock" "$det" "$@"
}
as_sock() { # USER METHOD PATH [CURL ARGS...]: HTTP status, body in $work/u/body.USER
	local u=$1 m=$2 p=$3
	shift 3
	as_user "$u" curl -s -o "$work/u/body.$u" -w '%{http_code}' --unix-socket "$work/m.sock" \
		-X "$m" "$@" "http://localhost$p"
}
wait_task() { # ID: until it is RUNNING and registered (or 60 s)
	for _ in $(seq 600); do
		[ -s "$work/u/token.$1" ] && sock GET "/tasks/$1" >/dev/null &&
			[ "$(body .task.state)" = RUNNING ] &&
			[ -n "$(sqlite3 "$work/state/master.db" "SELECT proxy_port FROM tasks WHERE id = $1")" ] &&
			return 0
		sleep 0.1
	done
	return 1
}

# The backend learns its own id from DET_TASK_ID; the token file is named by it.
id=$(as_det "$U" -o json cmd run --detach sh -c \
	"exec /usr/bin/python3 $work/u/backend.py $work/u/token.\$DET_TASK_ID" | jq -r .id)
check "the owner starts a serving command" test -n "$id"
check "... it runs and registers its port" wait_task "$id"
eq "... the address is the task's own machine" 127.0.0.1 \
	"$(sqlite3 "$work/state/master.db" "SELECT proxy_host FROM tasks WHERE id = $id")"
tok=$(cat "$work/u/token.$id")
eq "... its token is not stored, only its hash" 0 \
	"$(sqlite3 "$work/state/master.db" "SELECT count(*) FROM tasks WHERE token_hash = '$tok'")"

# Registration: only with the task's own token, only a port.
eq "registering without a token: 404" 404 "$(http POST "/tasks/$id/register" '{"port": 22}')"
eq "... with a user's token: 404" 404 \
	"$(http POST "/tasks/$id/register" '{"port": 22}' "$(printf '%064d' 7)")"
eq "... a host in the body: 400" 400 \
	"$(http POST "/tasks/$id/register" '{"port": 22, "host": "10.0.0.1"}' "$tok")"
eq "... port 0: 400" 400 "$(http POST "/tasks/$id/register" '{"port": 0}' "$tok")"
eq "... port 70000: 400" 400 "$(http POST "/tasks/$id/register" '{"port": 70000}' "$tok")"
eq "... another task's id with this token: 404" 404 \
	"$(http POST "/tasks/$((id + 1000))/register" '{"port": 22}' "$tok")"
eq "the address did not change" 127.0.0.1 \
	"$(sqlite3 "$work/state/master.db" "SELECT proxy_host FROM tasks WHERE id = $id")"

# The relay, as the owner.
eq "the owner's GET through /proxy/$id/: the backend's status" 200 \
	"$(as_sock "$U" GET "/proxy/$id/some/path?a=b%20c&d=%2F")"
eq "... the path and query as sent" "/proxy/$id/some/path?a=b%20c&d=%2F" \
	"$(jq -r .path "$work/u/body.$U")"
eq "... the backend runs as the owner's uid" "$(id -u "$U")" "$(jq -r .uid "$work/u/body.$U")"
eq "the owner's POST: body and headers relayed" "201 POST hello-body yes" \
	"$(as_sock "$U" POST "/proxy/$id/x" -H 'X-Custom: yes' --data-binary hello-body) $(jq -r '"\(.method) \(.body) \(.headers["x-custom"])"' "$work/u/body.$U")"
eq "PUT and DELETE too" "200 200" \
	"$(as_sock "$U" PUT "/proxy/$id/x" --data-binary x) $(as_sock "$U" DELETE "/proxy/$id/x")"
# Over TCP with a bearer token and a session cookie: neither reaches the task.
admin_login utok
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $utok" \
	-H 'Cookie: det_session=abc; keep=1; det_csrf=def' "http://127.0.0.1:$port/proxy/$id/t")
eq "an admin's bearer token over TCP: 200" 200 "$code"
eq "... the Authorization header is not relayed" null "$(body '.headers.authorization')"
eq "... nor the session cookies (others are)" "keep=1" "$(body '.headers.cookie')"
code=$(curl -s -D "$work/hdr" -o "$work/body" -w '%{http_code}' -H "Cookie: det_session=$utok" \
	"http://127.0.0.1:$port/proxy/$id/t")
eq "an admin's session cookie (web UI) over TCP: 200" 200 "$code"
check "... the backend's Set-Cookie is relayed" grep -qi '^Set-Cookie: backend=1' "$work/hdr"
check "... its other headers are not" bash -c "! grep -qi '^X-Backend-Private' '$work/hdr'"
check "... its Content-Type is" grep -qi '^Content-Type: application/json; charset=utf-8' "$work/hdr"

# Who may: the owner and admins only.
eq "another user's GET: 403" 403 "$(as_sock "$V" GET "/proxy/$id/")"
check "... with a JSON message naming the rule" jq -e '.error.message | test("owner")' "$work/u/body.$V"
eq "... while GET /tasks/ID stays 404 for them" 404 "$(as_sock "$V" GET "/api/v1/tasks/$id")"
eq "another user's POST: 403" 403 "$(as_sock "$V" POST "/proxy/$id/x" --data-binary x)"
eq "a password user that is not the owner: 403" 403 "$(http POST /users \
	'{"username": "mallory", "password": "mallory-pw-1"}' "$utok" >/dev/null; http POST /auth/login \
	'{"username": "mallory", "password": "mallory-pw-1"}' >/dev/null
	curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(body .token)" \
		"http://127.0.0.1:$port/proxy/$id/")"
eq "no credentials over TCP: 401" 401 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/proxy/$id/")"
eq "an admin (root) gets through" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$work/m.sock" "http://localhost/proxy/$id/")"
eq "a task that does not exist: 404" 404 "$(as_sock "$U" GET "/proxy/$((id + 1000))/")"

# WebSocket: the upgrade is relayed, then bytes both ways; the same rule of access.
ws() { # USER: status, accept and echo of a WebSocket through /proxy/$id/ws as that user
	as_user "$1" /usr/bin/python3 "$work/u/ws.py" "$work/m.sock" "/proxy/$id/ws"
}
cp "$srcdir/tests/security/proxy-ws-client.py" "$work/u/ws.py"
eq "the owner's WebSocket: switched, the task's handshake, bytes echoed" \
	"101 s3pPLMBiTxaQ9kYGzzhZRbK+xOo= ping-bytes" "$(ws "$U")"
eq "another user's WebSocket upgrade: 403" "403 - -" "$(ws "$V")"

# A running task that never registered: 502 with a JSON message, at once.
sid=$(as_det "$U" -o json cmd run --detach sleep 300 | jq -r .id)
wait_task_state "$sid" RUNNING
eq "a running task without a port: 502" 502 "$(as_sock "$U" GET "/proxy/$sid/" -m 60)"
check "... with a JSON message" jq -e '.error.message | test("registered")' "$work/u/body.$U"

# More slow requests than the server has threads: the master still answers.
slow=
for i in $(seq 12); do
	as_sock "$U" GET "/proxy/$id/slow" -m 90 >"$work/u/slow.$i" &
	slow="$slow $!"
done
sleep 1
eq "with 12 slow relays in flight the master answers" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -m 30 "http://127.0.0.1:$port/api/v1/health")"
eq "... and another relay to the same task" 200 "$(as_sock "$U" GET "/proxy/$id/fast" -m 30)"
# shellcheck disable=SC2086 # one pid a word
wait $slow
eq "... the slow ones all answered 200" "$(printf '200%.0s' $(seq 12))" "$(cat "$work"/u/slow.*)"

# The end of the task ends its address.
eq "the owner kills it" 200 "$(as_sock "$U" POST "/api/v1/tasks/$id/kill")"
eq "... its address is cleared" "" \
	"$(sqlite3 "$work/state/master.db" "SELECT proxy_port FROM tasks WHERE id = $id")"
eq "... the proxy answers 502" 502 "$(as_sock "$U" GET "/proxy/$id/" -m 60)"
eq "... and it cannot register again (409)" 409 \
	"$(http POST "/tasks/$id/register" '{"port": 8000}' "$tok")"
as_sock "$U" POST "/api/v1/tasks/$sid/kill" >/dev/null

stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
