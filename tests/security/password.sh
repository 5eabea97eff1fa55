#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A det user bound to a Unix account sets their own password over the socket
# (det user change-password) and can then log in over TCP as that same
# account: the token is the account's, not a new password user's. Nobody else
# can set it: another Unix user changes only their own, and a password user
# made by an admin stays a user without a Unix account.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$srcdir/tests/security/security-lib.sh"
need_root
det=$builddir/cli/det

start_master
check "master starts" test -n "$port"
make_user u1 u2 || exit 1
set_pw() { # USER PASSWORD
	printf '%s\n' "$2" | as_user "$1" env DET_MASTER="unix:$work/m.sock" "$det" \
		user change-password --password-stdin
}
login() { # USER PASSWORD: status; token in $work/body
	http POST /auth/login "{\"username\":\"$1\",\"password\":\"$2\"}"
}

eq "before a password is set, a login as the account fails" 401 "$(login "$u1" "u1-secret-pw")"
check "the account sets its password over the socket" set_pw "$u1" "u1-secret-pw"
eq "then logs in over TCP" 200 "$(login "$u1" "u1-secret-pw")"
tok=$(body .token)
http GET /me '' "$tok" >/dev/null
eq "as the det user of its own uid" "$(id -u "$u1")" "$(body .uid)"
eq "... with the account's name" "$u1" "$(body .username)"
eq "a wrong password still fails" 401 "$(login "$u1" "not-the-password")"
check "another account sets its own password" set_pw "$u2" "u2-secret-pw"
eq "which changes nothing for the first" 200 "$(login "$u1" "u1-secret-pw")"
eq "and logs in as itself" 200 "$(login "$u2" "u2-secret-pw")"
http GET /me '' "$(body .token)" >/dev/null
eq "... with its own uid" "$(id -u "$u2")" "$(body .uid)"
code=$(printf 'short\n' | as_user "$u1" env DET_MASTER="unix:$work/m.sock" "$det" \
	user change-password --password-stdin >/dev/null 2>"$work/short.err"; echo $?)
check "a password under 8 characters is refused" test "$code" != 0
check "... saying why" grep -q '8 to 256' "$work/short.err"
eq "a token can set its own user's password" 200 \
	"$(http POST /users/me/password '{"password":"u1-other-secret"}' "$tok")"
eq "the new password works" 200 "$(login "$u1" "u1-other-secret")"
eq "an unauthenticated request cannot set one" 401 \
	"$(http POST /users/me/password '{"password":"whatever-1234"}')"
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
