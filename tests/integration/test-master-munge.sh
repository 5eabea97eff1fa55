#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# MUNGE credentials against a real det-master and a private munged, and the
# Slurm plugin's allocation events: who may report what, and body checks.
set -u
. "$(dirname "$0")/master-lib.sh"
if ! command -v munged >/dev/null || ! command -v mungekey >/dev/null; then
	echo "1..0 # SKIP munged not installed"
	exit 0
fi
mkdir -p "$work/munge"
mungekey --create --keyfile="$work/munge/key" >/dev/null 2>&1
munged --force --key-file="$work/munge/key" --socket="$work/munge/sock" \
	--pid-file="$work/munge/pid" --seed-file="$work/munge/seed" \
	--log-file="$work/munge/log" 2>/dev/null
for _ in $(seq 600); do [ -S "$work/munge/sock" ] && break; sleep 0.1; done
stop_munged() { [ -f "$work/munge/pid" ] && kill "$(cat "$work/munge/pid")" 2>/dev/null; }
start_master --munge-socket "$work/munge/sock"

cred=$(munge -S "$work/munge/sock" -n)
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Munge $cred" "$base/me")
eq "a MUNGE credential authenticates" 200 "$code"
eq "its uid maps to the det user ($(id -un))" "$([ "$(id -u)" = 0 ] && echo admin || id -un)" "$(body .username)"
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Munge $cred" "$base/me")
eq "a replayed credential is refused" 401 "$code"
code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Munge MUNGE:garbage:" "$base/me")
eq "a forged credential is refused" 401 "$code"

# Allocation events (as root over the socket = admin).
cat >"$work/exp.yaml" <<'YAML'
name: ev
entrypoint: x
searcher: {name: single, metric: m, max_length: {batches: 1}}
YAML
e=$(create_exp "$work/exp.yaml" false)
ev() { # TYPE JOB EXTRA-JSON
	printf '{"type": "%s", "experiment_id": %s, "job_id": %s, "step": "batch", "array_job_id": 7, "array_task_id": 0, "node": "n1", "node_index": 0, "nnodes": 1, "uid": 0%s}' \
		"$1" "$e" "$2" "$3"
}
eq "allocation event accepted" 200 "$(sock POST /allocations/42/events "$(ev allocation 42 ', "cpus": 2, "gpus": ["0"], "restart_count": 0, "resource_pool": null')")"
eq "task_exit event accepted" 200 "$(sock POST /allocations/42/events "$(ev task_exit 42 ', "task": 0, "exit_code": 0, "signal": null')")"
eq "job id must match the path" 400 "$(sock POST /allocations/43/events "$(ev task_exit 42 ', "task": 0, "exit_code": 0, "signal": null')")"
eq "exactly one of exit_code and signal" 400 "$(sock POST /allocations/42/events "$(ev task_exit 42 ', "task": 0, "exit_code": 0, "signal": 9')")"
eq "an exit code beyond 255 is refused" 400 "$(sock POST /allocations/42/events "$(ev task_exit 42 ', "task": 0, "exit_code": 256, "signal": null')")"
eq "a signal 0 is refused" 400 "$(sock POST /allocations/42/events "$(ev task_exit 42 ', "task": 0, "exit_code": null, "signal": 0')")"
eq "a negative restart count is refused" 400 "$(sock POST /allocations/42/events "$(ev allocation 42 ', "cpus": 2, "gpus": [], "restart_count": -1')")"
eq "unknown type" 400 "$(sock POST /allocations/42/events '{"type": "x"}')"
eq "unknown experiment → 404" 404 "$(sock POST /allocations/42/events "$(ev allocation 42 ', "cpus": 2, "gpus": [], "restart_count": 0' | sed "s/\"experiment_id\": $e/\"experiment_id\": 999/")")"
admin_login admin
http POST /users '{"username":"bob","password":"bob-secret"}' "$admin" >/dev/null
http POST /auth/login '{"username":"bob","password":"bob-secret"}' >/dev/null
bob=$(body .token)
eq "another user cannot report for the experiment" 403 "$(http POST /allocations/42/events "$(ev allocation 42 ', "cpus": 2, "gpus": [], "restart_count": 0')" "$bob")"
eq "only root reports task exits" 403 "$(http POST /allocations/42/events "$(ev task_exit 42 ', "task": 0, "exit_code": 0')" "$bob")"
stop_master TERM
ok $? "clean shutdown"
stop_munged
echo "1..$tap_n"
exit $((tap_failed > 0))
