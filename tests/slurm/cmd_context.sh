#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# det cmd run --context DIR on Slurm (det-master --rm slurm): the job fetches
# the context with its task's token (det-launch --command, as rank 0 fetches a
# model definition), the command runs in the unpacked directory as the
# submitting user (uid, gid, groups) and the files are that user's; the
# directory and the master's copy are gone after the command ends; nobody but
# the job (its token) reads the context; a context over the size limit is
# refused before anything is submitted.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
slurm_users_require

slurm_start_with_master
tap_plan 12
slurm_new_user U || exit 1
job_line() { # TASK-ID: scontrol's one-line record of the job det-t<ID>
	scontrol -o show job 2>/dev/null | grep -E "JobName=det-t$1( |$)" | head -n 1
}
ntasks() { # how many tasks the master has
	det_api GET /tasks >/dev/null
	det_body '.tasks | length'
}

ctx=/tmp/$U.home/ctx
runuser -u "$U" -- mkdir -p "$ctx/sub"
runuser -u "$U" -- sh -c "echo 'hello from the context' >'$ctx/hello.txt'; echo x >'$ctx/sub/y'"

out=$(as_det "$U" cmd run --context "$ctx" cat hello.txt 2>"$test_dir/run.err")
check_eq "det cmd run --context DIR cat hello.txt exits 0" 0 $?
[ -s "$test_dir/run.err" ] && diag "$(cat "$test_dir/run.err")"
check_eq "... and prints the file's content" "hello from the context" "$out"
id=$(sed -n 's/^det: command //p' "$test_dir/run.err")
check "... as a Slurm job det-t$id of the user" grep -q "UserId=$U($(id -u "$U"))" <<<"$(job_line "$id")"

# shellcheck disable=SC2016 # for the command's shell
out=$(as_det "$U" cmd run --context "$ctx" sh -c \
	'stat -c "%U %G" hello.txt sub sub/y; id -u; id -g; id -G; pwd' 2>"$test_dir/stat.err")
sid=$(sed -n 's/^det: command //p' "$test_dir/stat.err")
check_eq "stat: the unpacked files and folders belong to the submitting user" \
	"$U $U|$U $U|$U $U" "$(head -n 3 <<<"$out" | paste -sd '|')"
check_eq "... the command runs as that uid, gid and groups" \
	"$(id -u "$U") $(id -g "$U") $(id -G "$U")" "$(sed -n 4,6p <<<"$out" | paste -sd ' ')"
dir=$(sed -n 7p <<<"$out")
check "... in a fresh directory (det-context-*)" grep -q '/det-context-' <<<"$dir"
check "... removed after the command ended" test ! -e "$dir"
gone() { # FILE: until it no longer exists (60 s at most)
	for _ in $(seq 300); do
		[ -e "$1" ] || return 0
		sleep 0.2
	done
	return 1
}
check "the master's copy is removed when the task ends" \
	gone "$test_dir/state/task-logs/task-$sid.context"

# Only the job reads the context: not its owner's credential, nor none.
check_eq "GET /tasks/ID/context with an admin's credential: 404" 404 "$(det_api GET "/tasks/$sid/context")"
check_eq "... without credentials over TCP: 404" 404 \
	"$(curl -s -o /dev/null -w '%{http_code}' "$det_master_url/api/v1/tasks/$sid/context")"

# Over the limit (the master's for a model definition): refused before a job exists.
before=$(ntasks)
runuser -u "$U" -- mkdir -p "/tmp/$U.home/big"
runuser -u "$U" -- sh -c "head -c 100M /dev/urandom >'/tmp/$U.home/big/blob'"
det_jobs() { scontrol -o show job 2>/dev/null | grep -c 'JobName=det-t'; }
jobs_before=$(det_jobs)
as_det "$U" cmd run --context "/tmp/$U.home/big" true >/dev/null 2>"$test_dir/big.err"
check "a context over the limit is refused (det exits non-zero)" test $? -ne 0
grep -qi "limit\|too large\|over" "$test_dir/big.err" || diag "$(cat "$test_dir/big.err")"
check_eq "... before anything is submitted: no task, no job" "$before $jobs_before" \
	"$(ntasks) $(det_jobs)"
tap_done
