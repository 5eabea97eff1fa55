#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# spank_det in sbatch and slurmstepd: --det-experiment marks the job, the job
# sees the DET_* environment, and a stand-in master (listener.py, a real HTTP
# server) receives the allocation report and each task's exit, signed with a
# MUNGE credential. An unreachable master does not fail the job unless
# required_master=yes.
. "$(dirname "$0")/lib.sh"
slurm_require
start_listener
socket=$test_dir/cluster/munge/munge.socket
export DET_SPANK_ARGS="master=$master munge_socket=$socket timeout_ms=2000"
slurm_start
tap_plan 20
out=$test_dir/out
mkdir -p "$out"

cat >"$test_dir/job.sh" <<JOB
#!/bin/bash
env >$out/batch.env
srun -n1 bash -c 'env >$out/step.env'
srun -n1 bash -c 'exit 3'
srun -n1 bash -c 'kill -KILL \$\$'
exit 0
JOB
: >"$test_dir/posts.jsonl"
id=$(sbatch --parsable --det-experiment=7 --det-pool=default -o "$out/job.out" "$test_dir/job.sh")
check "det job submitted" test -n "$id"
check "det job finished" wait_job_gone "$id" 60
check "batch step has DET_EXPERIMENT_ID" grep -qx DET_EXPERIMENT_ID=7 "$out/batch.env"
check "batch step has DET_MASTER" grep -qx "DET_MASTER=$master" "$out/batch.env"
check "batch step has DET_ALLOCATION_ID and DET_RESOURCE_POOL" \
	grep -qx -e "DET_ALLOCATION_ID=$id" -e DET_RESOURCE_POOL=default "$out/batch.env"
check "job control env reached the job" grep -qx SLURM_SPANK_DET_EXPERIMENT_ID=7 "$out/batch.env"
check "srun step inside the job has DET_EXPERIMENT_ID" grep -qx DET_EXPERIMENT_ID=7 "$out/step.env"

alloc="[p for p in posts if p['body']['type']=='allocation' and p['body']['step']=='batch']"
check "allocation report reached the master" test "$(posts "len($alloc)")" = 1
check "report path names the job" \
	test "$(posts "${alloc}[0]['path']")" = "/api/v1/allocations/$id/events"
check_eq "report carries experiment, job, node, GPUs, CPUs" "(7, $id, '$(job_field "$id" BatchHost)', ['0'], True, 'default', 0)" \
	"$(posts "[(b['experiment_id'], b['job_id'], b['node'], b['gpus'], b['cpus'] >= 1, b['resource_pool'], b['restart_count']) for b in [${alloc}[0]['body']]][0]")"
exits="[p['body'] for p in posts if p['body']['type']=='task_exit']"
check "task exit 3 reported as exit_code 3" test "$(posts "[(e['exit_code'], e['signal']) for e in $exits if e['exit_code']==3]")" = "[(3, None)]"
check "task killed by SIGKILL reported as signal 9" test "$(posts "[(e['exit_code'], e['signal']) for e in $exits if e['signal']]")" = "[(None, 9)]"
cred=$(posts "${alloc}[0]['authorization']")
check "report signed with a MUNGE credential of root" \
	bash -c "unmunge --socket='$socket' <<<'${cred#Munge }' | grep -q '^UID: *root'"

# Another user's job: its allocation report carries that user's credential.
: >"$test_dir/posts.jsonl"
if id nobody >/dev/null 2>&1; then
	id=$(cd / && runuser -u nobody -- sbatch --parsable --chdir=/ -o /dev/null --det-experiment=11 --wrap true)
	wait_job_gone "$id" 60
	cred=$(posts "[p for p in posts if p['body']['type']=='allocation'][0]['authorization']")
	check "a user's allocation report is signed with that user's MUNGE credential" \
		bash -c "unmunge --socket='$socket' <<<'${cred#Munge }' | grep -q '^UID: *nobody'"
else
	ok "# SKIP no user nobody"
fi

# An array task knows its array ids.
: >"$test_dir/posts.jsonl"
id=$(sbatch --parsable --det-experiment=8 --array=3-4 -o /dev/null --wrap "env | grep ^DET_ARRAY >$out/array.\$SLURM_ARRAY_TASK_ID")
wait_job_gone "$id" 60
check_eq "array task has DET_ARRAY_JOB_ID and DET_ARRAY_TASK_ID" \
	"DET_ARRAY_JOB_ID=$id DET_ARRAY_TASK_ID=4" "$(sort "$out/array.4" | tr '\n' ' ' | sed 's/ $//')"
check_eq "array ids in the allocation reports" "[3, 4]" \
	"$(posts "sorted(p['body']['array_task_id'] for p in posts if p['body']['array_job_id']==$id and p['body']['type']=='allocation')")"

# A job without --det-experiment is not reported and gets no DET_ variables.
: >"$test_dir/posts.jsonl"
id=$(sbatch --parsable -o /dev/null --wrap "env >$out/plain.env")
wait_job_gone "$id" 60
check "non-det job: no DET_ variables, no report" \
	bash -c "! grep -qE '^DET_(MASTER|EXPERIMENT_ID|ALLOCATION_ID)=' '$out/plain.env' && ! test -s '$test_dir/posts.jsonl'"

# Unreachable master: the job goes on; with required_master=yes it fails.
plugstack=$test_dir/cluster/plugstack.conf
so=$(awk '{print $2}' "$plugstack")
echo "required $so master=http://127.0.0.1:1 timeout_ms=500 auth=none" >"$plugstack"
id=$(sbatch --parsable --det-experiment=9 -o "$out/down.out" --wrap "echo ran")
wait_job_gone "$id" 60
check "master unreachable: det job still completes" \
	grep -q "JobId=$id .*JobState=COMPLETED" "$test_dir/cluster/log/jobcomp.txt"
echo "required $so master=http://127.0.0.1:1 timeout_ms=500 auth=none required_master=yes" >"$plugstack"
id=$(sbatch --parsable --det-experiment=9 -o "$out/req.out" --wrap "echo ran")
wait_job_gone "$id" 60
check "required_master=yes: the det job's script does not run without the master" \
	bash -c "! grep -q ran '$out/req.out'"

# A typo in the plugin's arguments fails submission with a message naming it.
echo "required $so master=http://127.0.0.1:1 timout_ms=500" >"$plugstack"
sbatch --det-experiment=10 -o /dev/null --wrap true >/dev/null 2>"$test_dir/typo.err"
check "unknown plugstack argument refused by name" \
	grep -q "spank_det: plugstack.conf: unknown argument 'timout_ms'" "$test_dir/typo.err"
tap_done
