# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the det-master integration tests (sourced): TAP output and a
# private det-master on a free port with a temporary state directory.
# DET_MASTER_BIN overrides the binary (default: the build tree's).

if ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
	echo "1..0 # SKIP curl and jq are needed (scripts/debian-packages.txt)"
	exit 0
fi

need_command() { # COMMAND [WHERE-FROM]: skip the whole test unless COMMAND is on the PATH
	if ! command -v "$1" >/dev/null; then
		echo "1..0 # SKIP $1 is needed${2:+ ($2)}"
		exit 0
	fi
}
need_sqlite3() { need_command sqlite3 scripts/debian-packages.txt; } # the sqlite3 shell

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

# wait_for SECONDS COMMAND...: until the command succeeds (false after SECONDS)
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.2
	done
}

# finished_trial NAME BATCHES: runs a one-trial experiment NAME of BATCHES batches
# to COMPLETED (60 s; false if it did not), sets e and t (its trial) and stops the
# master, for a test that then writes rows into its store offline.
finished_trial() {
	local rc
	printf 'name: %s\nentrypoint: x\nsearcher: {name: single, metric: val_loss, max_length: {batches: %s}}\n' \
		"$1" "$2" >"$work/c.yaml"
	e=$(create_exp "$work/c.yaml")
	wait_state "$e" COMPLETED 60
	rc=$?
	sock GET "/experiments/$e/trials" >/dev/null
	t=$(body '.trials[0].id')
	stop_master
	return $rc
}

# insert_metrics TRIAL ROWS: ROWS metric rows for TRIAL into the stopped master's
# store, every tenth a validation row (val_loss), the others training (loss, lr).
insert_metrics() {
	sqlite3 "$work/state/master.db" "
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
	INSERT INTO metrics(trial_id, grp, steps_completed, body, created_at)
	SELECT $1, CASE WHEN i % 10 = 0 THEN 'validation' ELSE 'training' END, i,
		CASE WHEN i % 10 = 0 THEN json_object('val_loss', 1.0 / i)
		ELSE json_object('loss', 2.0 / (1 + i * 0.01) + (i % 7) * 0.001, 'lr', 0.1) END,
		1700000000 + i FROM n;"
}

# admin_login VAR: the built-in admin logs in with its password (left in pw)
# over TCP; its bearer token goes into VAR.
admin_login() {
	pw=$(cat "$work/state/admin-password")
	http POST /auth/login "{\"username\":\"admin\",\"password\":\"$pw\"}" >/dev/null
	printf -v "$1" '%s' "$(body .token)"
}

# make_test_pki [CA...]: in $work/pki (set in pki) a test CA for each name
# given (ca without one: NAME.pem, NAME.key) and a certificate for 127.0.0.1
# and localhost signed by the first (server.pem, server.key); needs openssl.
make_test_pki() {
	local ca
	pki=$work/pki
	mkdir -p "$pki"
	for ca in "${@:-ca}"; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=det test $ca" \
			-keyout "$pki/$ca.key" -out "$pki/$ca.pem" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign 2>/dev/null
	done
	ca=${1:-ca}
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$pki/server.key" \
		-out "$pki/server.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$pki/ext"
	openssl x509 -req -in "$pki/server.csr" -CA "$pki/$ca.pem" -CAkey "$pki/$ca.key" \
		-CAcreateserial -days 2 -extfile "$pki/ext" -out "$pki/server.pem" 2>/dev/null
}

# copy_experiment YAML-FILE COUNT: the running master creates the experiment
# of YAML-FILE (not activated, id 1) and stops; its row is then copied into
# ids 2 to COUNT of the store (a large store for a list to page through).
copy_experiment() {
	local cols
	create_exp "$1" false >/dev/null
	stop_master
	cols=$(sqlite3 "$work/state/master.db" \
		"SELECT group_concat(name, ',') FROM pragma_table_info('experiments') WHERE name != 'id'")
	sqlite3 "$work/state/master.db" "
		WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
		INSERT INTO experiments(id, $cols) SELECT i, $cols FROM n,
			(SELECT $cols FROM experiments WHERE id = 1);"
}

# random_exp YAML-FILE NAME TRIALS BATCHES ENV: writes a random search of TRIALS
# trials, all at once, of BATCHES batches each, with the environment variables
# ENV ("A=1, B=2": fake-launch.sh's knobs)
random_exp() {
	cat >"$1" <<YAML
name: $2
entrypoint: x
hyperparameters: {lr: {type: double, minval: 0.1, maxval: 0.2}}
searcher: {name: random, metric: val_loss, max_trials: $3, max_concurrent_trials: $3, max_length: {batches: $4}}
environment: {environment_variables: [$5]}
YAML
}

# create_exp YAML-FILE [ACTIVATE] [MODEL-TGZ]: prints the new id
create_exp() {
	jq -n --rawfile c "$1" --argjson a "${2:-true}" --rawfile m <([ -z "${3:-}" ] || base64 -w0 "$3") \
		'{config: $c, activate: $a} + if $m == "" then {} else {model_definition: $m} end' \
		>"$work/req.json"
	curl -s --unix-socket "$work/m.sock" -X POST -H 'Content-Type: application/json' \
		--data-binary @"$work/req.json" http://localhost/api/v1/experiments | jq -r .id
}
