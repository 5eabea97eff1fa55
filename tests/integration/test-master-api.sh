#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# det-master's REST API against a real master (random port, temporary
# database) with the local resource manager running fake-launch.sh tasks:
# authentication, errors, experiment lifecycle, the trial side, 413s.
set -u
. "$(dirname "$0")/master-lib.sh"

start_master
check "master starts and prints its port" test -n "$port"
check "admin password file is private" test "$(stat -c %a "$work/state/admin-password")" = 600

# --- health, authentication ---
eq "GET /health needs no credential" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")"
eq "no credential → 401" 401 "$(http GET /master)"
eq "401 body is a JSON error" unauthenticated "$(body .error.code)"
eq "unknown token → 401" 401 "$(http GET /master '' nope)"
eq "Unix socket root peer is admin" "true" "$(sock GET /me >/dev/null; body .admin)"
eq "wrong password → 401" 401 "$(http POST /auth/login '{"username":"admin","password":"wrong"}')"
pw=$(cat "$work/state/admin-password")
eq "admin login" 200 "$(http POST /auth/login "{\"username\":\"admin\",\"password\":\"$pw\"}")"
admin=$(body .token)
eq "token works" admin "$(http GET /me '' "$admin" >/dev/null; body .username)"
eq "admin creates a user" 200 "$(http POST /users '{"username":"bob","password":"bob-secret"}' "$admin")"
eq "duplicate user → 409" 409 "$(http POST /users '{"username":"bob","password":"bob-secret"}' "$admin")"
http POST /auth/login '{"username":"bob","password":"bob-secret"}' >/dev/null
bob=$(body .token)
eq "non-admin cannot create users" 403 "$(http POST /users '{"username":"eve","password":"eve-secret"}' "$bob")"
eq "GET /master with a user token" local "$(http GET /master '' "$bob" >/dev/null; body .resource_manager)"
eq "logout" 200 "$(http POST /auth/logout '' "$bob")"
eq "token dead after logout" 401 "$(http GET /me '' "$bob")"
http POST /auth/login '{"username":"bob","password":"bob-secret"}' >/dev/null
bob=$(body .token)

# --- routing and bodies ---
eq "unknown path → 404" 404 "$(http GET /nope '' "$admin")"
eq "wrong method → 405" 405 "$(http PUT /experiments '' "$admin")"
eq "non-numeric id → 404" 404 "$(http GET /experiments/abc '' "$admin")"
eq "malformed JSON → 400" 400 "$(http POST /experiments '{"config": ' "$admin")"
eq "JSON that is not an object → 400" 400 "$(http POST /experiments '[1,2]' "$admin")"
eq "wrong type → 400" 400 "$(http POST /experiments '{"config": 5}' "$admin")"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$work/big"
code=$(curl -s -o "$work/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $admin" \
	--data-binary @"$work/big" "$base/auth/login")
eq "2 MB body on a small endpoint → 413" 413 "$code"
eq "413 is a JSON error" too_large "$(body .error.code)"
code=$(head -c 2000000 /dev/zero | curl -s -o "$work/body" -w '%{http_code}' -X POST \
	-H 'Transfer-Encoding: chunked' -H "Authorization: Bearer $admin" --data-binary @- "$base/auth/login")
eq "chunked body over the limit → 413" 413 "$code"

# Every POST endpoint answers malformed JSON and wrong types with a 400 JSON error.
bad=0
for p in /auth/login /users /experiments /preview-hp-search /experiments/1/claim \
	/trials/1/metrics /trials/1/checkpoints /trials/1/logs /trials/1/progress \
	/trials/1/early_exit /trials/1/exit; do
	for b in '{"x": ' '[]' '{"array_task": "0", "group": 5, "progress": "x", "reason": 1, "exit_code": "0", "logs": 3, "uuid": 7, "config": [], "username": 1}'; do
		code=$(http POST "$p" "$b" "$admin")
		if [ "$code" != 400 ] && [ "$code" != 404 ]; then
			echo "# POST $p $b -> $code" >&2
			bad=1
		fi
		[ "$(body .error.code)" = null ] && bad=1
	done
done
ok $bad "malformed or mistyped bodies on every POST endpoint → 400 with an error object"

# --- experiment validation ---
printf 'name: bad\nentrypoint: x\nsearcher:\n  name: random\n  metric: m\n  max_trials: -3\nbogus_key: 1\n' >"$work/bad.yaml"
jq -n --rawfile c "$work/bad.yaml" '{config: $c}' >"$work/req.json"
code=$(curl -s -o "$work/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $admin" \
	--data-binary @"$work/req.json" "$base/experiments")
eq "invalid config → 400" 400 "$code"
body .error.message | grep -q 'config.yaml:[0-9]*:[0-9]*:'
ok $? "400 lists file:line:col diagnostics"
eq "model_definition not base64 → 400" 400 "$(http POST /experiments '{"config": "name: x", "model_definition": "!!!"}' "$admin")"

# --- an experiment that runs to completion ---
cat >"$work/exp.yaml" <<'YAML'
name: smoke
labels: [nightly]
entrypoint: python3 train.py
hyperparameters:
  lr: {type: log, minval: -5, maxval: -1}
searcher: {name: random, metric: val_loss, max_trials: 4, max_concurrent_trials: 2, max_length: {batches: 3}}
YAML
printf 'model bytes' | gzip >"$work/model.tgz"
jq -n --rawfile c "$work/exp.yaml" --arg m "$(base64 -w0 "$work/model.tgz")" \
	'{config: $c, model_definition: $m}' >"$work/req.json"
code=$(curl -s -o "$work/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $admin" \
	--data-binary @"$work/req.json" "$base/experiments")
eq "create experiment" 200 "$code"
e1=$(body .id)
eq "array size from the searcher" 4 "$(body .num_tasks)"
check "experiment completes" wait_state "$e1" COMPLETED 60
sock GET "/experiments/$e1" >/dev/null
eq "all trials completed" 4 "$(body .experiment.trials_completed)"
eq "best metric is the smallest validation value" 7 "$(body .experiment.best_metric)"
check "seed stored in the normalized config" test "$(body '.experiment.config.reproducibility.experiment_seed | type')" = number
sock GET "/experiments/$e1/trials" >/dev/null
eq "trial indices 0..3, each once" "0 1 2 3" "$(body '[.trials[].trial_index] | join(" ")')"
t1=$(body '.trials[0].id')
eq "trial steps" 3 "$(body '.trials[0].steps_completed')"
sock GET "/trials/$t1/metrics?group=validation" >/dev/null
eq "validation metrics stored" 3 "$(body '.metrics | length')"
# Stored JSON comes back as JSON values, never as JSON text inside a string.
eq "metrics are objects (GET /trials/ID/metrics)" "object 3 3" \
	"$(body '"\(.metrics[0].metrics | type) \(.metrics[2].metrics.batches) \(.metrics[2].steps_completed)"')"
sock GET "/trials/$t1" >/dev/null
eq "hyperparameters are an object (GET /trials/ID)" "object number" \
	"$(body '"\(.trial.hparams | type) \(.trial.hparams.lr | type)"')"
sock GET "/experiments/$e1" >/dev/null
eq "config and labels are JSON (GET /experiments/ID)" "object array" \
	"$(body '"\(.experiment.config | type) \(.experiment.labels | type)"')"
sock GET "/trials/$t1/logs" >/dev/null
eq "logs stored" "trial $t1 starts at 0" "$(body '.logs[0].line')"
sock GET "/experiments/$e1/checkpoints" >/dev/null
eq "checkpoints registered" 12 "$(body '.checkpoints | length')"
eq "save_trial_best/latest keep one checkpoint per trial" 4 "$(body '[.checkpoints[] | select(.state != "DELETED")] | length')"
uuid=$(body '.checkpoints[0].uuid')
ct=$(body '.checkpoints[0].trial_id')
eq "checkpoint by uuid" "$ct" "$(sock GET "/checkpoints/$uuid" >/dev/null; body .trial_id)"
eq "checkpoint metadata and files are JSON" "object array w.bin" \
	"$(body '"\(.metadata | type) \(.files | type) \(.files[0].path)"')"
curl -s -o "$work/model.out" -H "Authorization: Bearer $admin" "$base/experiments/$e1/model_def"
check "model definition round-trips" cmp "$work/model.tgz" "$work/model.out"
eq "list filters by state" 1 "$(http GET '/experiments?state=COMPLETED' '' "$bob" >/dev/null; body '.experiments | length')"
eq "list filters by label" 0 "$(http GET '/experiments?label=weekly' '' "$bob" >/dev/null; body '.experiments | length')"
eq "list bad limit → 400" 400 "$(http GET '/experiments?limit=-1' '' "$bob")"
eq "other user cannot archive" 403 "$(http POST "/experiments/$e1/archive" '' "$bob")"
eq "owner archives" true "$(http POST "/experiments/$e1/archive" '' "$admin" >/dev/null; body .experiment.archived)"
eq "archived hidden from the list" 0 "$(http GET '/experiments' '' "$bob" >/dev/null; body '.experiments | length')"
eq "finished experiment cannot be paused" 409 "$(http POST "/experiments/$e1/pause" '' "$admin")"

# --- lifecycle of a slow experiment; trial tokens ---
sed -e 's/max_trials: 4/max_trials: 2/' -e 's/batches: 3/batches: 1000/' "$work/exp.yaml" >"$work/slow.yaml"
echo 'environment: {environment_variables: [FAKE_STEPS=1000, FAKE_SLEEP=0.2]}' >>"$work/slow.yaml"
e2=$(create_exp "$work/slow.yaml")
wait_value "/experiments/$e2/trials" '.trials | length' 2
eq "both trials claimed" 2 "$(body '.trials | length')"
ta=$(body '.trials[0].id')
tb=$(body '.trials[1].id')
eq "bob cannot pause admin's experiment" 403 "$(http POST "/experiments/$e2/pause" '' "$bob")"
eq "pause" PAUSED "$(sock POST "/experiments/$e2/pause" >/dev/null; body .experiment.state)"
eq "claim while paused → 409" 409 "$(sock POST "/experiments/$e2/claim" '{"array_task": 0}')"
eq "activate" ACTIVE "$(sock POST "/experiments/$e2/activate" >/dev/null; body .experiment.state)"
eq "claim with a bad array_task → 400" 400 "$(sock POST "/experiments/$e2/claim" '{"array_task": 99}')"
# A claim by the owner hands out the same trial again (a restart), with its token.
sock POST "/experiments/$e2/claim" '{"array_task": 1}' >/dev/null
tokb=$(body .token)
eq "second claim resumes the task's trial" "$tb" "$(body .trial_id)"
eq "trial token cannot write another trial" 403 "$(http POST "/trials/$ta/progress" '{"progress": 0.5}' "$tokb")"
eq "trial token cannot list experiments" 403 "$(http GET /experiments '' "$tokb")"
eq "metrics with a non-number → 400" 400 "$(http POST "/trials/$tb/metrics" '{"group":"training","steps_completed":1,"metrics":{"x":"y"}}' "$tokb")"
start=$(date +%s%N)
http GET "/trials/$tb/signals?timeout_seconds=1" '' "$tokb" >/dev/null
el=$((($(date +%s%N) - start) / 1000000))
# The upper bound only tells "returned at its timeout" from "hung": a busy machine adds seconds.
check "signals long poll waits its timeout, then answers ($el ms)" test "$el" -ge 900 -a "$el" -lt 15000
eq "kill the experiment" STOPPING_KILLED "$(sock POST "/experiments/$e2/kill" >/dev/null; body .experiment.state)"
# The trial's task may already have ended on the kill's SIGTERM; its token then
# died with it (401), which is as final an answer as a stop.
st=$(http GET "/trials/$tb/signals?timeout_seconds=30" '' "$tokb")
if [ "$st" = 401 ]; then
	eq "stop signal answered at once (or the ended trial's token refused)" "token refused" \
		"$(body .error.message | grep -q 'ended' && echo 'token refused')"
else
	eq "stop signal answered at once" true "$(body .stop)"
fi
check "killed experiment ends CANCELED" wait_state "$e2" CANCELED 60
eq "delete" 200 "$(sock DELETE "/experiments/$e2")"
eq "deleted experiment is gone" 404 "$(sock GET "/experiments/$e2")"

# --- restarts and replacement trials ---
random_exp "$work/faults.yaml" faults 3 3 "FAKE_FAIL_TASK=1, FAKE_INVALID_HP_TASK=2"
e3=$(create_exp "$work/faults.yaml")
check "experiment with a crash and an invalid trial completes" wait_state "$e3" COMPLETED 60
sock GET "/experiments/$e3/trials" >/dev/null
eq "crashed task's trial restarted once" 1 "$(body '[.trials[] | select(.trial_index == 1)][0].restarts')"
eq "invalid-hp trial ended ERROR" ERROR "$(body '[.trials[] | select(.trial_index == 2)][0].state')"
eq "replacement trial ran in the same task" "2 COMPLETED" "$(body '[.trials[] | select(.trial_index >= 3)][0] | "\(.array_task) \(.state)"')"

grep -q "det_http_requests_total" <(curl -s "http://127.0.0.1:$port/metrics")
ok $? "Prometheus /metrics"
stop_master TERM
ok $? "SIGTERM shuts down cleanly"
echo "1..$tap_n"
exit $((tap_failed > 0))
