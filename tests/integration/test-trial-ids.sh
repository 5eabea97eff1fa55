#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: GET /experiments/ID/trials?trial_ids=1,2,3 keeps only those trials
# (the web UI's parallel-coordinates brush): totals and pages are of the kept
# set, ids of other experiments keep nothing, and junk or more than 1,000 ids
# are a 400 that names trial_ids.
set -u
. "$(dirname "$0")/master-lib.sh"

start_master
check "master starts" test -n "$port"
cat >"$work/exp.yaml" <<'YAML'
name: trial-ids
entrypoint: x
hyperparameters:
  lr: {type: log, minval: -5, maxval: -1}
searcher: {name: random, metric: val_loss, max_trials: 6, max_concurrent_trials: 3, max_length: {batches: 2}}
YAML
e=$(create_exp "$work/exp.yaml")
check "the experiment completes" wait_state "$e" COMPLETED 120

sock GET "/experiments/$e/trials" >/dev/null
eq "six trials in all" 6 "$(body .pagination.total)"
ids=$(body '[.trials[].id | tostring] | join(" ")')
read -r t0 t1 t2 t3 t4 t5 <<<"$ids"

eq "trial_ids=three of them → 200" 200 "$(sock GET "/experiments/$e/trials?trial_ids=$t4,$t1,$t3")"
eq "... only those, by trial index" "$t1 $t3 $t4" "$(body '[.trials[].id | tostring] | join(" ")')"
eq "... total counts the kept set" 3 "$(body .pagination.total)"
eq "paged: limit 2 offset 2" 200 "$(sock GET "/experiments/$e/trials?trial_ids=$t0,$t1,$t2,$t5&limit=2&offset=2")"
eq "... the second page of the kept set" "$t2 $t5" "$(body '[.trials[].id | tostring] | join(" ")')"
eq "... total 4" 4 "$(body .pagination.total)"
eq "sorted by order_by" 200 "$(sock GET "/experiments/$e/trials?trial_ids=$t0,$t1&order_by=id&order=desc")"
# Ids follow creation, which need not follow the trial index: sort the two.
eq "... in that order" "$(printf '%s\n' "$t0" "$t1" | sort -rn | tr '\n' ' ' | sed 's/ $//')" \
	"$(body '[.trials[].id | tostring] | join(" ")')"
eq "an id of no trial here keeps nothing" 200 "$(sock GET "/experiments/$e/trials?trial_ids=999999")"
eq "... total 0" 0 "$(body .pagination.total)"
eq "a repeated id is kept once" 200 "$(sock GET "/experiments/$e/trials?trial_ids=$t2,$t2")"
eq "... one row" 1 "$(body .pagination.total)"

ids1000=$(seq -s, 1 1000)
eq "1,000 ids → 200" 200 "$(sock GET "/experiments/$e/trials?trial_ids=$ids1000")"
eq "... every trial here kept" 6 "$(body .pagination.total)"
for bad in "" "abc" "1,,2" "1," ",1" "0" "-1" "1;2" "1%202" "99999999999999999999" "1.5"; do
	eq "trial_ids='$bad' → 400" 400 "$(sock GET "/experiments/$e/trials?trial_ids=$bad")"
	check "... naming trial_ids" grep -q '"trial_ids: ' "$work/body"
done
eq "1,001 ids → 400" 400 "$(sock GET "/experiments/$e/trials?trial_ids=$ids1000,1001")"
check "... saying the limit" grep -q 'trial_ids: at most 1000 ids' "$work/body"
eq "an unknown experiment is still a 404" 404 "$(sock GET "/experiments/99999/trials?trial_ids=1")"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
