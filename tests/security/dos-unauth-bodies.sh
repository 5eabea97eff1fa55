#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Unauthenticated memory exhaustion (issue 10): 8 connections without a
# credential each announce and send a 100 MiB experiment body. The master
# must answer 401 from the headers, without reading (buffering) the bodies:
# its resident memory stays under 100 MiB.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$srcdir/tests/security/security-lib.sh"
attack=$srcdir/tests/security/attack.py

start_master
check "master starts" test -n "$port"
before=$(awk '/^VmRSS:/ {print $2}' "/proc/$master_pid/status")
out=$(/usr/bin/python3 "$attack" bodies "$port" 127.0.0.2 8 100 /api/v1/experiments "$master_pid")
echo "# $out (VmRSS before: $before kB)"
eq "8 unauthenticated 100 MiB bodies → 8 × 401" "401 401 401 401 401 401 401 401" \
	"$(jq -r '.statuses | join(" ")' <<<"$out")"
peak=$(jq -r .peak_rss_kb <<<"$out")
check "master's VmRSS stayed under 100 MiB (peak $peak kB)" test "$peak" -lt 102400
eq "master still answers" 200 "$(http GET /health)"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
