#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: GET /tasks with limit, offset, order_by, order, state and search over
# 66 tasks (rows written with sqlite3 while the master is stopped): pages are
# disjoint and cover the list, totals follow each filter, every column sorts
# both ways, a user sees only their own tasks and their total, and every bad
# parameter is a 400 naming it.
set -u
. "$(dirname "$0")/master-lib.sh"
need_sqlite3
count=66
bob_uid=4242
me=$(id -u)
q() { sqlite3 "$work/state/master.db" "$1"; }

start_master
sock POST /users "{\"username\":\"bob\",\"password\":\"bob-secret-1\",\"uid\":$bob_uid}" >/dev/null
http POST /auth/login '{"username":"bob","password":"bob-secret-1"}' >/dev/null
bob=$(body .token)
eq "bob, bound to no Unix uid yet, sees no task" 0 "$(http GET "/tasks?limit=5" '' "$bob" >/dev/null; body .pagination.total)"
stop_master
q "UPDATE users SET uid = $bob_uid WHERE name = 'bob'"
# Every third is bob's, every fifth has "NeedLe" in its description, every
# fourth was killed; kinds cycle; created_at and ended_at are permutations.
q "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $count)
	INSERT INTO tasks(id, kind, owner_uid, state, end_reason, created_at, ended_at, description)
	SELECT i, CASE i % 4 WHEN 0 THEN 'command' WHEN 1 THEN 'notebook' WHEN 2 THEN 'shell' ELSE 'tensorboard' END,
		CASE WHEN i % 3 = 0 THEN $bob_uid ELSE $me END, 'TERMINATED',
		CASE WHEN i % 4 = 0 THEN 'killed' ELSE 'exited' END,
		1000 + (i * 7) % $count, 2000 + (i * 5) % $count,
		CASE WHEN i % 5 = 0 THEN printf('task NeedLe %d', i) ELSE printf('task %d', i) END FROM n;"
start_master
check "master starts on $count tasks" test -n "$port"

list() { sock GET "/tasks?$1" >/dev/null; }
total() { list "$1"; body .pagination.total; }
eq "without limit: the list as before, no pagination" "$count null" \
	"$(list ''; echo "$(body '.tasks | length') $(body .pagination)")"
eq "limit=1: total of all" "$count" "$(total 'limit=1')"
eq "limit=1: one row" 1 "$(body '.tasks | length')"
eq "pagination echoes offset and limit" "5 7" "$(list 'limit=7&offset=5'; body '"\(.pagination.offset) \(.pagination.limit)"')"
eq "kind=command" "$((count / 4))" "$(total 'limit=1&kind=command')"
eq "state=TERMINATED" "$count" "$(total 'limit=1&state=TERMINATED')"
eq "state=RUNNING" 0 "$(total 'limit=1&state=RUNNING')"
eq "search=needle: description, any case" "$((count / 5))" "$(total 'limit=1&search=needle')"
eq "search=KILLED: end_reason" "$((count / 4))" "$(total 'limit=1&search=KILLED')"
eq "search=tensor: kind" "$(q "SELECT count(*) FROM tasks WHERE kind = 'tensorboard'")" "$(total 'limit=1&search=tensor')"
eq "search=terminat: state" "$count" "$(total 'limit=1&search=terminat')"
eq "search and kind together" "$(q "SELECT count(*) FROM tasks WHERE id % 5 = 0 AND id % 4 = 0")" \
	"$(total 'limit=1&search=needle&kind=command')"
eq "search of nothing known" 0 "$(total 'limit=1&search=no-such-thing')"
eq "owner_uid filter (admin)" "$((count / 3))" "$(total "limit=1&owner_uid=$bob_uid")"

# Pages of 25 are disjoint and together hold the whole list.
ids=
for off in 0 25 50; do
	list "limit=25&offset=$off&order_by=created_at"
	ids="$ids $(body '[.tasks[].task_id] | join(" ")')"
done
eq "three pages of 25 hold the $count tasks once each" "$count $count" \
	"$(echo $ids | tr ' ' '\n' | wc -l) $(echo $ids | tr ' ' '\n' | sort -u | wc -l)"
eq "a page past the end is empty, total still right" "0 $count" \
	"$(list 'limit=25&offset=100'; echo "$(body '.tasks | length') $(body .pagination.total)")"

# Every column sorts both ways (read page by page).
for col in id kind state owner_uid created_at ended_at description; do
	key=$col
	[ "$col" = id ] && key=task_id
	for order in asc desc; do
		: >"$work/seq"
		for off in 0 25 50; do
			list "limit=25&offset=$off&order_by=$col&order=$order"
			jq -c ".tasks[].$key" <"$work/body" >>"$work/seq"
		done
		by=.  # task ids in number order: task-9 before task-10
		[ "$col" = id ] && by='ltrimstr("task-") | tonumber'
		want=$(jq -sc "sort_by($by)" <"$work/seq")
		[ $order = desc ] && want=$(jq -c reverse <<<"$want")
		eq "order_by=$col order=$order" "$want" "$(jq -sc . <"$work/seq")"
	done
done

# A user sees only their own tasks, and their total.
http GET "/tasks?limit=10" '' "$bob" >/dev/null
eq "bob's total: his own" "$((count / 3))" "$(body .pagination.total)"
eq "bob's page: only his" "[$bob_uid]" "$(jq -c '[.tasks[].owner_uid] | unique' <"$work/body")"
http GET "/tasks?limit=10&search=needle" '' "$bob" >/dev/null
eq "bob's search total" "$(q "SELECT count(*) FROM tasks WHERE id % 3 = 0 AND id % 5 = 0")" "$(body .pagination.total)"
http GET "/tasks?limit=10&owner_uid=$me" '' "$bob" >/dev/null
eq "bob asking for another's tasks: none" 0 "$(body .pagination.total)"

# Every bad parameter is a 400 naming it.
bad() { # NAME QUERY
	eq "$2 → 400" "400 $1" "$(echo "$(sock GET "/tasks?$2") $(body .error.message | cut -d: -f1)")"
}
bad limit 'limit=0'
bad limit 'limit=1001'
bad limit 'limit=x'
bad offset 'limit=5&offset=-1'
bad offset 'offset=abc'
bad order_by 'order_by=pid'
bad order 'order=up'
bad state 'state=DONE'
bad kind 'kind=job'
bad owner_uid 'owner_uid=-3'
bad search "search=$(printf 'x%.0s' $(seq 257))"
bad search 'search=a%01b'
eq "search of 256 bytes is fine" 200 "$(sock GET "/tasks?search=$(printf 'x%.0s' $(seq 256))")"

stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
