# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the det-master integration tests (sourced): TAP output and a
# private det-master on a free port with a temporary state directory.
# DET_MASTER_BIN overrides the binary (default: the build tree's).

if ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
	echo "1..0 # SKIP curl and jq are needed (scripts/debian-packages.txt)"
	exit 0
fi

need_sqlite3() { # skip the whole test unless the sqlite3 shell is installed
	if ! command -v sqlite3 >/dev/null; then
		echo "1..0 # SKIP sqlite3 is needed (scripts/debian-packages.txt)"
		exit 0
	fi
}

tap_n=0
tap_failed=0
ok() { # CONDITION-RESULT NAME
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}
check() { # NAME COMMAND...: ok when the command succeeds
	local name=$1
	shift
	"$@" >/dev/null 2>&1
	ok $? "$name"
}
eq() { # NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		ok 0 "$1"
	else
		ok 1 "$1"
		echo "#   expected: $2" >&2
		echo "#   got:      $3" >&2
	fi
}

builddir=${top_builddir:-$(pwd)}
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
master_bin=${DET_MASTER_BIN:-$builddir/master/det-master}
work=$(mktemp -d "${TMPDIR:-/tmp}/det-master-test.XXXXXX")
master_pid=
port=
mkdir -p "$work/pids"
export FAKE_PID_DIR=$work/pids
cleanup() {
	[ -n "$master_pid" ] && kill -9 "$master_pid" 2>/dev/null
	# Tasks of the local resource manager lead their own process groups and
	# record their pids (fake-launch.sh, FAKE_PID_DIR).
	for f in "$work"/pids/*; do
		[ -e "$f" ] && kill -9 -- "-${f##*/}" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

# start_master [EXTRA ARGS]: (re)start on the same state dir; sets port.
start_master() {
	local want_port=${port:-0}
	: >"$work/master.out"
	"$master_bin" --listen "127.0.0.1:$want_port" --socket "$work/m.sock" --state-dir "$work/state" \
		--launcher "${launcher:-$srcdir/tests/integration/fake-launch.sh}" "$@" \
		>>"$work/master.out" 2>>"$work/master.err" &
	master_pid=$!
	for _ in $(seq 600); do
		port=$(sed -n 's/^det-master: listening on port //p' "$work/master.out")
		[ -n "$port" ] && break
		sleep 0.1
	done
	base=http://127.0.0.1:$port/api/v1
}
use_det_cli() { # det (DET_BIN or the build tree's) against this test's master, and run
	det=${DET_BIN:-$builddir/cli/det}
	export DET_MASTER=unix:$work/m.sock DET_AUTH_FILE=$work/auth.json
	run() { # run det, capture stdout in $work/out, return its status
		"$det" "$@" >"$work/out" 2>"$work/err"
	}
}

stop_master() { # [SIGNAL]: returns the master's exit status
	local rc
	kill -"${1:-TERM}" "$master_pid" 2>/dev/null
	wait "$master_pid" 2>/dev/null
	rc=$?
	master_pid=
	if [ "$rc" != 0 ] && [ "${1:-TERM}" = TERM ]; then
		tail -n 30 "$work/master.err" >&2
	fi
	return $rc
}

# HTTP helpers: status code to stdout, body in $work/body.
http() { # METHOD PATH [BODY] [TOKEN]
	curl -s -o "$work/body" -w '%{http_code}' -X "$1" ${4:+-H "Authorization: Bearer $4"} \
		-H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$base$2"
}
sock() { # METHOD PATH [BODY]: as this Unix user over the socket
	curl -s -o "$work/body" -w '%{http_code}' --unix-socket "$work/m.sock" -X "$1" \
		-H 'Content-Type: application/json' ${3:+--data-binary "$3"} "http://localhost/api/v1$2"
}
body() { jq -r "$1" <"$work/body"; }

# wait_value PATH FILTER VALUE [SECONDS]: polls GET PATH until the jq FILTER of
# its answer (left in $work/body for the caller's checks) is VALUE (60 s)
wait_value() {
	for _ in $(seq $((${4:-60} * 10))); do
		sock GET "$1" >/dev/null
		[ "$(body "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_state EXP STATE [SECONDS]
wait_state() { wait_value "/experiments/$1" .experiment.state "$2" "${3:-60}"; }

# wait_task_state TASK STATE [SECONDS]
wait_task_state() { wait_value "/tasks/$1" .task.state "$2" "${3:-60}"; }

# create_exp YAML-FILE [ACTIVATE]: prints the new id
create_exp() {
	jq -n --rawfile c "$1" --argjson a "${2:-true}" '{config: $c, activate: $a}' >"$work/req.json"
	curl -s --unix-socket "$work/m.sock" -X POST -H 'Content-Type: application/json' \
		--data-binary @"$work/req.json" http://localhost/api/v1/experiments | jq -r .id
}
