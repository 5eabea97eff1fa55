#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: GET /experiments/ID/trials and /checkpoints paged and sorted by the
# master (limit, offset, order_by any column or COLUMN.KEY, order): totals
# count every row, pages are disjoint slices of the sorted list, rows without
# a value sort last, checkpoints carry their size and the validation metrics
# of their step, and bad parameters are 400s that name them.
set -u
. "$(dirname "$0")/master-lib.sh"

start_master
check "master starts" test -n "$port"
cat >"$work/exp.yaml" <<'YAML'
name: paging
entrypoint: x
hyperparameters:
  lr: {type: log, minval: -5, maxval: -1}
  layers: {type: int, minval: 1, maxval: 100}
searcher: {name: random, metric: val_loss, max_trials: 9, max_concurrent_trials: 3, max_length: {batches: 3}}
checkpoint_storage: {save_trial_best: 100, save_trial_latest: 100}
YAML
e=$(create_exp "$work/exp.yaml")
check "the experiment completes" wait_state "$e" COMPLETED 120

list() { sock GET "/experiments/$e/$1" >/dev/null; }
# ids KEY JQ-FIELD: the page's values of a field, space separated.
vals() { body "[.$1[] | $2 | tostring] | join(\" \")"; }

# --- trials ---
list trials
eq "no parameters: every trial, by trial index" "0 1 2 3 4 5 6 7 8" "$(vals trials .trial_index)"
eq "... with a total" 9 "$(body .pagination.total)"
all=$(body '[.trials[] | {id, m: .best_metric, lr: .hparams.lr}]')
want=$(jq -r 'sort_by(.m, .id) | [.[].id | tostring] | .[0:4] | join(" ")' <<<"$all")
list "trials?order_by=best_metric&order=asc&limit=4"
eq "order_by=best_metric asc, limit 4: the four best" "$want" "$(vals trials .id)"
eq "... total is still all nine" 9 "$(body .pagination.total)"
eq "... and the page says its limit" 4 "$(body .pagination.limit)"
want=$(jq -r 'sort_by(.lr) | reverse | [.[].id | tostring] | .[4:8] | join(" ")' <<<"$all")
list "trials?order_by=hparams.lr&order=desc&limit=4&offset=4"
eq "order_by=hparams.lr desc, page 2" "$want" "$(vals trials .id)"
eq "... offset echoed" 4 "$(body .pagination.offset)"
list "trials?order_by=hparams.lr&order=desc&limit=4&offset=8"
eq "the last page holds the one left" 1 "$(body '.trials | length')"
pages=
for off in 0 3 6; do
	list "trials?order_by=state&limit=3&offset=$off"
	pages="$pages $(vals trials .id)"
done
eq "pages are disjoint and cover every trial" 9 "$(tr ' ' '\n' <<<"$pages" | sed '/^$/d' | sort -u | wc -l)"
list "trials?offset=100"
eq "an offset past the end: an empty page, the right total" "0 9" "$(body '"\(.trials | length) \(.pagination.total)"')"

# --- checkpoints ---
list checkpoints
nck=$(body '.checkpoints | length')
eq "three checkpoints per trial" 27 "$nck"
eq "... total" 27 "$(body .pagination.total)"
eq "each has its size" 4 "$(body '.checkpoints[0].size_bytes')"
eq "each has its step's validation metrics" true \
	"$(body '[.checkpoints[] | .metrics.batches == .steps_completed] | all')"
ck=$(body '[.checkpoints[] | {uuid, s: .steps_completed, t: .trial_id, v: .metrics.val_loss}]')
want=$(jq -r 'sort_by(.v, .uuid) | [.[].uuid] | .[5:10] | join(" ")' <<<"$ck")
list "checkpoints?order_by=metrics.val_loss&limit=5&offset=5"
eq "order_by=metrics.val_loss, page 2 of 5" "$want" "$(vals checkpoints .uuid)"
list "checkpoints?order_by=steps_completed&order=desc&limit=10"
eq "order_by=steps_completed desc: the latest first" "3 3 3 3 3 3 3 3 3 2" "$(vals checkpoints .steps_completed)"
eq "... total" 27 "$(body .pagination.total)"
want=$(jq -r 'sort_by(.t) | reverse | .[0].t' <<<"$ck")
list "checkpoints?order_by=trial_id&order=desc&limit=1"
eq "order_by=trial_id desc" "$want" "$(vals checkpoints .trial_id)"

# --- rows without the value sort last, either way ---
list "trials?order_by=end_reason&order=asc"
n_null=$(body '[.trials[] | select(.end_reason == null)] | length')
eq "nulls last (asc)" "$n_null" "$(body "[.trials[-$((n_null > 0 ? n_null : 1)):][] | select(.end_reason == null)] | length")"
list "trials?order_by=end_reason&order=desc"
eq "nulls last (desc)" "$n_null" "$(body "[.trials[-$((n_null > 0 ? n_null : 1)):][] | select(.end_reason == null)] | length")"

# --- bad parameters ---
eq "limit=abc → 400" 400 "$(sock GET "/experiments/$e/trials?limit=abc")"
check "... naming limit" grep -q '"limit: ' "$work/body"
eq "limit over 10000 → 400" 400 "$(sock GET "/experiments/$e/trials?limit=10001")"
eq "offset=-1 → 400" 400 "$(sock GET "/experiments/$e/checkpoints?offset=-1")"
eq "order=up → 400" 400 "$(sock GET "/experiments/$e/trials?order=up")"
check "... naming order" grep -q '"order: expected asc or desc' "$work/body"
eq "order_by=no_such → 400" 400 "$(sock GET "/experiments/$e/trials?order_by=no_such")"
check "... naming the column" grep -q 'order_by: no_such is not a column' "$work/body"
eq "order_by with a quote → 400" 400 "$(sock GET "/experiments/$e/checkpoints?order_by=a%27b")"
eq "order_by=a.b.c → 400" 400 "$(sock GET "/experiments/$e/checkpoints?order_by=a.b.c")"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
