#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: GET /experiments over a store of 20,000 experiments (rows copied in
# with sqlite3 while the master is stopped): totals, pages and every sort order
# are right, and filters count what they keep. The speed of the same calls is
# bench/exp_list.sh's business (make bench-exp-list), not this test's.
set -u
. "$(dirname "$0")/master-lib.sh"
need_sqlite3
count=${LIST_SCALE_EXPERIMENTS:-20000}

# exp_store N: one experiment made through the API, then N-1 copies of its row.
exp_store() {
	start_master
	cat >"$work/c.yaml" <<'YAML'
name: scale
entrypoint: x
labels: [scale]
searcher: {name: single, metric: loss, max_length: {batches: 10}}
YAML
	copy_experiment "$work/c.yaml" "$1"
	# Names and creation times differ per row so that sorting by them means something.
	sqlite3 "$work/state/master.db" "
		UPDATE experiments SET name = printf('scale-%05d', (id * 7919) % $1),
			created_at = created_at + ((id * 104729) % $1), archived = (id % 10 = 0),
			state = CASE WHEN id % 3 = 0 THEN 'CANCELED' ELSE state END;"
}
exp_store "$count"
start_master
check "master starts on $count experiments" test -n "$port"

list() { sock GET "/experiments?$1" >/dev/null; }
list "limit=1"
archived=$((count / 10))
eq "total counts the unarchived ones" $((count - archived)) "$(body .pagination.total)"
list "limit=1&archived=1"
eq "... and archived=1 counts them all" "$count" "$(body .pagination.total)"
list "limit=1000&archived=1"
eq "a page holds limit rows" 1000 "$(body '.experiments | length')"
eq "newest first by default" "$count" "$(body '.experiments[0].id')"
list "limit=5&offset=$((count - 3))&archived=1"
eq "the last page holds what is left" 3 "$(body '.experiments | length')"
eq "... ending at the first experiment" 1 "$(body '.experiments[-1].id')"

# Every sort order, against the same order computed from the store.
for key in id name created_at state; do
	for order in asc desc; do
		list "limit=50&offset=100&archived=1&sort=$key&order=$order"
		got=$(body '[.experiments[].id] | join(",")')
		dir=$([ "$order" = desc ] && echo DESC || echo ASC)
		want=$(sqlite3 "$work/state/master.db" "SELECT group_concat(id, ',') FROM
			(SELECT id FROM experiments ORDER BY $key $dir, id $dir LIMIT 50 OFFSET 100)")
		# Ties (state) may come in any order: compare the keys' sequence instead.
		if [ "$key" = state ]; then
			got=$(body '[.experiments[].state] | join(",")')
			want=$(sqlite3 "$work/state/master.db" "SELECT group_concat(state, ',') FROM
				(SELECT state FROM experiments ORDER BY state $dir LIMIT 50 OFFSET 100)")
		fi
		eq "sort=$key order=$order: the store's order" "$want" "$got"
	done
done
list "limit=1&state=CANCELED&archived=1"
eq "state filter counts its rows" "$(sqlite3 "$work/state/master.db" \
	"SELECT count(*) FROM experiments WHERE state = 'CANCELED'")" "$(body .pagination.total)"
list "limit=1&label=scale&archived=1"
eq "label filter counts its rows" "$count" "$(body .pagination.total)"
list "limit=1&label=none&archived=1"
eq "an unknown label keeps none" 0 "$(body .pagination.total)"
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
