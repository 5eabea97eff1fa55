#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Two 2-rank trials forced onto the same node at the same time: spank_det
# gives each step its own TMPDIR (det-JOB.STEP, mode 0700) and its own
# rendezvous port pair from port_range, det-launch uses that port as
# MASTER_PORT, both trials complete, and the temp dirs are gone afterwards.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_policy PoolPartition=default:cpu:cpu MaxSlots=4 MaxSlotsPerNode=0
tap_plan 12

mkdir -p "$test_dir/env"
chmod 777 "$test_dir/env"
sed -e 's/vals: \[0.1, 0.2, 0.3, 0.4\]/vals: [0.1]/' -e 's/^  sleep: 0$/  sleep: 0.5/' \
	-e "s|^max_restarts: 1\$|max_restarts: 0\nresources: {slots_per_trial: 2}\nenvironment: {environment_variables: [TINY_ENV_DIR=$test_dir/env]}|" \
	"$(tiny_model)/grid.yaml" >"$test_dir/pair.yaml"
ids=() jobs=()
for i in 1 2; do
	det submit "$test_dir/pair.yaml" "$(tiny_model)" -- -w n1 -o "$test_dir/task$i-%A_%a.out" \
		>"$test_dir/submit$i.out" 2>&1
	check "det submit of 2-rank trial $i onto n1" test $? = 0
	ids+=("$(sed -n 's/^Created experiment \([0-9]*\)$/\1/p' "$test_dir/submit$i.out")")
	jobs+=("$(sed -n 's/^Submitted Slurm array job \([0-9]*\)$/\1/p' "$test_dir/submit$i.out")")
done

# Both running at once: every rank of both trials has written its file while
# the other trial is still running (each runs for about 5 s of batches).
both_running() {
	local n
	n=$(squeue -h -t R -w n1 -o %i 2>/dev/null | grep -c -e "^${jobs[0]}_" -e "^${jobs[1]}_")
	[ "$n" = 2 ]
}
running=no
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
	if both_running; then
		running=yes
		break
	fi
	sleep 0.2
done
check_eq "both trials ran on n1 at the same time" yes "$running"
check "experiment ${ids[0]} completes" wait_exp_state "${ids[0]}" COMPLETED 90
check "experiment ${ids[1]} completes" wait_exp_state "${ids[1]}" COMPLETED 90
check_eq "all four ranks reported their environment" 4 "$(find "$test_dir/env" -type f | wc -l)"

# One line per trial: the ranks of a trial share their step's TMPDIR and port.
summary=$(for f in "$test_dir"/env/*; do
	cut -d' ' -f1-3 "$f" # cut ends each line
done | sort -u)
diag "$summary"
check_eq "two distinct TMPDIR/port lines, one per trial" 2 "$(echo "$summary" | wc -l)"
check_eq "two distinct TMPDIRs" 2 "$(echo "$summary" | cut -d' ' -f1 | sort -u | wc -l)"
check_eq "two distinct ports" 2 "$(echo "$summary" | cut -d' ' -f3 | sort -u | wc -l)"
# the cluster's own tmpdir_base (tests/slurm/cluster.sh)
base=$(sed -n 's/.* tmpdir_base=\([^ ]*\).*/\1/p' "$test_dir/cluster/plugstack.conf")
check_eq "each TMPDIR is the step's det-JOB.STEP under the plugin's tmpdir_base, mode 0700" 2 \
	"$(echo "$summary" | grep -c -E "^${base:-none}/det-[0-9]+\.[0-9]+ 0o700 ")"
range=$(sed -n 's/.*port_range=\([0-9]*\)-\([0-9]*\).*/\1 \2/p' <<<"$DET_SPANK_ARGS")
check_eq "each MASTER_PORT is from the plugin's port_range ($range)" 2 \
	"$(echo "$summary" | awk -v lo="${range% *}" -v hi="${range#* }" '$3 >= lo && $3 <= hi' | wc -l)"
# slurmstepd removes them when each step exits, which may be after the
# experiment counts as completed: wait for that, with a generous bound.
step_dirs_left() {
	local j
	for j in "${jobs[@]}"; do
		compgen -G "${base:-none}/det-$j.*"
	done
}
deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ] && [ -n "$(step_dirs_left)" ]; do
	sleep 0.2
done
check_eq "the step temp dirs (batch and srun steps) are gone" "" "$(step_dirs_left)"
tap_done
