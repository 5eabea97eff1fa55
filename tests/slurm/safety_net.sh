#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The batched job list is a safety net while spank_det's reports arrive, and the
# primary path again when a node does not report (slurm.poll_ms 1000 here):
#   - with reports, while a trial runs, the list is loaded every 5 x poll_ms
#     (det_slurm_poll_interval_seconds in /metrics), so a quiet stretch of the
#     experiment costs slurmctld a fifth of the job queries;
#   - once a task runs without a report (plugstack.conf without master=), the
#     master says so in its log and loads the list every poll_ms again, and
#     that trial still completes (learned from the list alone).
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
det_master_poll_ms=1000
slurm_start_with_master
tap_plan 10

metric() {
	curl -s "$det_master_url/metrics" | sed -n "s/^$1 //p"
}
interval_is() {
	[ "$(metric det_slurm_poll_interval_seconds)" = "$1" ]
}

# One trial of a given length (SLEEP seconds per batch, 10 batches).
one_trial() {
	sed -e 's/x: {type: categorical, vals: \[0.1, 0.2, 0.3, 0.4\]}/x: 0.1/' \
		-e "s/sleep: 0\$/sleep: $1/" -e 's/max_concurrent_trials: 2/max_concurrent_trials: 1/' \
		"$(tiny_model)/grid.yaml" >"$test_dir/one-$1.yaml"
	det -o json experiment create "$test_dir/one-$1.yaml" "$(tiny_model)" | jq -r .id
}
trial_active() {
	det_api GET "/experiments/$1/trials" >/dev/null
	[ "$(det_body '[.trials[] | select(.state == "ACTIVE")] | length')" = 1 ]
}

id=$(one_trial 4)
check "a trial runs (its start reported by its node)" wait_until 120 trial_active "$id"
check "with reports, the job list is loaded every 5 x poll_ms" wait_until 60 interval_is 5
if command -v promtool >/dev/null; then
	curl -s "$det_master_url/metrics" >"$test_dir/metrics"
	check "the Slurm master's /metrics passes promtool check metrics" \
		promtool check metrics <"$test_dir/metrics"
else
	ok "promtool check metrics # SKIP no promtool (Debian package prometheus)"
fi
# Over 20 s of the trial running: 4 loads at that interval, 20 at poll_ms.
before=$(metric 'det_slurm_rpcs_total{op="load_jobs"}')
sleep 20
after=$(metric 'det_slurm_rpcs_total{op="load_jobs"}')
check "20 s of a running trial cost at most 8 job lists (load_jobs $before -> $after)" \
	test $((after - before)) -le 8
det experiment kill "$id" >/dev/null
check "the first experiment is killed" wait_exp_state "$id" CANCELED 120

# The nodes stop reporting: slurmstepd reads plugstack.conf for every job.
sed -i 's/ master=[^ ]*//' "$test_dir/cluster/plugstack.conf"
check "plugstack.conf no longer names the master" \
	bash -c "! grep -q ' master=' '$test_dir/cluster/plugstack.conf'"
id=$(one_trial 2)
check "a trial starts without a report, learned from the list" wait_until 120 trial_active "$id"
check "the master loads the job list every poll_ms again" wait_until 120 interval_is 1
check "and says why in its log" grep -q "runs without a report from spank_det" "$test_dir/master.err"
check "that experiment COMPLETES, learned from the list alone" wait_exp_state "$id" COMPLETED 180
tap_done
