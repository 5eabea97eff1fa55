#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# examples/pytorch through a real det-master and det-launch: the two-rank
# data-parallel configuration (torch.distributed over gloo, under mpirun),
# shortened. Skipped without Debian's python3-torch.
set -u
. "$(dirname "$0")/trial-lib.sh"
if ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
	echo "1..0 # SKIP python3-torch is not installed"
	exit 0
fi
skip_all_unless_ready 4
start_master || exit 1
mkdir -p "$work/pt"
cp "$srcdir/examples/pytorch/train.py" "$work/pt/"
pack "$work/pt" "$work/pt.tgz"
sed -e 's/batches: 500/batches: 100/' -e 's/validation_period: 250/validation_period: 50/' \
	"$srcdir/examples/pytorch/distributed.yaml" >"$work/d.yaml"
id=$(create_exp "$work/d.yaml" "$work/pt.tgz")
eq "the two-rank PyTorch trial completes" COMPLETED "$(wait_exp "$id" 300)"
t=$(trial_json "$id")
tid=$(jq '.[0].id' <<<"$t")
eq "two validations from the chief, test accuracy at the end" "50 100 true" \
	"$(validations "$tid" | jq -r '"\(.[0].steps) \(.[1].steps) \(.[1].metrics.test_accuracy > 0.5)"')"
api GET "/trials/$tid/logs"
eq "both ranks trained and logged" "0 1" \
	"$(jq -r '[.logs[] | select(.line | test("batch 100: validation")) | .rank] | sort | map(tostring) | join(" ")' <"$work/body")"
uuid=$(jq -r '.[0].latest_checkpoint' <<<"$t")
api GET "/checkpoints/$uuid"
eq "the chief's checkpoint is registered" state.pt "$(body '.files[0].path')"
stop_master
