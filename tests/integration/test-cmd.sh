#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Commands (det cmd run) on the local resource manager of a real det-master:
# the output streams and the exit code propagates, a failing command's exit
# status and a missing program's 127 too, kill ends a sleeping command and
# its children (TERMINATED, reason killed), listing and logs, the description,
# --context (a directory shipped as the command's working directory),
# hostile requests (empty argv, NUL, unknown fields, bad env names) refused
# with nothing written, and commands adopted across a master restart.
set -u
. "$(dirname "$0")/master-lib.sh"
det=${DET_BIN:-$builddir/cli/det}
export DET_MASTER=unix:$work/m.sock DET_AUTH_FILE=$work/auth.json

start_master
check "master starts" test -n "$port"

out=$("$det" cmd run python3 -c 'print(6*7)' 2>"$work/run.err")
eq "det cmd run python3 -c 'print(6*7)' exits 0" 0 $?
eq "... and prints 42" 42 "$out"
id=$(sed -n 's/^det: command //p' "$work/run.err")
sock GET "/tasks/$id" >/dev/null
eq "the task is TERMINATED with exit code 0" "TERMINATED 0 command" \
	"$(body '.task | "\(.state) \(.exit_code) \(.kind)"')"
check "... it was started and ended" test "$(body '.task.started_at > 0 and .task.ended_at > 0')" = true

"$det" cmd run sh -c 'echo out; echo err >&2; exit 3' >"$work/o3" 2>/dev/null
eq "a failing command's exit status propagates" 3 $?
eq "... stdout and stderr are both in its output" "out err" "$(tr '\n' ' ' <"$work/o3" | sed 's/ $//')"

"$det" cmd run --config-file /dev/stdin sh -c 'echo "$GREETING"' >"$work/oenv" 2>/dev/null <<'YAML'
description: greet
resources:
  slots: 1
environment:
  environment_variables:
    - GREETING=hello there
YAML
eq "environment_variables from --config-file reach the command" "hello there" "$(cat "$work/oenv")"
sock GET "/tasks?kind=command" >/dev/null
did=$(body '.tasks[-1].task_id | ltrimstr("task-")')
eq "the description from --config-file is listed (GET /tasks)" greet "$(body '.tasks[-1].description')"
sock GET "/tasks/$did" >/dev/null
eq "... and described (GET /tasks/ID)" greet "$(body .task.description)"
eq "... and shown by det task list" 1 "$("$det" task list | grep -c ' greet *$')"

"$det" cmd run no-such-program-xyz >/dev/null 2>&1
eq "a missing program exits 127" 127 $?

# --- --context: the directory is the command's working directory ---
mkdir -p "$work/ctx/sub"
cat >"$work/ctx/run.sh" <<'SH'
echo "$(cat sub/data.txt) in $(basename "$PWD" | cut -c1-12)"
pwd >"$1"
SH
echo "context data" >"$work/ctx/sub/data.txt"
out=$("$det" cmd run --context "$work/ctx" sh run.sh "$work/ctx.pwd" 2>/dev/null)
eq "det cmd run --context DIR runs a script of the context, in it" 0 $?
eq "... which reads the context's files from its working directory" \
	"context data in det-context-" "$out"
check "... a fresh directory, removed after the command ended" \
	bash -c "d=\$(cat '$work/ctx.pwd'); [ -n \"\$d\" ] && [ ! -e \"\$d\" ]"
check "... and the archive the master kept for it is gone" \
	bash -c "! ls '$work'/state/task-logs/*.context 2>/dev/null | grep -q ."
eq "a context that is not base64: 400" 400 "$(sock POST /tasks '{"argv": ["ls"], "context": "%%%"}')"

# --- kill: a sleeping command and its child end, the task says why ---
"$det" cmd run --detach sh -c 'sleep 300 & echo $! >"$0"; wait' "$work/child.pid" >/dev/null
sock GET "/tasks?kind=command" >/dev/null
kid=$(body '.tasks | map(select(.state != "TERMINATED")) | .[0].task_id | ltrimstr("task-")')
for _ in $(seq 600); do
	sock GET "/tasks/$kid" >/dev/null
	[ "$(body .task.state)" = RUNNING ] && [ -s "$work/child.pid" ] && break
	sleep 0.1
done
eq "the detached command is RUNNING" RUNNING "$(body .task.state)"
"$det" task kill "$kid" >/dev/null
eq "det task kill exits 0" 0 $?
sock GET "/tasks/$kid" >/dev/null
eq "the killed task is TERMINATED, reason killed" "TERMINATED killed" \
	"$(body '.task | "\(.state) \(.end_reason)"')"
child=$(cat "$work/child.pid")
for _ in $(seq 600); do
	kill -0 "$child" 2>/dev/null || break
	sleep 0.1
done
check "... and its child process is gone" bash -c "! kill -0 $child 2>/dev/null"
eq "a second kill is a conflict (409)" 409 "$(sock POST "/tasks/$kid/kill")"

# --- listing and logs ---
n=$("$det" -o json cmd list | jq 'length')
eq "det cmd list shows the six commands" 6 "$n"
eq "det task logs prints a finished command's output" 42 "$("$det" task logs "$id")"
eq "logs of a task that does not exist: 404" 404 "$(sock GET /tasks/999999/logs)"

# --- hostile input: refused, nothing written ---
before=$(sock GET /tasks >/dev/null; body '.tasks | length')
eq "empty argv: 400" 400 "$(sock POST /tasks '{"argv": []}')"
eq "argv not a list: 400" 400 "$(sock POST /tasks '{"argv": "ls"}')"
eq "NUL in an argument: 400" 400 "$(sock POST /tasks '{"argv": ["echo", "a\u0000b"]}')"
eq "an argument over 4096 bytes: 400" 400 \
	"$(sock POST /tasks "{\"argv\": [\"echo\", \"$(head -c 5000 /dev/zero | tr '\0' a)\"]}")"
eq "unknown field: 400" 400 "$(sock POST /tasks '{"argv": ["ls"], "contexts": "x"}')"
eq "kind other than command: 400" 400 "$(sock POST /tasks '{"kind": "shell", "argv": ["ls"]}')"
eq "bad env name: 400" 400 \
	"$(sock POST /tasks '{"argv": ["ls"], "environment": {"environment_variables": ["1A=b"]}}')"
eq "negative slots: 400" 400 "$(sock POST /tasks '{"argv": ["ls"], "resources": {"slots": -1}}')"
eq "bad offset: 400" 400 "$(sock GET "/tasks/$id/logs?offset=-1")"
eq "slurm: an unknown field: 400" 400 "$(sock POST /tasks '{"argv": ["ls"], "slurm": {"gpu": 1}}')"
eq "slurm.sbatch_args an option the master cannot apply: 400" 400 \
	"$(sock POST /tasks '{"argv": ["ls"], "slurm": {"sbatch_args": ["--wrap=x"]}}')"
eq "slurm.sbatch_args not strings: 400" 400 \
	"$(sock POST /tasks '{"argv": ["ls"], "slurm": {"sbatch_args": [1]}}')"
eq "nothing was written by the refused requests" "$before" \
	"$(sock GET /tasks >/dev/null; body '.tasks | length')"

# --- a restart: a command left running is adopted again, its end recorded ---
"$det" cmd run --detach sh -c 'echo before; while [ ! -e "$0" ]; do sleep 0.1; done; echo after' \
	"$work/go" >/dev/null
aid=$(sock GET "/tasks?kind=command" >/dev/null; body '.tasks | map(select(.state != "TERMINATED")) | .[0].task_id | ltrimstr("task-")')
check "the command to adopt is RUNNING" wait_task_state "$aid" RUNNING
for _ in $(seq 600); do
	[ "$("$det" task logs "$aid")" = before ] && break
	sleep 0.1
done
stop_master TERM
start_master
sock GET "/tasks/$aid" >/dev/null
eq "after a master restart a command still running is RUNNING (adopted)" RUNNING "$(body .task.state)"
touch "$work/go"
check "... and its end is recorded" wait_task_state "$aid" TERMINATED
eq "... with its exit code 0 and reason exited" "0 exited" "$(body '.task | "\(.exit_code) \(.end_reason)"')"
eq "... its output went on across the restart" "before after" "$("$det" task logs "$aid" | tr '\n' ' ' | sed 's/ $//')"

"$det" cmd run --detach sh -c 'while [ ! -e "$0" ]; do sleep 0.1; done; exit 5' "$work/go5" >/dev/null
fid=$(sock GET "/tasks?kind=command" >/dev/null; body '.tasks | map(select(.state != "TERMINATED")) | .[0].task_id | ltrimstr("task-")')
check "a second command is RUNNING" wait_task_state "$fid" RUNNING
stop_master KILL
touch "$work/go5"
for _ in $(seq 600); do
	pgrep -f "$work/go5" >/dev/null || break
	sleep 0.1
done
start_master
check "a command that ended while the master was down is TERMINATED" wait_task_state "$fid" TERMINATED
eq "... with the exit code it ended with (5)" 5 "$(body .task.exit_code)"

stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
