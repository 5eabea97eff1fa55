#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The web UI's session cookie against a real det-master: a password login
# sets det_session (HttpOnly, SameSite=Strict) and det_csrf; the cookie alone
# authenticates reads, but a state-changing request with only the cookie (a
# cross-site POST, a forged or missing X-Det-CSRF) is refused and changes
# nothing; logout revokes the session on the master and clears the cookies;
# the cookie carries only a login's token; bearer tokens work as before.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"

start_master
check "master starts" test -n "$port"
pw=$(cat "$work/state/admin-password")
admin_tok() {
	http POST /auth/login "{\"username\":\"admin\",\"password\":\"$pw\"}" >/dev/null
	body .token
}
admin=$(admin_tok)
# carol logs in with a password (an administrator, so she may act on the
# experiment made below over the socket).
eq "a user for the browser" 200 "$(http POST /users '{"username":"carol","password":"carol-secret-1","admin":true}' "$admin")"

# --- login sets the cookies ---
curl -s -D "$work/hdr" -o "$work/body" -H 'Content-Type: application/json' \
	--data-binary '{"username":"carol","password":"carol-secret-1"}' "$base/auth/login"
cookie() { sed -n "s/^[Ss]et-[Cc]ookie: $1=\\([^;]*\\);.*/\\1/p" "$work/hdr" | tr -d '\r' | head -n1; }
attrs() { grep -i "^set-cookie: $1=" "$work/hdr" | tr -d '\r'; }
sess=$(cookie det_session)
csrf=$(cookie det_csrf)
eq "login still answers the token (the CLI's bearer API)" 64 "$(body .token | tr -d '\n' | wc -c)"
eq "det_session holds the login's token" "$(body .token)" "$sess"
attrs det_session | grep -q 'HttpOnly' && attrs det_session | grep -q 'SameSite=Strict' &&
	attrs det_session | grep -q 'Path=/'
ok $? "det_session is HttpOnly, SameSite=Strict, Path=/"
attrs det_csrf | grep -qv 'HttpOnly'
ok $? "det_csrf is readable by the page's script (not HttpOnly)"
check "det_csrf is not the token" test -n "$csrf" -a "$csrf" != "$sess"

# A paused experiment to act on.
printf 'name: mine\nentrypoint: x\nsearcher: {name: single, metric: m, max_length: {batches: 1}}\n' >"$work/c.yaml"
e=$(create_exp "$work/c.yaml" false)
check "a paused experiment" test -n "$e" -a "$e" != null
state() { sock GET "/experiments/$e" >/dev/null; body .experiment.state; }

# --- the cookie alone ---
jar=(-H "Cookie: det_session=$sess; det_csrf=$csrf")
code=$(curl -s -o "$work/body" -w '%{http_code}' "${jar[@]}" "$base/me")
eq "GET /me with the cookie only: carol" "200 carol" "$code $(body .username)"
code=$(curl -s -o "$work/body" -w '%{http_code}' -X POST "${jar[@]}" \
	-H 'Origin: http://evil.example' "$base/experiments/$e/activate")
eq "a cross-site POST with only the cookie → 403" 403 "$code"
check "... saying why" grep -q 'X-Det-CSRF' "$work/body"
eq "... and the experiment did not change" PAUSED "$(state)"
code=$(curl -s -o "$work/body" -w '%{http_code}' -X POST "${jar[@]}" \
	-H "X-Det-CSRF: $(printf '%064d' 0)" "$base/experiments/$e/activate")
eq "a forged X-Det-CSRF → 403" 403 "$code"
code=$(curl -s -o "$work/body" -w '%{http_code}' -X POST "${jar[@]}" \
	-H "X-Det-CSRF: $sess" "$base/experiments/$e/activate")
eq "the token itself as X-Det-CSRF → 403" 403 "$code"
code=$(curl -s -o "$work/body" -w '%{http_code}' -X DELETE "${jar[@]}" "$base/experiments/$e")
eq "a DELETE with only the cookie → 403" 403 "$code"
eq "... still PAUSED" PAUSED "$(state)"
code=$(curl -s -o "$work/body" -w '%{http_code}' -X POST "${jar[@]}" -H "X-Det-CSRF: $csrf" \
	"$base/experiments/$e/kill")
eq "with the matching X-Det-CSRF the page's POST works" 200 "$code"
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Cookie: det_session=nope" "$base/me")
eq "a made-up session cookie → 401" 401 "$code"

# --- logout revokes on the master and clears the cookies ---
curl -s -D "$work/hdr" -o "$work/body" -X POST "${jar[@]}" -H "X-Det-CSRF: $csrf" "$base/auth/logout"
attrs det_session | grep -q 'Max-Age=0'
ok $? "logout clears det_session (Max-Age=0)"
attrs det_csrf | grep -q 'Max-Age=0'
ok $? "logout clears det_csrf"
code=$(curl -s -o "$work/body" -w '%{http_code}' "${jar[@]}" "$base/me")
eq "the old cookie no longer works (revoked on the master)" 401 "$code"
eq "nor the same token as a bearer" 401 "$(http GET /me '' "$sess")"

# --- the cookie carries only a login's token; bearer is unaffected ---
eq "the admin's bearer token still works" 200 "$(http GET /me '' "$admin")"
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $admin" \
	-H "Cookie: det_session=$sess" "$base/me")
eq "Authorization wins over a cookie" "200 admin" "$code $(body .username)"

stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
