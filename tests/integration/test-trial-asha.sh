#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# examples/fashion-mnist/asha.yaml as it ships, run by a real det-master and
# det-launch: the search completes within its time budget, every trial ends
# at one of ASHA's rungs (250, 1000 or 4000 batches), some are stopped early,
# and the best one classifies Fashion-MNIST well.
set -u
. "$(dirname "$0")/trial-lib.sh"
skip_all_unless_ready 6
start_master || exit 1
mkdir -p "$work/fm"
cp "$srcdir/examples/fashion-mnist/README.md" "$work/fm/"
pack "$work/fm" "$work/fm.tgz"
t0=$(date +%s)
id=$(create_exp "$srcdir/examples/fashion-mnist/asha.yaml" "$work/fm.tgz")
eq "the ASHA search completes" COMPLETED "$(wait_exp "$id" 480)"
took=$(($(date +%s) - t0))
[ "$took" -lt 480 ]
ok $? "within 8 minutes (took ${took}s)"
t=$(trial_json "$id")
eq "all 16 trials ran to an end" 16 "$(jq '[.[] | select(.state == "COMPLETED")] | length' <<<"$t")"
eq "every trial ended at a rung" "" \
	"$(jq -r '.[] | .steps_completed as $s | select([250, 1000, 4000] | index($s) | not) | $s' \
		<<<"$t" | tr '\n' ' ')"
n_full=$(jq '[.[] | select(.steps_completed == 4000)] | length' <<<"$t")
[ "$n_full" -ge 1 ] && [ "$n_full" -lt 16 ]
ok $? "some trials reached 4000 batches, the others were stopped early ($n_full full)"
best=$(jq -r 'min_by(.best_metric) | .id' <<<"$t")
acc=$(validations "$best" | jq -r 'map(.metrics.validation_accuracy) | max')
awk -v a="$acc" 'BEGIN { exit !(a > 0.8) }'
ok $? "the best trial's validation accuracy is over 0.8 ($acc)"
stop_master
