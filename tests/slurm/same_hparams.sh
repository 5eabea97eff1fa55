#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The same config and seed give every trial the same hyperparameters and seed
# on Slurm (det submit, array tasks in any order over four nodes) as under
# the local resource manager: a trial is a function of (experiment seed,
# trial index), never of where or when its array task ran. On Slurm each
# task's job comment names its experiment and trial (squeue -o %k).
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_master
tap_plan 6

cfg=$(tiny_model)/random.yaml
det submit "$cfg" "$(tiny_model)" -- -o "$test_dir/s-%A_%a.out" >"$test_dir/submit.out" 2>&1
check "det submit exits 0" test $? = 0
id=$(sed -n 's/^Created experiment \([0-9]*\)$/\1/p' "$test_dir/submit.out")
check "the Slurm experiment completes" wait_exp_state "${id:-0}" COMPLETED 90
det_api GET "/experiments/${id:-0}/trials" >/dev/null
jq -S '[.trials[] | {trial_index, hparams, seed}] | sort_by(.trial_index)' \
	<"$test_dir/body" >"$test_dir/slurm.json"
job=$(sed -n 's/^Submitted Slurm array job \([0-9]*\)$/\1/p' "$test_dir/submit.out")
want= got=
while read -r tid task; do
	want+="det-slurm experiment $id trial $tid;"
	got+="$(squeue -h -t all -o %k -j "${job}_$task");"
done < <(jq -r '.trials[] | "\(.id) \(.array_task)"' <"$test_dir/body")
check_eq "each task's job comment names its experiment and trial" "$want" "$got"

# The same experiment on a second master with the local resource manager.
"$top_builddir/master/det-master" --rm local --listen 127.0.0.1:0 --socket "$test_dir/l.sock" \
	--state-dir "$test_dir/lstate" --launcher "$top_builddir/launcher/det-launch" \
	>"$test_dir/local.out" 2>"$test_dir/local.err" &
cleanup_pids=("$!" "${cleanup_pids[@]}")
for _ in $(seq 1 100); do
	[ -S "$test_dir/l.sock" ] && break
	sleep 0.1
done
DET_MASTER=unix:$test_dir/l.sock det experiment create "$cfg" "$(tiny_model)" >"$test_dir/lcreate.out" 2>&1
lid=$(grep -o '[0-9]\+' "$test_dir/lcreate.out" | head -n 1)
local_state() {
	curl -s --unix-socket "$test_dir/l.sock" "http://localhost/api/v1/experiments/${lid:-0}$1"
}
state=
for _ in $(seq 1 300); do
	state=$(local_state "" | jq -r .experiment.state)
	[ "$state" = COMPLETED ] && break
	sleep 0.2
done
check_eq "the local experiment completes" COMPLETED "$state"
local_state /trials | jq -S '[.trials[] | {trial_index, hparams, seed}] | sort_by(.trial_index)' \
	>"$test_dir/local.json"
check_eq "six trials on Slurm" 6 "$(jq length "$test_dir/slurm.json")"
if cmp -s "$test_dir/slurm.json" "$test_dir/local.json"; then
	ok "every trial has the same hyperparameters and seed under both managers"
else
	not_ok "every trial has the same hyperparameters and seed under both managers"
	diag "$(diff "$test_dir/slurm.json" "$test_dir/local.json")"
fi
tap_done
