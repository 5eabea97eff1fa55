# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared by the Slurm integration tests (sourced, not run): TAP output, a
# private cluster per test script (tests/slurm/cluster.sh), and cleanup that
# runs on success, failure and signals alike.

slurm_tests_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# A build configured --with-slurm=PREFIX tests that Slurm: its commands
# (sbatch, squeue, scontrol, srun...) first in PATH, for the tests, the master
# and the jobs (which inherit the master's environment).
if [ -n "${DET_SLURM_PREFIX:-}" ]; then
	PATH=$DET_SLURM_PREFIX/sbin:$DET_SLURM_PREFIX/bin:$PATH
	export PATH
fi
# How that Slurm writes TRES (scontrol's TresPerNode): gres/gpu:2 from 23.02 on.
slurm_version_number=$(sed -n 's/^#define SLURM_VERSION_NUMBER //p' \
	"${DET_SLURM_PREFIX:-/usr}/include/slurm/slurm_version.h" 2>/dev/null)
if [ $((${slurm_version_number:-0})) -ge $((0x170200)) ]; then GRES=gres/; else GRES=gres:; fi
top_builddir=${top_builddir:-$(cd "$slurm_tests_dir/../.." && pwd)}
export top_builddir
. "$slurm_tests_dir/../passwd.sh"
tap_n=0
tap_failed=0
cleanup_pids=()

tap_plan() {
	echo "1..$1"
}

# Skip the whole script (TAP "1..0 # SKIP reason").
skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}

not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=1
	echo "not ok $tap_n - $*"
}

# check NAME CMD...: one test point from a command's status.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# check_eq NAME EXPECTED ACTUAL: one test point; shows both when they differ.
check_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "expected: $2"
		diag "got:      $3"
	fi
}

# Print a diagnostic line (TAP comment).
diag() {
	sed 's/^/# /' <<<"$*"
}

slurm_cleanup() {
	local pid
	for pid in "${cleanup_pids[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# what master-lib.sh started on the master's behalf
	if declare -F master_cleanup >/dev/null; then master_cleanup; fi
	slurm_remove_users
	if [ -n "${test_dir:-}" ]; then
		"$slurm_tests_dir/cluster.sh" stop "$test_dir/cluster" >/dev/null 2>&1
		if [ "$tap_failed" = 0 ] && [ -z "${DET_KEEP_TEST_DIR:-}" ]; then
			rm -rf "$test_dir"
		else
			echo "# test files kept in $test_dir"
		fi
	fi
}

# slurm_new_user VAR: a fresh Unix user (with a group of its name) whose home
# /tmp/NAME.home the nodes share (this machine); slurm_cleanup removes it.
slurm_users=()
slurm_new_user() {
	local name=dc${$}x$RANDOM
	passwd_user_add "$name" || return 1
	slurm_users+=("$name")
	printf -v "$1" '%s' "$name"
}

# The users slurm_new_user made: their processes, accounts and homes.
slurm_remove_users() {
	local u
	for u in "${slurm_users[@]}"; do
		passwd_user_remove "$u"
	done
	slurm_users=()
}

# as_det USER ARGS...: det as a user of slurm_new_user, over TCP with MUNGE.
as_det() {
	local u=$1
	shift
	runuser -u "$u" -- env -u DET_TOKEN HOME="/tmp/$u.home" DET_MASTER="$det_master_url" \
		DET_MUNGE_SOCKET="$test_dir/cluster/munge/munge.socket" "$top_builddir/cli/det" "$@"
}

# Why the cluster (JobSubmitPlugins=det) cannot start without the job_submit plugin.
JOB_SUBMIT_DET_MISSING="job_submit_det.so not built: it needs slurmctld's headers (configure --with-slurm-src=DIR; scripts/slurm-src prepares one)"

# The conditions the cluster needs; skips the script when one is missing.
slurm_require() {
	# scripts/test runs this suite in one build tree only and says why elsewhere.
	[ -z "${DET_SKIP_SLURM_TESTS:-}" ] || skip_all "$DET_SKIP_SLURM_TESTS"
	[ "$(id -u)" = 0 ] || skip_all "needs root (slurmd, munged)"
	local cmd
	for cmd in slurmctld slurmd munged; do
		command -v "$cmd" >/dev/null || skip_all "$cmd not installed (Slurm, MUNGE)"
	done
	# DET_PLUGIN_DIR (as in cluster.sh) lets a sanitizer build test its det-master
	# and det against plugins from a plain build.
	local so=${DET_PLUGIN_DIR:-$top_builddir/slurm-plugin/.libs}/spank_det.so
	[ -e "$so" ] || skip_all "plugins not built"
	[ -e "${so%/*}/job_submit_det.so" ] || skip_all "$JOB_SUBMIT_DET_MISSING"
	# A sanitizer-built plugin cannot load into Slurm's uninstrumented daemons.
	if nm -D --undefined-only "$so" 2>/dev/null | grep -q __asan_; then
		skip_all "plugins built with sanitizers cannot load into Slurm daemons"
	fi
}

# Make this script's scratch folder $test_dir, removed at exit (kept on failure).
slurm_test_dir() {
	[ -n "${test_dir:-}" ] && return 0
	test_dir=$(mktemp -d "${TMPDIR:-/tmp}/det-slurm-test.XXXXXX") || exit 1
	chmod 755 "$test_dir" # other users submit to the cluster too
	trap slurm_cleanup EXIT
	trap 'exit 130' INT TERM
}

# Start listener.py (a stand-in det-master recording POSTs in
# $test_dir/posts.jsonl); sets $master to its URL.
start_listener() {
	slurm_test_dir
	python3 "$slurm_tests_dir/listener.py" "$test_dir/port" "$test_dir/posts.jsonl" &
	cleanup_pids+=($!)
	for _ in $(seq 1 100); do
		[ -s "$test_dir/port" ] && break
		sleep 0.05
	done
	# shellcheck disable=SC2034 # used by the sourcing script
	master=http://127.0.0.1:$(cat "$test_dir/port" 2>/dev/null)
	: >"$test_dir/posts.jsonl"
}

# Evaluate Python expression $1 over the recorded POSTs (list `posts`).
posts() {
	python3 -c 'import json,sys
posts=[json.loads(l) for l in open(sys.argv[1])]
print(eval(sys.argv[2]))' "$test_dir/posts.jsonl" "$1" 2>/dev/null
}

# Start this script's cluster (extra env such as DET_SPANK_ARGS passes through).
slurm_start() {
	slurm_test_dir
	if ! "$slurm_tests_dir/cluster.sh" start "$test_dir/cluster" >"$test_dir/cluster.env" 2>"$test_dir/cluster.err"; then
		echo "1..1"
		echo "not ok 1 - cluster starts"
		sed 's/^/# /' "$test_dir/cluster.err"
		tap_failed=1
		exit 1
	fi
	export SLURM_CONF=$test_dir/cluster/slurm.conf
}

# Wait until job $1 (and all its array tasks) left squeue; 1 after $2 seconds.
wait_job_gone() {
	local id=$1 deadline=$((SECONDS + $2))
	while [ "$SECONDS" -lt "$deadline" ]; do
		[ -z "$(squeue -h -j "$id" -r -o %i 2>/dev/null)" ] && return 0
		sleep 0.2
	done
	return 1
}

# Field $2 (e.g. JobName) of `scontrol show job $1` (first record).
job_field() {
	scontrol -o show job "$1" 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# ---- a real det-master with the slurm resource manager ----------------------
#
#   slurm_require; det_master_require
#   slurm_start_with_master [MASTER ARGS...]
#       picks a free port, starts the cluster with spank_det reporting to it,
#       then det-master --rm slurm on that port and on $test_dir/m.sock (its
#       state in $test_dir/state, task output in $test_dir/task-JOB_IDX.log,
#       slurm.poll_ms 200); exports DET_MASTER (the socket) for det and
#       HOME=$test_dir/home (det-launch's job folders); sets
#       $det_master_url (TCP, what tasks use) and $det_master_pid. Both are
#       stopped at exit (the master first). Extra arguments go to det-master.
#   det ARGS...            the build tree's det
#   det_api METHOD PATH [BODY]   REST call over the socket; status to stdout, body in $test_dir/body
#   det_body JQ            jq over the last det_api body
#   wait_exp_state ID STATE SECONDS   1 when the experiment is not in STATE by then
#   restart_det_master [SIGNAL]       stop (TERM, or KILL) and start again on the same state
#   tiny_model             folder of the tiny Python trial (tests/slurm/tiny)

det_master_require() {
	local f
	for f in master/det-master cli/det launcher/det-launch; do
		[ -x "$top_builddir/$f" ] || skip_all "$f not built"
	done
	command -v jq >/dev/null || skip_all "jq not installed"
	command -v curl >/dev/null || skip_all "curl not installed"
	python3 -c 'import json' 2>/dev/null || skip_all "python3 not installed"
}

tiny_model() {
	echo "$slurm_tests_dir/tiny"
}

det() {
	"$top_builddir/cli/det" "$@"
}

det_api() {
	curl -s -o "$test_dir/body" -w '%{http_code}' --unix-socket "$test_dir/m.sock" -X "$1" \
		-H 'Content-Type: application/json' ${3:+--data-binary "$3"} "http://localhost/api/v1$2"
}

det_body() {
	jq -r "$1" <"$test_dir/body"
}

# A free TCP port on 127.0.0.1 (the kernel picks it; closed again at once).
free_tcp_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_det_master_only() {
	local i
	# det_master_poll_ms: the master's slurm.poll_ms (tests of what it learns between polls);
	# det_master_slurm_yaml: more lines of its slurm mapping ("  key: value", benches);
	# det_master_yaml: more top-level lines ("key: value").
	printf '%sslurm:\n  poll_ms: %s\n  output: %s/task-%%A_%%a.log\n%s' "${det_master_yaml:+$det_master_yaml
}" "${det_master_poll_ms:-200}" \
		"$test_dir" "${det_master_slurm_yaml:+$det_master_slurm_yaml
}" >"$test_dir/master.yaml"
	# The cluster's det.conf names the pools, as on a site where the master's host has it.
	DET_SLURM_CONF=$test_dir/cluster/det.conf \
		"$top_builddir/master/det-master" --config "$test_dir/master.yaml" --rm slurm \
		--listen "127.0.0.1:$det_master_port" --socket "$test_dir/m.sock" \
		--state-dir "$test_dir/state" --launcher "$top_builddir/launcher/det-launch" \
		--munge-socket "$test_dir/cluster/munge/munge.socket" "${det_master_args[@]}" \
		>>"$test_dir/master.out" 2>>"$test_dir/master.err" &
	det_master_pid=$!
	cleanup_pids=("$det_master_pid" "${cleanup_pids[@]}")
	for i in $(seq 1 100); do
		[ "$(det_api GET /master 2>/dev/null)" = 200 ] && return 0
		kill -0 "$det_master_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "# det-master did not start:"
	sed 's/^/#   /' "$test_dir/master.err"
	return 1
}

slurm_start_with_master() {
	slurm_test_dir
	det_master_port=$(free_tcp_port) || exit 1
	det_master_args=("$@")
	# Job ids restart at 1 on every test cluster and clusters may run side by side on
	# this one host: each gets its own block of rendezvous ports (spank_det port_range).
	local ports=$((20000 + (det_master_port % 400) * 20))
	export DET_SPANK_ARGS="master=http://127.0.0.1:$det_master_port munge_socket=$test_dir/cluster/munge/munge.socket timeout_ms=2000 port_range=$ports-$((ports + 19))"
	slurm_start
	# shellcheck disable=SC2034 # used by the sourcing script
	det_master_url=http://127.0.0.1:$det_master_port
	export DET_MASTER=unix:$test_dir/m.sock
	# det-launch keeps per-job folders under $HOME/.det-slurm; job ids restart
	# at 1 on every test cluster, so each test has its own HOME.
	export HOME=$test_dir/home
	mkdir -p "$HOME"
	if ! start_det_master_only; then
		echo "1..1"
		echo "not ok 1 - det-master --rm slurm starts"
		tap_failed=1
		exit 1
	fi
}

# slurm_start_with_policy LINE...: slurm_start_with_master on a cluster whose
# det.conf (job_submit_det's policy, in $test_dir) holds these lines.
slurm_start_with_policy() {
	slurm_test_dir
	printf '%s\n' "$@" >"$test_dir/det.conf"
	export DET_CONF_FILE=$test_dir/det.conf
	slurm_start_with_master
}

restart_det_master() {
	kill -"${1:-TERM}" "$det_master_pid" 2>/dev/null
	wait "$det_master_pid" 2>/dev/null
	start_det_master_only
}

# wait_until SECONDS CMD...: true once CMD succeeds, tried every 0.2 s.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	while [ "$SECONDS" -lt "$deadline" ]; do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

# wait_value PATH FILTER VALUE SECONDS: polls GET PATH until the jq FILTER of
# its answer (left in $test_dir/body) is VALUE.
wait_value() {
	local deadline=$((SECONDS + $4))
	while [ "$SECONDS" -lt "$deadline" ]; do
		det_api GET "$1" >/dev/null
		[ "$(det_body "$2")" = "$3" ] && return 0
		sleep 0.2
	done
	return 1
}

wait_exp_state() {
	wait_value "/experiments/$1" .experiment.state "$2" "$3" && return 0
	diag "experiment $1 is $(det_body .experiment.state), not $2"
	return 1
}

# wait_task ID STATE [SECONDS]: until the task is in STATE (60 s by default).
wait_task() {
	wait_value "/tasks/$1" .task.state "$2" "${3:-60}" && return 0
	diag "task $1 is $(det_body .task.state), not $2"
	return 1
}

# task_job_gone ID: polls squeue until no job of task ID (det-tID) is left (60 s).
task_job_gone() {
	for _ in $(seq 300); do
		[ -z "$(squeue -h -n "det-t$1" -o %i 2>/dev/null)" ] && return 0
		sleep 0.2
	done
	return 1
}

# submit_exp CONFIG MODEL-DIR [SBATCH-ARGS...]: det submit, the tasks' output in
# $test_dir/task-%A_%a.out; sets id (the experiment) and job (its Slurm array
# job), with det's output as diagnostics when either is missing.
submit_exp() {
	local config=$1 model=$2
	shift 2
	det submit "$config" "$model" -- -o "$test_dir/task-%A_%a.out" "$@" >"$test_dir/submit.out" 2>&1
	id=$(sed -n 's/^Created experiment \([0-9]*\)$/\1/p' "$test_dir/submit.out")
	job=$(sed -n 's/^Submitted Slurm array job \([0-9]*\)$/\1/p' "$test_dir/submit.out")
	[ -n "$id" ] && [ -n "$job" ] || diag "$(cat "$test_dir/submit.out")"
}

# trial_model: the test trial tests/slurm/trial.py in the model directory $test_dir/model.
trial_model() {
	mkdir -p "$test_dir/model" && cp "$slurm_tests_dir/trial.py" "$test_dir/model/"
}

# trials_json EXP: the experiment's trials as a JSON array.
trials_json() {
	det_api GET "/experiments/$1/trials" >/dev/null && jq -c '.trials' <"$test_dir/body"
}

# submit_slow BATCHES: submit_exp of the tiny grid search with 0.2 s steps and
# BATCHES batches a trial; array_running then counts the array's running tasks.
submit_slow() {
	sed -e 's/sleep: 0$/sleep: 0.2/' -e "s/batches: 10}/batches: $1}/" \
		"$(tiny_model)/grid.yaml" >"$test_dir/slow.yaml"
	submit_exp "$test_dir/slow.yaml" "$(tiny_model)"
}
array_running() { squeue -h -r -j "$job" -t R -o %i 2>/dev/null | wc -l; }

# slurm_users_require: skip unless this test can make Unix users
# (slurm_new_user) and run commands as them.
slurm_users_require() {
	command -v runuser >/dev/null || skip_all "runuser not found"
	command -v useradd >/dev/null || skip_all "useradd not found"
}

# container_require: skip unless a container trial of a user's can run here
# (users, the Fashion-MNIST dataset, the test image: its tarball in tarball).
container_require() {
	slurm_users_require
	[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
		skip_all "dataset-fashion-mnist is not installed"
	tarball=$("$slurm_tests_dir/../../scripts/build-test-image" 2>/dev/null) ||
		skip_all "no test image (scripts/build-test-image cannot build it)"
}

# udet ARGS...: det as the user $U over the master's socket, with a clean environment.
udet() {
	runuser -u "$U" -- env -i PATH=/usr/bin:/bin HOME="/tmp/$U.home" DET_MASTER="$DET_MASTER" \
		"$top_builddir/cli/det" "$@"
}

# container_user: a fresh user U (slurm_new_user) with its home uhome and uid.
container_user() {
	slurm_new_user U || exit 1
	uhome=/tmp/$U.home
	uid=$(id -u "$U")
	chmod 0700 "$uhome"
}

# container_model PROBE: $U imports the test image as det-test/python3 (one
# check; det's output in $test_dir/imp.out) and gets the model directory
# $uhome/model: the Python Core API example behind probe.sh, which writes three
# lines to /out/probe-TRIAL-ID (the image's marker file, its mount namespace,
# what the shell command PROBE prints); $uhome/out and $uhome/ckpt for the
# trials' outputs.
container_model() {
	cp "$tarball" "$uhome/rootfs.tar" && chown "$U:" "$uhome/rootfs.tar"
	udet image import "$uhome/rootfs.tar" det-test/python3 >"$test_dir/imp.out" 2>&1
	check "the user imports the test image" test $? = 0
	mkdir -p "$uhome/model" "$uhome/out" "$uhome/ckpt"
	cp "$slurm_tests_dir/../../examples/python-core-api/train.py" "$uhome/model/"
	cat >"$uhome/model/probe.sh" <<SH
{ cat /etc/det-test-image-marker; readlink /proc/self/ns/mnt; $1; } >"/out/probe.\$DET_TRIAL_ID"
mv "/out/probe.\$DET_TRIAL_ID" "/out/probe-\$DET_TRIAL_ID"
exec python3 train.py
SH
}

# container_run YAML MESSAGE: YAML (a search that runs probe.sh) gets the
# container part (det-test/python3, /out, the dataset, storage in $uhome/ckpt);
# $U creates the experiment (sets id) and it completes (the check MESSAGE,
# 300 s); trials and n are then its trials and their number.
container_run() {
	cat >>"$1" <<YAML
max_restarts: 0
checkpoint_storage: {type: shared_fs, host_path: $uhome/ckpt}
environment: {image: det-test/python3}
bind_mounts:
  - {host_path: $uhome/out, container_path: /out}
  - {host_path: /usr/share/datasets/fashion-mnist, container_path: /usr/share/datasets/fashion-mnist, read_only: true}
YAML
	chown -R "$U:" "$uhome"
	chmod 0755 "$uhome" # the master reads the model directory as the user; slurmd's steps too
	udet experiment create "$1" "$uhome/model" >"$test_dir/create.out" 2>&1
	id=$(sed -n 's/^Created experiment \([0-9]*\).*$/\1/p' "$test_dir/create.out")
	diag "$(cat "$test_dir/create.out")"
	check "$2" wait_exp_state "${id:-0}" COMPLETED 300
	det_api GET "/experiments/${id:-0}/trials" >/dev/null
	trials=$(jq -c '.trials' <"$test_dir/body")
	n=$(jq 'length' <<<"$trials")
}

# container_probe LINE: the distinct values of line LINE (1 to 3) of the probes.
container_probe() {
	cat "$uhome"/out/probe-* 2>/dev/null | sed -n "$1~3p" | sort -u
}

# container_probe_checks N: each of N trials wrote its probe from inside its
# container, saw the image and had a mount namespace other than the host's (three checks).
container_probe_checks() {
	local host nss
	check_eq "every trial wrote its probe from inside" "$1" \
		"$(find "$uhome/out" -name 'probe-*' | wc -l)"
	check_eq "each saw the image's marker file" det-test-image "$(container_probe 1)"
	host=$(readlink /proc/self/ns/mnt)
	nss=$(container_probe 2)
	check "each in a mount namespace other than the host's" test -n "$nss" -a -z \
		"$(grep -Fx "$host" <<<"$nss")"
}

# container_done: tap_done, with the end of every task's output after a failure.
container_done() {
	local f
	if [ "$tap_failed" != 0 ]; then
		for f in "$test_dir"/task-*.log; do
			[ -e "$f" ] && diag "$f: $(tail -n 15 "$f")"
		done
	fi
	tap_done
}

tap_done() {
	[ "$tap_failed" = 0 ]
}
