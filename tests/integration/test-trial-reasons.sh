#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every failure says why: with a real det-master (local resource manager,
# running as root) and the real det-launch, a second Unix user's trials fail
# in five ways: the entrypoint is missing, a Python exception, a checkpoint
# directory the user cannot write, killed by a signal, failing again after its
# restarts ran out. Each trial ends in
# ERROR with a one-line end_reason (exit status or signal and the first
# error it printed) and its exit_code; its experiment in ERROR says
# "trial N: <reason>". Both show in the REST API, in `det trial describe` and
# `det experiment describe`, and in their `-o json`. Last, a launcher that
# ends without claiming a trial: the experiment in ERROR names the array task.
set -u
. "$(dirname "$0")/master-lib.sh"
. "$(dirname "$0")/../security/security-lib.sh"
need_root
need_det_launch /usr/bin/python3
echo "1..48"

make_user U || exit 1
start_master --storage-root "$work"
export DET_MASTER=unix:$work/m.sock

mkdir -p "$work/model" "$work/ckpt" "$work/readonly"
chown "$U:" "$work/ckpt"
chmod 0755 "$work/readonly" # root's: the user cannot write into it
cat >"$work/model/fail.py" <<'PY'
import sys
print("loading data", file=sys.stderr)
def step(x):
    return 1 / x
step(0)
PY
cat >"$work/model/ckpt.py" <<'PY'
import determined as det
with det.core.init() as core:
    with core.checkpoint.store_path({"steps_completed": 1}) as (path, uuid):
        (path / "w.bin").write_bytes(b"w")
PY

# submit NAME ENTRYPOINT-YAML CHECKPOINT-DIR [MAX-RESTARTS]: the experiment's id, created by
# the user
submit() {
	cat >"$work/$1.yaml" <<YAML
name: $1
entrypoint: $2
searcher: {name: single, metric: m, max_length: {batches: 1}}
checkpoint_storage: {type: shared_fs, host_path: $3}
max_restarts: ${4:-0}
YAML
	as_user "$U" env DET_MASTER="$DET_MASTER" "$det" experiment create "$work/$1.yaml" \
		"$work/model" >"$work/$1.create" 2>&1
	sed -n 's/^Created experiment \([0-9]*\).*/\1/p' "$work/$1.create"
}

# expect NAME EXP REASON-PATTERN EXIT-CODE: the trial and the experiment say why
expect() {
	local name=$1 id=$2 pat=$3 code=$4 tid reason
	if ! wait_state "$id" ERROR 120; then
		ok 1 "$name: the experiment ends in ERROR (it is $(body .experiment.state))"
		cat "$work/$name.create" "$work/master.err" | tail -n 20 | sed 's/^/#   /' >&2
		return
	fi
	ok 0 "$name: the experiment ends in ERROR"
	sock GET "/experiments/$id/trials" >/dev/null
	tid=$(body '.trials[0].id')
	reason=$(body '.trials[0].end_reason')
	echo "# $name: $reason"
	eq "$name: the trial is in ERROR" ERROR "$(body '.trials[0].state')"
	if [[ $reason =~ $pat ]]; then ok 0 "$name: trial end_reason says why"; else
		ok 1 "$name: trial end_reason says why"
		echo "#   expected /$pat/, got: $reason" >&2
	fi
	eq "$name: trial exit_code in the REST API" "$code" "$(body '.trials[0].exit_code')"
	sock GET "/experiments/$id" >/dev/null
	eq "$name: the experiment's end_reason names the trial" "trial $tid: $reason" \
		"$(body .experiment.end_reason)"
	"$det" trial describe "$tid" >"$work/out" 2>&1
	check "$name: det trial describe shows it" grep -qxF "error: $reason" "$work/out"
	eq "$name: det -o json trial describe" "$reason $code" \
		"$("$det" -o json trial describe "$tid" | jq -r '"\(.end_reason) \(.exit_code)"')"
	"$det" experiment describe "$id" >"$work/out" 2>&1
	check "$name: det experiment describe shows it" \
		grep -qxF "error: trial $tid: $reason" "$work/out"
	eq "$name: det -o json experiment describe" "trial $tid: $reason" \
		"$("$det" -o json experiment describe "$id" | jq -r .end_reason)"
}

id=$(submit missing ./no-such-entrypoint.sh "$work/ckpt")
expect missing "$id" '^entrypoint not found \(exit status 127\): .*no-such-entrypoint\.sh: not found$' 127

id=$(submit exception "[/usr/bin/python3, fail.py]" "$work/ckpt")
expect exception "$id" '^exit status 1: ZeroDivisionError: division by zero$' 1

id=$(submit readonly "[/usr/bin/python3, ckpt.py]" "$work/readonly")
expect readonly "$id" "^exit status 1: PermissionError: .*checkpoint directory $work/readonly.*: Permission denied\$" 1

id=$(submit signal "\"echo 'step 1'; kill -9 \$\$\"" "$work/ckpt")
expect signal "$id" '^killed by signal 9 \(SIGKILL\)$' 137

id=$(submit restarts "\"echo 'Error: no space left' >&2; exit 3\"" "$work/ckpt" 1)
expect restarts "$id" '^max_restarts \(1\) exceeded: exit status 3: Error: no space left$' 3

# A launcher that cannot run (exits before it claims anything).
stop_master
launcher=/bin/false
start_master --storage-root "$work"
id=$(submit nolaunch "[sh, -c, 'exit 0']" "$work/ckpt")
if wait_state "$id" ERROR 120; then
	reason=$(body .experiment.end_reason)
	echo "# nolaunch: $reason"
	pat='^array task 0: det-launch ended 1 time without claiming a trial \(last: exit status 1\)'
	[[ $reason =~ $pat ]]
	ok $? "nolaunch: the experiment's end_reason names the array task"
else
	ok 1 "nolaunch: the experiment ends in ERROR (it is $(body .experiment.state))"
fi
"$det" experiment describe "$id" >"$work/out" 2>&1
check "nolaunch: det experiment describe shows it" grep -qxF "error: $reason" "$work/out"
eq "nolaunch: det -o json experiment describe" "$reason" \
	"$("$det" -o json experiment describe "$id" | jq -r .end_reason)"
