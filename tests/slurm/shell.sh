#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Shells on Slurm (det-master --rm slurm): det shell start --detach as a
# non-root user runs the shell's sshd in a job det-t<ID> as that user, and
# det shell open ID reaches it through the master's tunnel: the session runs
# on the job's compute node (SLURMD_NODENAME is the node squeue names) as
# the user; det shell kill scancels it.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_users_require
[ -x /usr/sbin/sshd ] && command -v ssh >/dev/null || skip_all "sshd or ssh not found"
[ "$(id -u)" = 0 ] || skip_all "needs root (creates Unix users)"

slurm_start_with_master
tap_plan 8
slurm_new_user U || exit 1

id=$(as_det "$U" -o json shell start --detach 2>"$test_dir/start.err" | jq -r .id)
check "det shell start --detach as a user" test -n "$id"
[ -n "$id" ] || diag "$(cat "$test_dir/start.err")"
wait_task "$id" RUNNING
check_eq "... it runs as a Slurm job" RUNNING "$(det_body .task.state)"
node=$(squeue -h -n "det-t$id" -o %N)
check "... squeue names its node" test -n "$node"
# shellcheck disable=SC2016 # expanded by the session's shell
out=$(as_det "$U" shell open "$id" -- 'echo $SLURMD_NODENAME $(id -u)' 2>"$test_dir/open.err")
check_eq "det shell open ID exits 0" 0 $?
[ -n "$out" ] || diag "$(cat "$test_dir/open.err")"
check_eq "... the session runs on the job's node, as the user" "$node $(id -u "$U")" "$out"
as_det "$U" shell kill "$id" >/dev/null 2>&1
check_eq "det shell kill exits 0" 0 $?
task_job_gone "$id"
check_eq "... and its job leaves squeue" "" "$(squeue -h -n "det-t$id" -o %i 2>/dev/null)"
# det shell proxy retries while the master answers 502 (here: the shell has
# ended), each try with a fresh MUNGE credential: munged refuses one used
# twice, which made the second try a 401 (seen when the sshd registered late).
for _ in $(seq 300); do
	det_api GET "/tasks/$id" >/dev/null
	[ "$(det_body .task.state)" = TERMINATED ] && break
	sleep 0.2
done
timeout -k 5 10 runuser -u "$U" -- env -u DET_TOKEN HOME="/tmp/$U.home" DET_MASTER="$det_master_url" \
	DET_MUNGE_SOCKET="$test_dir/cluster/munge/munge.socket" "$top_builddir/cli/det" shell proxy "$id" </dev/null 2>"$test_dir/proxy.err"
check_eq "det shell proxy keeps retrying a 502 for 10 s, never a 401" "TERMINATED/" \
	"$(det_body .task.state)/$(grep -o 'answered [0-9]*' "$test_dir/proxy.err")"
tap_done
