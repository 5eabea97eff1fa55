#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Monitoring as shipped: etc/prometheus/prometheus.yml and its alert rules
# pass `promtool check config` and `promtool check rules`, the alerts fire on
# made-up series (`promtool test rules`), the /metrics endpoint of a master
# this test starts passes `promtool check metrics`, and every det_ metric the
# rules use is one the master exports. Skipped without promtool (Debian's
# prometheus package).
set -u
. "$(dirname "$0")/master-lib.sh"
need_command promtool "Debian package prometheus"
echo "1..8"
conf=$srcdir/etc/prometheus
check "promtool check config etc/prometheus/prometheus.yml" \
	promtool check config "$conf/prometheus.yml"
check "promtool check rules etc/prometheus/det-master.rules.yml" \
	promtool check rules "$conf/det-master.rules.yml"
cp "$conf/det-master.rules.yml" "$srcdir/tests/data/prometheus/det-master.rules.test.yml" "$work/"
(cd "$work" && promtool test rules det-master.rules.test.yml) >"$work/rules-test.out" 2>&1
rc=$?
ok $rc "promtool test rules: the alerts fire on made-up series"
[ $rc = 0 ] || sed 's/^/#   /' "$work/rules-test.out" >&2

start_master
eq "the master answers" 200 "$(sock GET /master)"
# Some traffic first, so that the request counters and histograms have series.
http GET /experiments >/dev/null
http POST /auth/login '{"username": "nobody", "password": "x"}' >/dev/null
curl -s "http://127.0.0.1:$port/metrics" >"$work/metrics"
eq "GET /metrics answers 200 without a login" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")"
promtool check metrics <"$work/metrics" >"$work/check.out" 2>&1
ok $? "promtool check metrics passes on the live /metrics"
check "... which has request counters and latency histograms" \
	grep -q '^det_http_request_seconds_bucket{' "$work/metrics"
[ -s "$work/check.out" ] && sed 's/^/#   /' "$work/check.out" >&2

missing=
for m in $(grep -o 'det_[a-z_]*' "$conf/det-master.rules.yml" | sort -u); do
	grep -q "^$m[{ ]" "$work/metrics" || missing="$missing $m"
done
eq "every det_ metric in the rules is exported by the master" "" "$missing"
