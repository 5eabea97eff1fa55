#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Slowloris (issue 10): connections that send a request head, or a body, a
# byte every half second never trip an idle timeout. With
# limits.header_timeout_seconds and limits.request_timeout_seconds at 3 s the
# master closes them all well within the test's 60 s bound, and keeps
# answering the test's own requests meanwhile.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$srcdir/tests/security/security-lib.sh"
attack=$srcdir/tests/security/attack.py

printf 'limits:\n  header_timeout_seconds: 3\n  request_timeout_seconds: 3\n' >"$work/master.yaml"
start_master --config "$work/master.yaml"
check "master starts with header and request deadlines" test -n "$port"

/usr/bin/python3 "$attack" slowloris "$port" 127.0.0.2 20 60 head >"$work/head.out" &
heads=$!
/usr/bin/python3 "$attack" slowloris "$port" 127.0.0.3 20 60 body >"$work/body.out" &
bodies=$!
sleep 1
eq "the master answers during the attack" 200 "$(http GET /health)"
wait "$heads" "$bodies"
echo "# request heads trickled: $(cat "$work/head.out")"
echo "# login bodies trickled: $(cat "$work/body.out")"
eq "every trickled request head is cut" 20 "$(jq -r .closed "$work/head.out")"
eq "every trickled body is cut" 20 "$(jq -r .closed "$work/body.out")"
eq "the master still answers" 200 "$(http GET /health)"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
