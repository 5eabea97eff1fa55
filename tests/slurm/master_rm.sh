#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# det-master --rm slurm on the test cluster: the master submits an
# experiment itself (det experiment create), squeue shows its det-e<ID>
# array, every trial completes; det agent/slot/resource-pool list show the
# four nodes with two GPUs each and the partitions as pools; describe shows
# each array task's Slurm state and pending reason; det resource-pool list
# names the pools as det.conf does (what --det-pool takes); slurm.sbatch_args the
# master can apply (--time) apply, others are refused with the reason. An experiment of
# another Unix user (nobody, over the socket) runs as that user.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_master
tap_plan 15

out=$(det -o json agent list 2>&1)
check_eq "det agent list: n1..n4, 2 GPUs each" "n1:2 n2:2 n3:2 n4:2" \
	"$(jq -r '[.agents[] | "\(.name):\(.gpus)"] | join(" ")' <<<"$out" 2>/dev/null)"
check "det agent list: a table with the node states and det pools" \
	grep -Eq '^n1 +IDLE +2 +0 +4 +2 +default ' <<<"$(det agent list)"
check_eq "det slot list: one row per GPU" 8 "$(det slot list | grep -c ' gpu ')"
check_eq "det resource-pool list: det.conf's pools, as --det-pool names them" "cpu-pool default" \
	"$(det -o json resource-pool list | jq -r '[.resource_pools[].name] | sort | join(" ")')"

# Five trials, at most two at once: some wait for the throttle.
sed -e 's/vals: \[0.1, 0.2, 0.3, 0.4\]/vals: [0.1, 0.2, 0.3, 0.4, 0.5]/' -e 's/sleep: 0$/sleep: 0.1/' \
	"$(tiny_model)/grid.yaml" >"$test_dir/grid.yaml"
id=$(det -o json experiment create "$test_dir/grid.yaml" "$(tiny_model)" | jq -r .id)
check "det experiment create: the master submits" test -n "$id"
names=
for _ in $(seq 50); do
	names=$(squeue -h -r -o %j 2>/dev/null | sort -u)
	[ -n "$names" ] && break
	sleep 0.1
done
check_eq "squeue shows the experiment's array" "det-e$id" "$names"
reason=
for _ in $(seq 50); do
	reason=$(det experiment describe "$id" | sed -n 's/.* PENDING  *\(JobArrayTaskLimit\).*/\1/p' | head -n 1)
	[ -n "$reason" ] && break
	sleep 0.1
done
check_eq "describe shows a waiting task's Slurm reason" JobArrayTaskLimit "$reason"
check "the experiment completes" wait_exp_state "$id" COMPLETED 60
det_api GET "/experiments/$id/trials" >/dev/null
check_eq "five trials completed" 5 "$(det_body '[.trials[] | select(.state == "COMPLETED")] | length')"
# The last tasks end by themselves after the experiment completed (no scancel).
done_tasks() { grep -c "Name=det-e$id JobState=COMPLETED" "$test_dir/cluster/log/jobcomp.txt"; }
for _ in $(seq 100); do
	[ "$(done_tasks)" = 5 ] && break
	sleep 0.1
done
check_eq "five det-e$id tasks COMPLETED in Slurm's accounting" 5 "$(done_tasks)"
# slurm.sbatch_args when the master submits.
sed 's/^max_restarts: 1$/max_restarts: 1\nslurm: {sbatch_args: [--time=9]}/' "$(tiny_model)/grid.yaml" \
	>"$test_dir/timed.yaml"
t=$(det -o json experiment create --paused "$test_dir/timed.yaml" "$(tiny_model)" | jq -r .id)
check_eq "slurm.sbatch_args --time=9 applies" 00:09:00 \
	"$(job_field "$(squeue -h -n "det-e$t" -o %F | head -n 1)" TimeLimit)"
det_api POST "/experiments/$t/kill" >/dev/null
sed 's/^max_restarts: 1$/max_restarts: 1\nslurm: {sbatch_args: [--mem=1G]}/' "$(tiny_model)/grid.yaml" \
	>"$test_dir/mem.yaml"
det experiment create "$test_dir/mem.yaml" "$(tiny_model)" >"$test_dir/mem.out" 2>&1
rc=$?
diag "$(cat "$test_dir/mem.out")"
check "one the master cannot apply (--mem) fails the create, naming it" \
	test "$rc" = 1 -a -n "$(grep -e '--mem=1G' "$test_dir/mem.out")"
det_api GET "/experiments?state=ERROR" >/dev/null
check_eq "and leaves that experiment in ERROR" 1 "$(det_body '.experiments | length')"

# Another user's experiment: the master (root) submits it as them.
if id -u nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	as_nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups -- "$@"; }
	sed 's/^name: .*/name: nobody-exp/' "$(tiny_model)/grid.yaml" >"$test_dir/nobody.yaml"
	chmod 644 "$test_dir/nobody.yaml"
	n=$(cd / && as_nobody env HOME=/ "$top_builddir/cli/det" -o json experiment create --paused \
		"$test_dir/nobody.yaml" 2>"$test_dir/nobody.err" | jq -r .id)
	[ -s "$test_dir/nobody.err" ] && diag "$(cat "$test_dir/nobody.err")"
	users=
	for _ in $(seq 50); do
		users=$(squeue -h -r -n "det-e$n" -o %u 2>/dev/null | sort -u)
		[ -n "$users" ] && break
		sleep 0.1
	done
	check_eq "an experiment of nobody's runs as nobody" nobody "$users"
	det_api POST "/experiments/$n/kill" >/dev/null
	check "and is killed by the admin" wait_exp_state "$n" CANCELED 20
else
	ok "# SKIP no user nobody or no setpriv"
	ok "# SKIP no user nobody or no setpriv"
fi
tap_done
