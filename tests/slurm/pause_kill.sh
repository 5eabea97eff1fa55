#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A paused experiment can be killed: its held tasks are canceled and the
# experiment ends CANCELED (its paused trials with it).
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_master
tap_plan 3

submit_slow 30
wait_value "/experiments/$id/trials" '[.trials[] | select(.latest_checkpoint != null)] | length' 2 20
det experiment pause "$id" >/dev/null
check "the experiment pauses" wait_exp_state "$id" PAUSED 30
det experiment kill "$id" >/dev/null
check "the paused experiment, killed, ends CANCELED" wait_exp_state "$id" CANCELED 30
left=
for _ in $(seq 150); do
	left=$(squeue -h -r -j "$job" -t PD,R,CG -o %i 2>/dev/null)
	[ -z "$left" ] && break
	sleep 0.2
done
check_eq "Slurm keeps none of its tasks" "" "$left"
tap_done
