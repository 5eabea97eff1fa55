# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the trial-side integration tests (sourced): a private
# det-master with the local resource manager and the real det-launch, on a
# Unix socket in a temporary directory (so DET_MASTER stays the same across
# a master restart), TAP output, and REST calls with curl and jq.
# HOME points into the temporary directory, so det-launch's job directories
# ($HOME/.det-slurm/run) are private to the test too.

tap_n=0
ok() { # STATUS NAME
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then echo "ok $tap_n - $2"; else echo "not ok $tap_n - $2"; fi
}
eq() { # NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		ok 0 "$1"
	else
		ok 1 "$1"
		echo "#   expected: $2"
		echo "#   got:      $3"
		return 1
	fi
}

diag() { # FILE...: show files as TAP comments (after a failure)
	sed 's/^/#   /' "$@" 2>/dev/null | tail -n 40
}

builddir=${top_builddir:-$(pwd)}
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
master_bin=$builddir/master/det-master
launch_bin=$builddir/launcher/det-launch

# skip_all_unless_ready PLAN: exits with a SKIP plan when something is missing.
skip_all_unless_ready() {
	local why=
	[ -x "$master_bin" ] || why="det-master is not built"
	command -v jq >/dev/null || why="jq is not installed"
	command -v curl >/dev/null || why="curl is not installed"
	[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
		why="dataset-fashion-mnist is not installed"
	if [ -n "$why" ]; then
		echo "1..0 # SKIP $why"
		exit 0
	fi
	echo "1..$1"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/det-trial-test.XXXXXX")
export HOME=$work/home
mkdir -p "$HOME"
master_pid=
cleanup() {
	[ -n "$master_pid" ] && kill -9 "$master_pid" 2>/dev/null
	# the local resource manager's tasks lead their own process groups
	for d in "$HOME"/.det-slurm/run/*-pid*; do
		[ -d "$d" ] && kill -9 -- "-${d##*-pid}" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

start_master() {
	"$master_bin" --listen "" --socket "$work/m.sock" --state-dir "$work/state" \
		--launcher "$launch_bin" >>"$work/master.out" 2>>"$work/master.err" &
	master_pid=$!
	for _ in $(seq 600); do
		api GET /master >/dev/null 2>&1 && [ "$(cat "$work/status")" = 200 ] && return 0
		sleep 0.1
	done
	echo "# det-master did not start:"
	sed 's/^/#   /' "$work/master.err"
	return 1
}
stop_master() { # [SIGNAL]
	kill -"${1:-TERM}" "$master_pid" 2>/dev/null
	wait "$master_pid" 2>/dev/null
	master_pid=
}

api() { # METHOD PATH [BODY-FILE]: body to $work/body, status to $work/status
	curl -s --unix-socket "$work/m.sock" -o "$work/body" -w '%{http_code}' -X "$1" \
		-H 'Content-Type: application/json' ${3:+--data-binary @"$3"} \
		"http://localhost/api/v1$2" >"$work/status"
}
body() { jq -r "$1" <"$work/body"; }

# validations TRIAL-ID: the trial's validation reports as a JSON array of
# {steps, metrics} (the master sends metrics as an object: anything else is
# dropped here, so the checks on them fail)
validations() {
	api GET "/trials/$1/metrics?group=validation"
	jq -c '[(.metrics // [])[] | select(.group == "validation")
		| {steps: .steps_completed,
		   metrics: (.metrics | if type == "object" then . else null end)}]' <"$work/body"
}

# create_exp CONFIG-FILE MODEL-TGZ: prints the new experiment's id (empty on failure)
create_exp() {
	jq -n --rawfile c "$1" --rawfile m <(base64 -w0 "$2") \
		'{config: $c, model_definition: $m, activate: true}' >"$work/req.json"
	api POST /experiments "$work/req.json"
	body '.id // empty'
}

# pack DIR OUT.tgz: a model definition
pack() { tar -C "$1" -czf "$2" .; }

# wait_exp ID SECONDS: until the experiment is in a terminal state; prints it
wait_exp() {
	local s=
	for _ in $(seq $(($2 * 5))); do
		api GET "/experiments/$1"
		s=$(body .experiment.state)
		case $s in COMPLETED | CANCELED | ERROR) break ;; esac
		sleep 0.2
	done
	echo "$s"
}

# trial_json EXP: the experiment's trials as a JSON array
trial_json() {
	api GET "/experiments/$1/trials"
	jq -c '.trials' <"$work/body"
}

# wait_for SECONDS COMMAND...: until the command succeeds
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# The Fashion-MNIST example as an experiment: fm_config NAME LENGTH [EXTRA-YAML]
# (FM_ENTRYPOINT replaces the entrypoint)
fm_config() {
	cat <<YAML
name: $1
entrypoint: ${FM_ENTRYPOINT:-det-example-fashion-mnist}
hyperparameters:
  learning_rate: 0.05
  hidden1: 64
  batch_size: 64
  momentum: 0.9
  weight_decay: 0.0001
  train_examples: 10000
  validation_examples: 2000
  validation_period: 100
  report_period: 50
searcher:
  name: single
  metric: validation_loss
  max_length:
    batches: $2
reproducibility:
  experiment_seed: 1234
environment:
  environment_variables:
    - OPENBLAS_NUM_THREADS=1
${3:-}
YAML
}
