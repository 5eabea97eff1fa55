#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Nothing waits on slurmctld with the master's lock held: with slurmctld
# stopped, `det experiment create` waits on the submission (the master hands
# the array to Slurm after unlocking), and meanwhile `det experiment list`
# answers and shows the new experiment ACTIVE, GET /health answers and a
# running trial's validation reports (which go through the searcher, under
# the lock) keep being acknowledged. Once slurmctld is back the creation
# ends, either submitted or in ERROR, never ACTIVE without a job.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_master
tap_plan 7

# A long trial that validates every 5 batches (0.5 s).
sed -e 's/sleep: 0$/sleep: 0.1/' -e 's/batches: 10}/batches: 2000}/' \
	"$(tiny_model)/grid.yaml" >"$test_dir/slow.yaml"
first=$(det -o json experiment create "$test_dir/slow.yaml" "$(tiny_model)" | jq -r .id)
check "det experiment create submits a first experiment" test -n "$first"

# The number of validation reports of trial $1 stored so far.
reports() {
	det_api GET "/trials/$1/metrics?group=validation" >/dev/null
	det_body '.metrics | length'
}
trial=
for _ in $(seq 600); do
	det_api GET "/experiments/$first/trials" >/dev/null
	trial=$(det_body '[.trials[] | select(.state == "ACTIVE")][0].id // empty')
	[ -n "$trial" ] && [ "$(reports "$trial")" -gt 0 ] && break
	sleep 0.1
done
check "a trial of it runs and reports" test -n "$trial" -a "$(reports "${trial:-0}")" -gt 0

"$slurm_tests_dir/cluster.sh" stop-ctld "$test_dir/cluster"
det -o json experiment create "$(tiny_model)/grid.yaml" "$(tiny_model)" \
	>"$test_dir/create.out" 2>"$test_dir/create.err" &
create_pid=$!
cleanup_pids+=("$create_pid")

# The new experiment shows up in the list while its submission waits.
state= second= list_rc=0
for _ in $(seq 600); do
	det -o json experiment list >"$test_dir/list.json" 2>"$test_dir/list.err" || list_rc=$?
	second=$(jq -r "[.experiments[] | select(.id != $first)][0].id // empty" "$test_dir/list.json")
	[ -n "$second" ] && break
	sleep 0.1
done
state=$(jq -r "[.experiments[] | select(.id == ${second:-0})][0].state" "$test_dir/list.json")
check_eq "det experiment list answers during the submission and shows the new experiment ACTIVE" \
	"0 ACTIVE" "$list_rc $state"
check_eq "GET /health answers during the submission" 200 "$(det_api GET /health)"
before=$(reports "$trial") now=$before
for _ in $(seq 600); do
	now=$(reports "$trial")
	[ "$now" -gt "$before" ] && break
	sleep 0.1
done
check "the running trial's validation reports are acknowledged during it ($before -> $now)" \
	test "$now" -gt "$before"
if kill -0 "$create_pid" 2>/dev/null; then
	ok "all of that while the creation still waited on slurmctld"
else
	not_ok "all of that while the creation still waited on slurmctld"
	diag "$(cat "$test_dir/create.out" "$test_dir/create.err")"
fi

"$slurm_tests_dir/cluster.sh" start-ctld "$test_dir/cluster"
returned=no
for _ in $(seq 1200); do
	kill -0 "$create_pid" 2>/dev/null || {
		returned=yes
		break
	}
	sleep 0.1
done
wait "$create_pid"
rc=$?
if [ -n "$second" ]; then
	det_api GET "/experiments/$second" >/dev/null
	state=$(det_body .experiment.state)
fi
case "$rc $state" in
"0 ACTIVE" | "0 COMPLETED") outcome=submitted ;;
[1-9]*" ERROR") outcome=failed ;;
*) outcome="exit $rc, $state" ;;
esac
check "the creation ends, submitted (ACTIVE) or failed (ERROR): $returned, $outcome" \
	test "$returned" = yes -a \( "$outcome" = submitted -o "$outcome" = failed \)
diag "$(cat "$test_dir/create.err")"

det_api POST "/experiments/$first/kill" >/dev/null
[ -n "$second" ] && det_api POST "/experiments/$second/kill" >/dev/null
tap_done
