#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: the Tasks pages in a real browser (tests/web/tasks.mjs, Debian's
# chromium driven by playwright-core) against a real det-master: a sleeping
# command started with `det cmd run --detach` is listed RUNNING (and kept or
# hidden by the kind and state filters), its page shows its output, and its
# Kill button (behind the confirmation) ends it TERMINATED, reason killed,
# which the API confirms; a real notebook's row has an Open link. With 30
# more tasks the list pages (25 a page), sorts by a heading, searches, and
# keeps its view in the address across a reload. Skips when chromium or node/npm are missing.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/web/web-lib.sh"
det=${DET_BIN:-$builddir/cli/det}
export DET_MASTER=unix:$work/m.sock DET_AUTH_FILE=$work/auth.json

printf 'notebook_launcher: %s\n' "$srcdir/share/det-notebook-launch" >"$work/master.yaml"
web_start_master --config "$work/master.yaml"
# 30 ended tasks written while the master is stopped: the list needs two pages.
need_sqlite3
stop_master
sqlite3 "$work/state/master.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
	INSERT INTO tasks(kind, owner_uid, state, end_reason, created_at, ended_at, description)
	SELECT 'command', $(id -u), 'TERMINATED', 'exited', 1000 + i, 2000 + i, printf('filler-%02d', i) FROM n;"
web_start_master --config "$work/master.yaml"

"$det" -o json cmd run --detach sh -c 'echo hello-from-task-$((6 * 7)); exec sleep 300' >"$work/run.json"
eq "det cmd run --detach exits 0" 0 $?
id=$(jq -r .id "$work/run.json")
wait_task_state "$id" RUNNING
eq "the command is RUNNING" RUNNING "$(body .task.state)"
# A real notebook: its row gets the Open link from its proxy_url.
nb=
if [ -x /usr/bin/jupyter ]; then
	nb=$("$det" -o json notebook start --detach | jq -r .id)
	for _ in $(seq 1200); do
		sock GET "/tasks/$nb" >/dev/null
		[ "$(body .task.proxy_url)" = "/proxy/$nb/" ] && break
		sleep 0.1
	done
	eq "the notebook serves (proxy_url)" "/proxy/$nb/" "$(body .task.proxy_url)"
fi

BASE_URL=http://127.0.0.1:$port PW_MODULES=$mods CHROMIUM=$chromium \
	PROFILE_DIR=$work/chromium-profile ARTIFACTS=$artifacts TASK_ID=$id NOTEBOOK_ID=$nb ADMIN_PW=$pw \
	web_node_tap 300 "$srcdir/tests/web/tasks.mjs" "$work"
sock GET "/tasks/$id" >/dev/null
eq "the API has the task TERMINATED, reason killed" "TERMINATED killed" \
	"$(body '.task | "\(.state) \(.end_reason)"')"
[ -z "$nb" ] || sock POST "/tasks/$nb/kill" >/dev/null
stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
