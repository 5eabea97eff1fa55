#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Logins cannot be used to slow everyone down or to probe user names
# (issue 10): 24 parallel bad logins from 127.0.0.2 are throttled (at most
# login_max_concurrent hashed at once, then 429 with Retry-After once over
# the failure rates), a valid login and an
# authenticated call from 127.0.0.1 still work, an unknown user and a wrong
# password get identical answers, and a user name is throttled on its own.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$srcdir/tests/security/security-lib.sh"
attack=$srcdir/tests/security/attack.py

login_req() { # USER PASSWORD: a raw HTTP login request
	local b="{\"username\": \"$1\", \"password\": \"$2\"}"
	printf 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
		"${#b}" "$b"
}
# The reply without its Date header (the only part allowed to differ).
login_from() { # SOURCE USER PASSWORD
	login_req "$2" "$3" | /usr/bin/python3 "$attack" raw "$port" "$1" | tr -d '\r' | grep -vi '^date:'
}

start_master
check "master starts" test -n "$port"
admin_login admin
eq "admin creates bob" 200 "$(http POST /users '{"username":"bob","password":"bob-secret"}' "$admin")"

# No user enumeration: same status, headers and body for both.
unknown=$(login_from 127.0.0.3 nosuchuser whatever1)
wrong=$(login_from 127.0.0.3 bob whatever1)
eq "unknown user → 401" 401 "$(head -n 1 <<<"$unknown" | cut -d' ' -f2)"
eq "unknown user and wrong password answers are identical" "$unknown" "$wrong"

# The flood: every answer is a refusal, none a crash or a success.
out=$(/usr/bin/python3 "$attack" logins "$port" 127.0.0.2 24 admin nosuchuser bob)
echo "# 24 parallel bad logins: $out"
bad=0
for s in $out; do
	case $s in 401 | 429) ;; *) bad=1 ;; esac
done
ok $bad "24 parallel bad logins → each 401 or 429"
reply=""
for _ in $(seq 40); do
	reply=$(login_from 127.0.0.2 nosuchuser again)
	head -n 1 <<<"$reply" | grep -q ' 429 ' && break
done
eq "bad logins over the failure rate → 429" 429 "$(head -n 1 <<<"$reply" | cut -d' ' -f2)"
check "429 carries Retry-After" grep -qi '^retry-after: [1-9]' <<<"$reply"
check "429 names the limit" grep -q 'limits.login_failures_per_minute_per_' <<<"$reply"

# Everyone else is unaffected.
code=000
for _ in $(seq 60); do
	code=$(http POST /auth/login '{"username":"bob","password":"bob-secret"}')
	[ "$code" = 200 ] && break
	sleep 1
done
eq "a valid login from 127.0.0.1 still works" 200 "$code"
bob=$(body .token)
eq "an authenticated call still works" 200 "$(http GET /experiments '' "$bob")"
codes=$(for _ in $(seq 15); do http POST /auth/login '{"username":"bob","password":"bob-secret"}'; echo; done | sort -u | tr '\n' ' ')
eq "successful logins are not throttled (15 in a row)" "200 " "$codes"

# One user name from many addresses: throttled per name (10 a minute; a
# slow machine may refill one or two while this runs).
codes=""
n=0
for i in $(seq 40); do
	code=$(login_from "127.0.1.$i" carol wrong | head -n 1 | cut -d' ' -f2)
	codes="$codes $code"
	[ "$code" = 429 ] && break
	n=$i
done
echo "# logins as carol from distinct addresses:$codes"
eq "bad logins on one user name from many addresses end in 429" 429 "$code"
check "the first 10 attempts on the name were answered 401" test "$n" -ge 10
eq "other names are not affected" 401 "$(login_from 127.0.2.1 dave wrong | head -n 1 | cut -d' ' -f2)"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
