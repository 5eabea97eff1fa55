#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# det-slurm's Slurm settings (etc/slurm.conf.fragment, the optional SPANK line,
# as tests/slurm/cluster.sh uses them) leave jobs that are not det jobs alone,
# and det's own requeue still works without cluster-wide settings:
#   - a plain job that exits 75 ends FAILED and is not requeued (no RequeueExit);
#   - a plain srun keeps Slurm's default MPI plugin (no MpiDefault=pmix);
#   - a det trial whose det-launch ends with 75 after a SIGTERM that det-master
#     did not send (scancel --signal=TERM) is requeued by det-master and resumes
#     from the checkpoint it took;
#   - with spank_det.so missing from plugstack.conf's path, plain jobs run and
#     a det trial fails with a message that names the plugin in its logs.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_start_with_master
tap_plan 11

# ---- jobs that are not det jobs --------------------------------------------------
plain=$(sbatch --parsable -o /dev/null --wrap 'exit 75')
state=
for _ in $(seq 300); do
	state=$(job_field "$plain" JobState)
	case $state in COMPLETED | FAILED | CANCELLED | TIMEOUT) break ;; esac
	sleep 0.2
done
check_eq "a plain job that exits 75 ends FAILED" FAILED "$state"
check_eq "... and Slurm did not requeue it" "0 75:0" \
	"$(job_field "$plain" Restarts) $(job_field "$plain" ExitCode)"
# (unset, 22.05 shows "none" and 24.11 "(null)")
check_eq "slurm.conf sets no MPI default for everyone" none \
	"$(scontrol show config | sed -n 's/^MpiDefault *= *//p' | sed 's/^(null)$/none/')"
check_eq "a plain srun gets no PMIx environment" unset \
	"$(timeout 60 srun -n1 bash -c 'echo ${PMIX_RANK-unset}' 2>&1)"

# ---- det's own requeue: det-launch's 75, requeued by det-master ------------------
mkdir -p "$test_dir/model"
cp "$slurm_tests_dir/trial.py" "$test_dir/model/"
cat >"$test_dir/term.yaml" <<-YAML
	name: term
	entrypoint: python3 trial.py
	hyperparameters:
	  step_seconds: 0.2
	searcher:
	  name: single
	  metric: validation_loss
	  max_length: {batches: 40}
	max_restarts: 3
YAML
det submit "$test_dir/term.yaml" "$test_dir/model" -- -o "$test_dir/task-%A_%a.out" \
	>"$test_dir/submit.out" 2>&1
id=$(sed -n 's/^Created experiment \([0-9]*\)$/\1/p' "$test_dir/submit.out")
job=$(sed -n 's/^Submitted Slurm array job \([0-9]*\)$/\1/p' "$test_dir/submit.out")
[ -n "$id" ] && [ -n "$job" ] || diag "$(cat "$test_dir/submit.out")"
steps=0
for _ in $(seq 300); do
	det_api GET "/experiments/$id/trials" >/dev/null
	steps=$(det_body '.trials[0].steps_completed // 0')
	[ "$steps" -ge 8 ] 2>/dev/null && break
	sleep 0.2
done
# A one-slot trial's det-launch is the batch step: --full signals it.
scancel --signal=TERM --full "${job}_0"
check "term: the experiment completes" wait_exp_state "$id" COMPLETED 150
det_api GET "/experiments/$id/trials" >/dev/null
check_eq "term: one trial, all 40 steps, no restart spent" "1 40 0" \
	"$(det_body '"\(.trials | length) \(.trials[0].steps_completed) \(.trials[0].restarts)"')"
check "term: det-master had Slurm run the task again" \
	test "$(job_field "${job}_0" Restarts)" -ge 1
tid=$(det_body '.trials[0].id')
logs=$(det_api GET "/trials/$tid/logs" >/dev/null && det_body '.logs[].line')
from=$(sed -n 's/.*resumed at step \([0-9]*\).*/\1/p' <<<"$logs" | head -n 1)
check_eq "term: the rerun resumed where the SIGTERM made it checkpoint" \
	"$(sed -n 's/.*preempted at step \([0-9]*\).*/\1/p' <<<"$logs" | head -n 1)" "${from:-none}"
[ "$tap_failed" = 0 ] || diag "$(tail -n 20 "$test_dir/master.err")"

# ---- spank_det.so missing: other jobs run, a det trial says why it fails ---------
echo "optional $test_dir/missing/spank_det.so" >"$test_dir/cluster/plugstack.conf"
check_eq "without spank_det.so a plain srun runs" ok "$(timeout 60 srun -n1 echo ok 2>/dev/null)"
sed -e 's/^name: term/name: nospank/' -e 's/^max_restarts: 3/max_restarts: 0/' \
	"$test_dir/term.yaml" >"$test_dir/nospank.yaml"
id=$(det -o json experiment create "$test_dir/nospank.yaml" "$test_dir/model" | jq -r .id)
check "without spank_det.so the det experiment errors" wait_exp_state "$id" ERROR 120
det_api GET "/experiments/$id/trials" >/dev/null
tid=$(det_body '.trials[0].id')
check "its trial's logs say that spank_det.so did not run" \
	grep -q "spank_det.so did not run in Slurm job" \
	<(det_api GET "/trials/$tid/logs" >/dev/null && det_body '.logs[].line')
tap_done
