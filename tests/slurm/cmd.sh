#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Commands on Slurm (det-master --rm slurm): det cmd run as a non-root user
# submits one job named det-t<ID> as that user (uid), the command's output
# reaches det (42), its exit code is det's (3), det task kill scancels a
# sleeping command (TERMINATED, reason killed, the job leaves squeue),
# another user gets 404 for the task, a failed node or a preemption ends a
# command with Slurm's reason (no requeue), and a command still running when the
# master restarts is adopted (its end and output are recorded).
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_users_require

export DET_PREEMPT_PARTITION=urgent
slurm_start_with_master
tap_plan 23
slurm_new_user U || exit 1
slurm_new_user V || exit 1
job_line() { # TASK-ID: scontrol's one-line record of the job det-t<ID>
	scontrol -o show job 2>/dev/null | grep -E "JobName=det-t$1( |$)" | head -n 1
}

out=$(as_det "$U" cmd run python3 -c 'print(6*7)' 2>"$test_dir/run.err")
check_eq "det cmd run python3 -c 'print(6*7)' as a user exits 0" 0 $?
check_eq "... and prints 42" 42 "$out"
id=$(sed -n 's/^det: command //p' "$test_dir/run.err")
[ -n "$id" ] || diag "$(cat "$test_dir/run.err")"
line=$(job_line "$id")
check "... as one Slurm job named det-t$id" test -n "$line"
check "... that runs as the user's uid" grep -q "UserId=$U($(id -u "$U"))" <<<"$line"
check "... and is never requeued" grep -q "Requeue=0" <<<"$line"
det_api GET "/tasks/$id" >/dev/null
check_eq "the task is TERMINATED, exit code 0" "TERMINATED 0" "$(det_body '.task | "\(.state) \(.exit_code)"')"

as_det "$U" cmd run sh -c 'exit 3' >/dev/null 2>&1
check_eq "det cmd run sh -c 'exit 3' exits 3" 3 $?

as_det "$U" -o json cmd run --detach sleep 300 >"$test_dir/detach.json" 2>/dev/null
kid=$(jq -r .id "$test_dir/detach.json")
check "a detached sleep is RUNNING" wait_task "$kid" RUNNING
as_det "$V" task logs "$kid" >"$test_dir/v.out" 2>&1
check "another user gets 'not found' (404) for it" grep -q "not found" "$test_dir/v.out"
as_det "$V" task kill "$kid" >/dev/null 2>&1
check "... and cannot kill it" test $? -ne 0
as_det "$U" task kill "$kid" >/dev/null 2>&1
check_eq "its owner kills it (det task kill exits 0)" 0 $?
det_api GET "/tasks/$kid" >/dev/null
check_eq "... it is TERMINATED, reason killed" "TERMINATED killed" \
	"$(det_body '.task | "\(.state) \(.end_reason)"')"
task_job_gone "$kid"
check_eq "... and its job leaves squeue" "" "$(squeue -h -n "det-t$kid" -o %i 2>/dev/null)"
check "... ended by Slurm (CANCELLED)" grep -q "JobState=CANCELLED" <<<"$(job_line "$kid")"

# A failed node and a preemption end a command (never requeued), saying why.
for how in NODE_FAIL PREEMPTED; do
	as_det "$U" -o json cmd run --detach sleep 300 >"$test_dir/fail.json" 2>/dev/null
	fid=$(jq -r .id "$test_dir/fail.json")
	wait_task "$fid" RUNNING || diag "task $fid did not start"
	node=$(squeue -h -n "det-t$fid" -o %N)
	if [ "$how" = NODE_FAIL ]; then
		scontrol update NodeName="$node" State=DOWN Reason=det-test
	else
		sbatch --parsable -p urgent -w "$node" --exclusive -o /dev/null --wrap 'sleep 2' >/dev/null
	fi
	check "$how: the command ends" wait_task "$fid" TERMINATED
	check_eq "... reason $how, and it is not queued again" "$how " \
		"$(det_body .task.end_reason) $(squeue -h -n "det-t$fid" -o %i)"
	[ "$how" = NODE_FAIL ] && scontrol update NodeName="$node" State=RESUME 2>/dev/null
done

# A master restart: the running command's job is watched again, not lost.
as_det "$U" -o json cmd run --detach sh -c \
	'echo before; while [ ! -e "$HOME/go" ]; do sleep 0.2; done; echo after' \
	>"$test_dir/adopt.json" 2>/dev/null
aid=$(jq -r .id "$test_dir/adopt.json")
check "a command to adopt is RUNNING" wait_task "$aid" RUNNING
restart_det_master TERM
det_api GET "/tasks/$aid" >/dev/null
check_eq "after a master restart it is still RUNNING (adopted)" RUNNING "$(det_body .task.state)"
touch "/tmp/$U.home/go"
check "... and its end is recorded" wait_task "$aid" TERMINATED
check_eq "... with exit code 0" 0 "$(det_body .task.exit_code)"
check_eq "... and its whole output" "before after" "$(as_det "$U" task logs "$aid" | tr '\n' ' ' | sed 's/ $//')"
tap_done
