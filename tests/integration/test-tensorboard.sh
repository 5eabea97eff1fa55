#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TensorBoard tasks (POST /tasks kind "tensorboard", det tensorboard) on the
# local resource manager of a real det-master. TensorBoard is not installed
# here: a TensorBoard for a finished experiment ends TERMINATED with
# "tensorboard not found on PATH". A fake `tensorboard` on PATH, which only
# prints its argv and exits, is then used ONLY to check the argv the task was
# given (logdir spec of the trials' event directories, host, port, path
# prefix); it serves nothing. det tensorboard start|list|kill (-o json|yaml)
# drive the same API; hostile requests are refused with 400/404.
set -u
. "$(dirname "$0")/master-lib.sh"
det=${DET_BIN:-$builddir/cli/det}
export DET_MASTER=unix:$work/m.sock DET_AUTH_FILE=$work/auth.json

# The tasks' PATH is the master's: without a tensorboard on it.
mkdir -p "$work/bin"
export PATH=/usr/local/bin:/usr/bin:/bin
if command -v tensorboard >/dev/null; then
	echo "1..0 # SKIP a tensorboard is installed: the not-found case cannot be shown"
	exit 0
fi
start_master
check "master starts" test -n "$port"

cat >"$work/exp.yaml" <<YAML
name: tb
entrypoint: python3 train.py
searcher: {name: random, metric: val_loss, max_trials: 2, max_concurrent_trials: 2, max_length: {batches: 2}}
YAML
printf 'model bytes' | gzip >"$work/model.tgz"
jq -n --rawfile c "$work/exp.yaml" --arg m "$(base64 -w0 "$work/model.tgz")" \
	'{config: $c, model_definition: $m}' >"$work/req.json"
e=$(curl -s --unix-socket "$work/m.sock" -X POST -H 'Content-Type: application/json' \
	--data-binary @"$work/req.json" http://localhost/api/v1/experiments | jq -r .id)
check "the experiment completes" wait_state "$e" COMPLETED 60
sock GET "/experiments/$e/trials" >/dev/null
trials=$(body '[.trials[].id] | join(" ")')
t1=${trials%% *}

eq "POST /tasks kind tensorboard for the experiment → 201" 201 \
	"$(sock POST /tasks "{\"kind\": \"tensorboard\", \"experiment_ids\": [$e]}")"
id=$(body .task.id)
eq "... a task of kind tensorboard" tensorboard "$(body .task.kind)"
check "... which ends" wait_task_state "$id" TERMINATED
eq "... TERMINATED: tensorboard not found on PATH" "TERMINATED tensorboard not found on PATH" \
	"$(body '"\(.task.state) \(.task.end_reason)"')"
sock GET "/tasks/$id/logs" >/dev/null
check "... and its log says the program was not found" grep -qi "not found\|no such file" "$work/body"

out=$("$det" tensorboard start "$e")
eq "det tensorboard start EXP_ID exits 0" 0 $?
cid=$(sed -n 's/^TensorBoard task \([0-9]*\) .*/\1/p' <<<"$out")
check "... and names its task" test -n "$cid"
check "... which ends" wait_task_state "$cid" TERMINATED
eq "... with the same reason" "tensorboard not found on PATH" "$(body .task.end_reason)"
"$det" tensorboard start >/dev/null 2>&1
eq "det tensorboard start without ids is a usage error" 2 $?
eq "det tensorboard list -o json lists both" 2 "$("$det" -o json tensorboard list | jq length)"
eq "det tensorboard list -o yaml too" 2 "$("$det" -o yaml tensorboard list | grep -c 'task_id: ')"

# Hostile or wrong requests: nothing started.
sock GET "/tasks?kind=tensorboard" >/dev/null
n=$(body '.tasks | length')
eq "an unknown experiment → 404" 404 "$(sock POST /tasks '{"kind": "tensorboard", "experiment_ids": [99999]}')"
eq "an unknown trial → 404" 404 "$(sock POST /tasks '{"kind": "tensorboard", "trial_ids": [99999]}')"
eq "no experiment and no trial → 400" 400 "$(sock POST /tasks '{"kind": "tensorboard"}')"
eq "an argv of its own → 400" 400 \
	"$(sock POST /tasks "{\"kind\": \"tensorboard\", \"experiment_ids\": [$e], \"argv\": [\"sh\"]}")"
eq "ids that are not positive integers → 400" 400 \
	"$(sock POST /tasks '{"kind": "tensorboard", "experiment_ids": ["1,2"]}')"
eq "experiment_ids on a command → 400" 400 \
	"$(sock POST /tasks "{\"argv\": [\"true\"], \"experiment_ids\": [$e]}")"
sock GET "/tasks?kind=tensorboard" >/dev/null
eq "... none of them made a task" "$n" "$(body '.tasks | length')"

# A fake tensorboard that only prints its argv: the argv the task got.
# (It waits only when $work/hold exists, for det tensorboard kill.)
printf '#!/bin/sh\nfor a; do printf "%%s\\n" "$a"; done\n[ -e %s/hold ] && echo $$ >%s/tb.pid && exec sleep 300\nexit 0\n' \
	"$work" "$work" >"$work/bin/tensorboard"
chmod 755 "$work/bin/tensorboard"
stop_master
PATH=$work/bin:$PATH start_master
eq "a TensorBoard of one trial (trial_ids) → 201" 201 \
	"$(sock POST /tasks "{\"kind\": \"tensorboard\", \"trial_ids\": [$t1]}")"
id=$(body .task.id)
check "... ends" wait_task_state "$id" TERMINATED
sock GET "/tasks/$id/logs" >/dev/null
body .text >"$work/argv"
ckpt=$work/state-checkpoints # the master's default checkpoint directory here
want=$(printf '%s\n' --logdir_spec "trial-$t1:$ckpt/tensorboard/experiment_$e/trial_$t1" \
	--host 127.0.0.1 --port 0 --path_prefix "/proxy/$id")
eq "... its argv: the trial's event directory, 127.0.0.1, port 0, /proxy/ID" "$want" "$(cat "$work/argv")"
eq "POST for the experiment (both trials) → 201" 201 \
	"$(sock POST /tasks "{\"kind\": \"tensorboard\", \"experiment_ids\": [$e], \"trial_ids\": [$t1]}")"
id=$(body .task.id)
check "... ends" wait_task_state "$id" TERMINATED
sock GET "/tasks/$id/logs" >/dev/null
eq "... each trial once in the logdir spec" "$(echo "$trials" | wc -w)" \
	"$(body .text | sed -n 2p | tr ',' '\n' | grep -c '^trial-')"

touch "$work/hold"
out=$("$det" tensorboard start --trial-ids "$t1")
id=$(sed -n 's/^TensorBoard task \([0-9]*\) .*/\1/p' <<<"$out")
wait_task_state "$id" RUNNING
eq "det tensorboard start --trial-ids ID: RUNNING" RUNNING "$(body .task.state)"
stop_master
PATH=$work/bin:$PATH start_master
sock GET "/tasks/$id" >/dev/null
eq "... still RUNNING after a master restart (adopted, as commands are)" RUNNING \
	"$(body .task.state)"
"$det" tensorboard kill "$id" >/dev/null
eq "det tensorboard kill exits 0" 0 $?
sock GET "/tasks/$id" >/dev/null
eq "... TERMINATED, killed" "TERMINATED killed" "$(body '"\(.task.state) \(.task.end_reason)"')"
gone() { # PID: until it has ended (60 s)
	for _ in $(seq 600); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
check "... and its process is gone" gone "$(cat "$work/tb.pid")"

stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
