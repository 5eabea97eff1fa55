#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Limits before work (issue 10): the route and the credential are checked on
# the headers alone, before any body is read (401/404/405 for a body that was
# only announced), body caps are per endpoint (413 from Content-Length and
# while a chunked body arrives), and a request with both Content-Length and
# Transfer-Encoding is refused (400).
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$srcdir/tests/security/security-lib.sh"
attack=$srcdir/tests/security/attack.py

# Send only the headers of a request that announces LENGTH body bytes; print the status.
announce() { # METHOD PATH LENGTH [TOKEN]
	printf '%s /api/v1%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %s\r\n%s\r\n' \
		"$1" "$2" "$3" "${4:+Authorization: Bearer $4$'\r\n'}" |
		timeout 60 /usr/bin/python3 "$attack" raw "$port" 127.0.0.1 | head -n 1 | cut -d' ' -f2
}

start_master
check "master starts" test -n "$port"
admin_login admin

big=$((200 * 1024 * 1024))
eq "200 MiB announced without a credential → 401 before the size" 401 "$(announce POST /experiments $big)"
eq "200 MiB announced with a bad token → 401" 401 "$(announce POST /experiments $big nope)"
eq "200 MiB announced to an unknown route → 404" 404 "$(announce POST /nope $big "$admin")"
eq "200 MiB announced with a wrong method → 405" 405 "$(announce PUT /experiments $big "$admin")"
eq "200 MiB announced by an admin → 413 without sending it" 413 "$(announce POST /experiments $big "$admin")"

pad=$(head -c 5000 /dev/zero | tr '\0' 'x')
eq "5 kB login body (cap 4 KiB) → 413" 413 \
	"$(http POST /auth/login "{\"username\":\"admin\",\"password\":\"$pad\"}")"
pad=$(head -c 100000 /dev/zero | tr '\0' 'x')
eq "100 kB progress report (cap 64 KiB) → 413" 413 \
	"$(http POST /trials/1/progress "{\"progress\": 0.5, \"x\": \"$pad\"}" "$admin")"
code=$(printf '{"x": "%s"}' "$pad" | curl -s -o "$work/body" -w '%{http_code}' -X POST \
	-H 'Transfer-Encoding: chunked' -H "Authorization: Bearer $admin" --data-binary @- "$base/experiments/1/kill")
eq "100 kB chunked body to kill (cap 64 KiB) → 413" 413 "$code"
eq "the 413 is a JSON error" too_large "$(body .error.code)"

# A valid chunked login that also carries a matching Content-Length.
reply=$(timeout 60 /usr/bin/python3 "$attack" clte "$port" 127.0.0.1)
eq "Content-Length with Transfer-Encoding → 400" 400 "$(head -n 1 <<<"$reply" | cut -d' ' -f2)"

# Ordinary requests still work.
printf 'name: ok\nentrypoint: x\nsearcher: {name: single, metric: m, max_length: {batches: 1}}\n' >"$work/ok.yaml"
eq "a normal experiment create still works" 200 \
	"$(http POST /experiments "$(jq -cn --rawfile c "$work/ok.yaml" '{config: $c, activate: false}')" "$admin")"
eq "a normal login still works" 200 "$(http POST /auth/login "{\"username\":\"admin\",\"password\":\"$pw\"}")"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
