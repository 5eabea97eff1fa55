#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: GET /experiments as the web UI's list uses it, over 1,500 experiments
# (rows copied in with sqlite3 while the master is stopped): search by part
# of the name, description, a label, the owner's name or the state counts
# what it keeps past 1,000; sort by owner and by trials ended; pages of a
# search are disjoint and cover it.
set -u
. "$(dirname "$0")/master-lib.sh"
need_sqlite3
count=1500
q() { sqlite3 "$work/state/master.db" "$1"; }

start_master
sock POST /users '{"username":"zoe","password":"zoe-secret-1"}' >/dev/null
cat >"$work/c.yaml" <<'YAML'
name: search
description: plain
entrypoint: x
labels: [scale]
searcher: {name: single, metric: loss, max_length: {batches: 10}}
YAML
copy_experiment "$work/c.yaml" "$count"
zoe=$(q "SELECT id FROM users WHERE name = 'zoe'")
# Every third is zoe's, every fifth has "needle" in its name, every seventh
# in its (editable) description, every eleventh the label "rare".
q "UPDATE experiments SET name = CASE WHEN id % 5 = 0 THEN printf('run-NeedLe-%d', id) ELSE printf('run-%d', id) END,
		owner_id = CASE WHEN id % 3 = 0 THEN $zoe ELSE owner_id END,
		description = CASE WHEN id % 7 = 0 THEN 'has a needle inside' ELSE description END,
		labels = CASE WHEN id % 11 = 0 THEN '[\"scale\",\"rare\"]' ELSE labels END;"
start_master
check "master starts on $count experiments" test -n "$port"

list() { sock GET "/experiments?$1" >/dev/null; }
total() { list "$1"; body .pagination.total; }
eq "no search: all $count" "$count" "$(total 'limit=1')"
want=$(q "SELECT count(*) FROM experiments WHERE id % 5 = 0 OR id % 7 = 0")
eq "search=needle: name or description, any case" "$want" "$(total 'limit=1&search=needle')"
eq "search=zoe: the owner's name, past 1,000 rows looked at" "$((count / 3))" "$(total 'limit=1&search=zoe')"
eq "search=rare: a label" "$(q "SELECT count(*) FROM experiments WHERE id % 11 = 0")" "$(total 'limit=1&search=rare')"
eq "search=paused: the state" "$count" "$(total 'limit=1&search=paused')"
eq "search and a filter together" "$(q "SELECT count(*) FROM experiments WHERE id % 3 = 0 AND id % 11 = 0")" \
	"$(total 'limit=1&search=rare&owner=zoe')"
eq "search of nothing known: 0" 0 "$(total 'limit=1&search=no-such-thing')"
# The description searched is the one edited with `det experiment set`, not the config's.
eq "search=plain: the description every other experiment was created with" \
	"$((count - count / 7))" "$(total 'limit=1&search=plain')"
sock POST /experiments/1/set '{"description": "freshly edited"}' >/dev/null
eq "after an edit, search finds the new description" 1 "$(total 'limit=1&search=freshly')"
eq "... and no longer the old one" "$((count - count / 7 - 1))" "$(total 'limit=1&search=plain')"
eq "a search over 256 characters → 400" 400 "$(sock GET "/experiments?search=$(printf 'x%.0s' $(seq 300))")"

# Pages of a search are disjoint and together hold all of it.
n=$(total 'limit=1&search=zoe')
ids=
for off in 0 200 400; do
	list "limit=200&offset=$off&search=zoe&sort=name&order=asc"
	ids="$ids $(body '[.experiments[].id] | join(" ")')"
done
eq "three pages of 200 hold the $n matches once each" "$n $n" \
	"$(echo $ids | tr ' ' '\n' | wc -l) $(echo $ids | tr ' ' '\n' | sort -u | wc -l)"

list "limit=1000&offset=500&sort=owner&order=asc"
eq "sort=owner: one owner's experiments, then the other's" 1 \
	"$(body '[.experiments[].owner_id] | [range(1; length) as $i | select(.[$i] != .[$i - 1])] | length')"
list "limit=1&offset=$((count - 1))&sort=owner&order=asc"
eq "sort=owner asc: zoe's last (the other owner's name sorts first)" "$zoe" "$(body '.experiments[0].owner_id')"
list "limit=1&sort=owner&order=desc"
eq "sort=owner desc: zoe's first" "$zoe" "$(body '.experiments[0].owner_id')"
eq "sort=trials is accepted" 200 "$(sock GET '/experiments?limit=5&sort=trials&order=desc')"
eq "an unknown sort → 400" 400 "$(sock GET '/experiments?sort=nope')"

stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
