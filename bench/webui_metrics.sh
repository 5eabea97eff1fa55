#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench-webui: bytes and time to open the charts of a trial with 100,000
# metric rows (two training metrics and a validation one), the old way (every
# row, 10,000 a page, GET /trials/ID/metrics?after=) against the new one
# (series downsampled by the master, max_points=1000 per metric), in the same
# run; then one idle poll (since=last_id with If-None-Match).
#
#   make bench-webui                  (from the build tree)
#   BENCH_ROWS=100000 bench/webui_metrics.sh
set -u
bench_dir=$(cd "$(dirname "$0")" && pwd)
export top_srcdir=${top_srcdir:-$bench_dir/..}
export top_builddir=${top_builddir:-$(pwd)}
rows=${BENCH_ROWS:-100000}
. "$top_srcdir/tests/integration/master-lib.sh" >/dev/null

start_master
finished_trial b 3 || { echo "bench: the experiment did not complete" >&2; exit 1; }
insert_metrics "$t" "$rows"
start_master

get() { # URL-PATH: "bytes seconds"
	curl -s --unix-socket "$work/m.sock" -o "$work/out" -w '%{size_download} %{time_total}' \
		"http://localhost/api/v1$1"
}
# Old: page through every row.
old_bytes=0
old_s=0
after=0
while :; do
	read -r b s <<<"$(get "/trials/$t/metrics?after=$after&limit=10000")"
	old_bytes=$((old_bytes + b))
	old_s=$(awk -v a="$old_s" -v b="$s" 'BEGIN { print a + b }')
	n=$(jq '.metrics | length' "$work/out")
	[ "$n" -lt 10000 ] && break
	after=$(jq '.metrics[-1].id' "$work/out")
done
# New: one downsampled answer.
read -r new_bytes new_s <<<"$(get "/trials/$t/metrics?since=0&max_points=1000")"
points=$(jq '[.series[].values | length] | add' "$work/out")
last=$(jq .last_id "$work/out")
# Idle poll: nothing new, with the ETag of the last answer.
get "/trials/$t/metrics?since=$last&max_points=1000" >/dev/null
tag=$(curl -s -D - -o /dev/null --unix-socket "$work/m.sock" \
	"http://localhost/api/v1/trials/$t/metrics?since=$last&max_points=1000" |
	sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' | tr -d '\r')
idle=$(curl -s --unix-socket "$work/m.sock" -H "If-None-Match: $tag" -o /dev/null \
	-w '%{http_code} %{size_download}' "http://localhost/api/v1/trials/$t/metrics?since=$last&max_points=1000")
stop_master
printf 'trial of %d metric rows (3 metrics)\n' "$rows"
printf '  old: every row            %10d bytes  %6.3f s\n' "$old_bytes" "$old_s"
printf '  new: max_points=1000      %10d bytes  %6.3f s  (%d points)\n' "$new_bytes" "$new_s" "$points"
printf '  bytes ratio old/new       %10.1f\n' "$(awk -v a="$old_bytes" -v b="$new_bytes" 'BEGIN { print a / b }')"
printf '  idle poll (since, ETag)   status and body bytes: %s\n' "$idle"
