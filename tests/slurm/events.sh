#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Slurm plugin's reports (POST /allocations/{job}/events from slurmstepd)
# are how the master learns that a task started and ended; the batched job
# list every slurm.poll_ms is only the safety net. With that poll set to ten
# minutes:
#   - a trial that ends by itself: the master sees its task end at once (its
#     view of the array, /experiments/{id}/slurm) while the experiment goes on,
#     after a single job list asked of slurmctld (det_slurm_rpcs_total);
#   - a running task killed by a signal (scancel of the array) needs Slurm's
#     word on why: its report makes the master ask again at once, and the
#     experiment is CANCELED long before the next poll. (A task canceled
#     before it ran sends no report: the next poll sees it.)
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
det_master_poll_ms=600000
slurm_start_with_master
tap_plan 6

rpcs() {
	curl -s "$det_master_url/metrics" | sed -n "s/^det_slurm_rpcs_total{op=\"$1\"} //p"
}

# Two trials one after the other: one ends at once, the other runs for minutes.
sed -e 's/x: {type: categorical, vals: \[0.1, 0.2, 0.3, 0.4\]}/x: 0.1/' \
	-e 's/sleep: 0$/sleep: {type: categorical, vals: [0, 60]}/' \
	-e 's/max_concurrent_trials: 2/max_concurrent_trials: 1/' \
	"$(tiny_model)/grid.yaml" >"$test_dir/two.yaml"
id=$(det -o json experiment create "$test_dir/two.yaml" "$(tiny_model)" | jq -r .id)
one_completed() {
	det_api GET "/experiments/$id/trials" >/dev/null
	[ "$(det_body '[.trials[] | select(.state == "COMPLETED")] | length')" = 1 ]
}
check "the quick trial COMPLETED" wait_until 120 one_completed
task_ended() {
	det_api GET "/experiments/$id/slurm" >/dev/null
	[ "$(det_body '[.tasks[] | select(.state == "COMPLETED")] | length')" = 1 ]
}
check "the master saw its task end, ten minutes before its next poll" wait_until 30 task_ended
det_api GET "/experiments/$id" >/dev/null
check_eq "the experiment goes on" ACTIVE "$(det_body .experiment.state)"
loads=$(rpcs load_jobs)
check "one job list asked of slurmctld so far (load_jobs: $loads)" test "${loads:-99}" -le 2

slow_runs() {
	det_api GET "/experiments/$id/trials" >/dev/null
	[ "$(det_body '[.trials[] | select(.state == "ACTIVE")] | length')" = 1 ]
}
check "the slow trial runs" wait_until 120 slow_runs
scancel -n "det-e$id"
check "scancel of the array: the experiment is CANCELED (learned at once)" \
	wait_exp_state "$id" CANCELED 120
diag "load_jobs: $loads before the scancel, $(rpcs load_jobs) after"
tap_done
