# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Sourced after lib.sh by the Slurm tests that need a real det-master: start
# one on a Unix socket in $test_dir (jobs of this machine's cluster reach it
# there as root), REST calls with curl and jq, experiments of the test trial
# tests/slurm/trial.py, and waits on experiment and trial state.

master_bin=$top_builddir/master/det-master
launch_bin=$top_builddir/launcher/det-launch
master_sock=
master_pid=

# Skip the script unless det-master, det-launch, jq and curl are there.
master_require() {
	[ -x "$master_bin" ] && [ -x "$launch_bin" ] || skip_all "det-master or det-launch not built"
	command -v jq >/dev/null || skip_all "jq not installed"
	command -v curl >/dev/null || skip_all "curl not installed"
}

# start_master [ARGS...]: det-master on $test_dir/m.sock with its state in
# $test_dir/state. Without --rm it gets the local resource manager with a
# launcher that only idles: the experiment's array tasks then run as Slurm
# jobs submitted by the test, never by the master.
start_master() {
	slurm_test_dir
	master_sock=$test_dir/m.sock
	mkdir -p "$test_dir/state" "$test_dir/home"
	if [ ! -e "$test_dir/idle-launcher" ]; then
		printf '#!/bin/sh\necho $$ >>"%s/idle.pids"\nexec sleep 3600\n' "$test_dir" \
			>"$test_dir/idle-launcher"
		chmod 755 "$test_dir/idle-launcher"
	fi
	# The experiments keep their checkpoints in $test_dir/ckpt: a storage root.
	"$master_bin" --listen "" --socket "$master_sock" --state-dir "$test_dir/state" \
		--launcher "$test_dir/idle-launcher" --storage-root "$test_dir" --storage-root "~" \
		"$@" >>"$test_dir/master.log" 2>&1 &
	master_pid=$!
	cleanup_pids+=("$master_pid")
	for _ in $(seq 1 100); do
		api GET /master && return 0
		sleep 0.1
	done
	diag "$(tail -n 20 "$test_dir/master.log")"
	return 1
}

# stop_master [SIGNAL]: end det-master (TERM, or KILL for a crash).
stop_master() {
	kill -"${1:-TERM}" "$master_pid" 2>/dev/null
	wait "$master_pid" 2>/dev/null
	master_pid=
}

# The idle launchers started by the local resource manager, stopped at exit.
master_cleanup() {
	local pid
	for pid in $(cat "$test_dir/idle.pids" 2>/dev/null); do
		kill "$pid" 2>/dev/null
	done
}

# api METHOD PATH [BODY-FILE]: true on a 2xx answer; the body in $test_dir/body.
api() {
	local code
	code=$(curl -s --max-time 20 --unix-socket "$master_sock" -o "$test_dir/body" \
		-w '%{http_code}' -X "$1" -H 'Content-Type: application/json' \
		${3:+--data-binary @"$3"} "http://localhost/api/v1$2" 2>/dev/null)
	[ "${code:0:1}" = 2 ]
}

body() {
	jq -r "$1" <"$test_dir/body"
}

# A model definition with the test trial.
model_tgz() {
	if [ ! -e "$test_dir/model.tgz" ]; then
		mkdir -p "$test_dir/model"
		cp "$slurm_tests_dir/trial.py" "$test_dir/model/"
		tar -C "$test_dir/model" -czf "$test_dir/model.tgz" .
	fi
	echo "$test_dir/model.tgz"
}

# trial_config NAME STEPS [EXTRA-YAML]: an experiment of one test trial.
trial_config() {
	cat <<-YAML
		name: $1
		entrypoint: python3 trial.py
		hyperparameters:
		  step_seconds: ${STEP_SECONDS:-0.2}
		searcher:
		  name: single
		  metric: validation_loss
		  max_length:
		    batches: $2
		checkpoint_storage:
		  type: shared_fs
		  host_path: $test_dir/ckpt
		max_restarts: 3
		${3:-}
	YAML
}

# create_exp CONFIG-FILE [ACTIVATE]: prints the new experiment's id.
create_exp() {
	jq -n --rawfile c "$1" --rawfile m <(base64 -w0 "$(model_tgz)") \
		--argjson a "${2:-true}" '{config: $c, model_definition: $m, activate: $a}' \
		>"$test_dir/req.json"
	api POST /experiments "$test_dir/req.json" && body '.id // .experiment.id // empty'
}

# exp_state ID
exp_state() {
	api GET "/experiments/$1" && body .experiment.state
}

# wait_exp ID SECONDS: until the experiment is in a terminal state; prints it.
wait_exp() {
	local s= deadline=$((SECONDS + $2))
	while [ "$SECONDS" -lt "$deadline" ]; do
		s=$(exp_state "$1")
		case $s in COMPLETED | CANCELED | ERROR) break ;; esac
		sleep 0.3
	done
	echo "$s"
}

# trials ID: the experiment's trials as a JSON array.
trials() {
	api GET "/experiments/$1/trials" && jq -c '.trials' <"$test_dir/body"
}

# wait_steps ID N SECONDS: until the experiment's first trial completed N steps.
wait_steps() {
	local deadline=$((SECONDS + $3))
	while [ "$SECONDS" -lt "$deadline" ]; do
		[ "$(trials "$1" | jq '.[0].steps_completed // 0')" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# trial_logs TRIAL-ID: the trial's log lines.
trial_logs() {
	api GET "/trials/$1/logs" && jq -r '.logs[].line' <"$test_dir/body"
}

# resumed_at TRIAL-ID: the steps each resumed run started from, one a line.
resumed_at() {
	trial_logs "$1" | sed -n 's/.*resumed at step \([0-9]*\).*/\1/p'
}

# preempted_at TRIAL-ID: where the trial stopped on a preemption request.
preempted_at() {
	trial_logs "$1" | sed -n 's/.*preempted at step \([0-9]*\).*/\1/p'
}
