#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The web UI's session cookie on /proxy/<id>/ (doc/tasks.md): a task's own
# pages (Jupyter's) cannot send X-Det-CSRF, so there a POST with the cookie
# alone is relayed when the browser says it comes from the master's own
# origin (Sec-Fetch-Site: same-origin, or an Origin naming the Host), and
# refused (403, the task never sees it) from another site, with a
# Sec-Fetch-Site other than same-origin, or with neither header. The
# master's own API still wants X-Det-CSRF whatever the origin.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
if [ ! -x /usr/bin/python3 ]; then
	echo "1..0 # SKIP /usr/bin/python3 is missing"
	exit 0
fi
start_master
check "master starts" test -n "$port"
pw=$(cat "$work/state/admin-password")
cp "$srcdir/tests/security/proxy-backend.py" "$work/backend.py"
jq -n --arg b "$work/backend.py" --arg t "$work/token" '{kind: "command", argv: ["/usr/bin/python3", $b, $t]}' \
	>"$work/task.json"
eq "a serving command starts" 201 "$(sock POST /tasks @"$work/task.json")"
id=$(body .task.id)
registered() {
	for _ in $(seq 600); do
		sock GET "/tasks/$id" >/dev/null
		[ "$(body .task.state)" = RUNNING ] && [ -s "$work/token" ] &&
			[ -n "$(sqlite3 "$work/state/master.db" "SELECT proxy_port FROM tasks WHERE id = $id")" ] &&
			return 0
		sleep 0.1
	done
	return 1
}
check "... it runs and registers its port (60 s)" registered

curl -s -D "$work/hdr" -o /dev/null -H 'Content-Type: application/json' \
	--data-binary "{\"username\":\"admin\",\"password\":\"$pw\"}" "$base/auth/login"
sess=$(sed -n 's/^[Ss]et-[Cc]ookie: det_session=\([^;]*\);.*/\1/p' "$work/hdr" | tr -d '\r' | head -n1)
check "a password login sets the session cookie" test -n "$sess"
post() { # PATH [CURL ARGS...]: status of a POST with the session cookie alone
	local p=$1
	shift
	curl -s -o "$work/out" -w '%{http_code}' -X POST -H "Cookie: det_session=$sess" \
		-H 'Content-Type: application/json' --data-binary '{}' "$@" "http://127.0.0.1:$port$p"
}
self=http://127.0.0.1:$port
eq "POST /proxy/$id/ with Sec-Fetch-Site: same-origin: relayed (the task answers 201)" 201 \
	"$(post "/proxy/$id/a" -H 'Sec-Fetch-Site: same-origin')"
eq "... the task got it" POST "$(jq -r .method "$work/out")"
eq "... with an Origin naming the master (no Sec-Fetch-Site): relayed" 201 \
	"$(post "/proxy/$id/b" -H "Origin: $self")"
eq "... from another site's Origin: 403" 403 "$(post "/proxy/$id/c" -H 'Origin: http://evil.example')"
eq "... an Origin on another port of the host: 403" 403 \
	"$(post "/proxy/$id/c" -H "Origin: http://127.0.0.1:$((port + 1))")"
eq "... Sec-Fetch-Site: same-site (a sibling host): 403" 403 \
	"$(post "/proxy/$id/c" -H 'Sec-Fetch-Site: same-site' -H "Origin: $self")"
eq "... Sec-Fetch-Site: cross-site with a forged matching Origin: 403" 403 \
	"$(post "/proxy/$id/c" -H 'Sec-Fetch-Site: cross-site' -H "Origin: $self")"
eq "... neither header: 403" 403 "$(post "/proxy/$id/c")"
eq "... Origin: null (a sandboxed page): 403" 403 "$(post "/proxy/$id/c" -H 'Origin: null')"
eq "the master's API with Sec-Fetch-Site: same-origin still wants X-Det-CSRF: 403" 403 \
	"$(post "/api/v1/tasks/$id/kill" -H 'Sec-Fetch-Site: same-origin' -H "Origin: $self")"
eq "... and the task runs on" RUNNING "$(sock GET "/tasks/$id" >/dev/null; body .task.state)"
eq "kill" 200 "$(sock POST "/tasks/$id/kill")"
stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
