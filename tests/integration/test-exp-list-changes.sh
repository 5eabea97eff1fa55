#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: GET /experiments follows the experiments as they change: created,
# deleted, archived, killed (its state and end time) and after a restart; the
# list answers from an array of the experiments that is rebuilt only when one
# joins or leaves, and from typed copies of each row's keys.
set -u
. "$(dirname "$0")/master-lib.sh"

ids() { body '[.experiments[].id] | map(tostring) | join(" ")'; }

start_master
for n in c a e b d; do
	printf 'name: %s\nentrypoint: x\nsearcher: {name: single, metric: l, max_length: {batches: 1}}\n' \
		"$n" >"$work/$n.yaml"
	create_exp "$work/$n.yaml" false >/dev/null
done
eq "five experiments, newest first" "5 4 3 2 1" "$(sock GET '/experiments' >/dev/null; ids)"
eq "sort=name: by the names" "2 4 1 5 3" "$(sock GET '/experiments?sort=name' >/dev/null; ids)"
eq "sort=name desc, a page at offset 1" "5 1" \
	"$(sock GET '/experiments?sort=name&order=desc&offset=1&limit=2' >/dev/null; ids)"
eq "an offset past the end: no rows" "" "$(sock GET '/experiments?offset=9' >/dev/null; ids)"
eq "... and the total still counts them" 5 "$(body .pagination.total)"

sock POST /experiments/2/kill >/dev/null
check "experiment 2 ends CANCELED" wait_state 2 CANCELED 60
eq "the state filter sees the new state" 2 \
	"$(sock GET '/experiments?state=CANCELED' >/dev/null; ids)"
eq "sort=ended_at desc: the ended one first" 2 \
	"$(sock GET '/experiments?sort=ended_at&order=desc&limit=1' >/dev/null; ids)"
eq "delete experiment 2" 200 "$(sock DELETE /experiments/2)"
eq "the list no longer holds it" "5 4 3 1" "$(sock GET '/experiments' >/dev/null; ids)"
eq "... nor counts it" 4 "$(body .pagination.total)"
create_exp "$work/a.yaml" false >/dev/null
eq "a new experiment joins the list" "6 5 4 3 1" "$(sock GET '/experiments' >/dev/null; ids)"

sock POST /experiments/3/kill >/dev/null
check "experiment 3 ends CANCELED" wait_state 3 CANCELED 60
eq "archive experiment 3" 200 "$(sock POST /experiments/3/archive)"
eq "the archived one is hidden" "6 5 4 1" "$(sock GET '/experiments' >/dev/null; ids)"
eq "... and shown with archived=1" "6 5 4 3 1" \
	"$(sock GET '/experiments?archived=1' >/dev/null; ids)"
eq "unarchive experiment 3" 200 "$(sock POST /experiments/3/unarchive)"
eq "... it is listed again" "6 5 4 3 1" "$(sock GET '/experiments' >/dev/null; ids)"

stop_master
start_master
eq "after a restart: the same list" "6 5 4 3 1" "$(sock GET '/experiments' >/dev/null; ids)"
eq "... sorted by name" "6 4 1 5 3" "$(sock GET '/experiments?sort=name' >/dev/null; ids)"
stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
