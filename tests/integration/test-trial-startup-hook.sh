#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The trial's environment with a real det-master and det-launch: a model
# directory's startup-hook.sh runs before the entrypoint and its exports reach
# it; a failing hook ends the trial in ERROR with the hook's output in the
# trial's logs and the entrypoint never run; environment_variables of the
# trial's slot type (cpu here) reach it, another slot type's do not; a
# config naming an image that is not in the image cache is refused at create.
set -u
. "$(dirname "$0")/trial-lib.sh"
skip_all_unless_ready 9
start_master || exit 1

# 1. A hook that exports a variable; the entrypoint prints what it sees.
mkdir -p "$work/ok"
cat >"$work/ok/startup-hook.sh" <<'SH'
echo "hook: running in $(pwd | sed 's|.*/||')"
export FROM_HOOK="set by the hook"
SH
cat >"$work/ok.yaml" <<'YAML'
name: hook-ok
entrypoint: ["/bin/sh", "-c", "echo \"entrypoint: FROM_HOOK=$FROM_HOOK CPU_VAR=$CPU_VAR GPU_VAR=${GPU_VAR:-unset}\""]
searcher: {name: single, metric: loss, max_length: {batches: 1}}
max_restarts: 0
environment:
  environment_variables:
    cpu: [CPU_VAR=cpu-list]
    cuda: [GPU_VAR=cuda-list]
YAML
pack "$work/ok" "$work/ok.tgz"
id=$(create_exp "$work/ok.yaml" "$work/ok.tgz")
wait_exp "$id" 120 >/dev/null
tid=$(trial_json "$id" | jq '.[0].id')
api GET "/trials/$tid/logs"
jq -r '.logs[].line' <"$work/body" >"$work/ok.log"
grep -q '^hook: running in ' "$work/ok.log"
ok $? "the hook ran in the model directory before the entrypoint"
eq "the hook's export reached the entrypoint; the cpu list was given, the cuda one not" \
	"entrypoint: FROM_HOOK=set by the hook CPU_VAR=cpu-list GPU_VAR=unset" \
	"$(grep '^entrypoint:' "$work/ok.log")" || diag "$work/ok.log"

# 2. A failing hook: ERROR, its output and the reason in the logs, no entrypoint.
mkdir -p "$work/bad"
cat >"$work/bad/startup-hook.sh" <<'SH'
echo "hook: about to fail"
exit 7
SH
sed -e 's/^name: hook-ok/name: hook-bad/' "$work/ok.yaml" >"$work/bad.yaml"
pack "$work/bad" "$work/bad.tgz"
id=$(create_exp "$work/bad.yaml" "$work/bad.tgz")
eq "a failing hook ends the experiment in ERROR" ERROR "$(wait_exp "$id" 120)"
t=$(trial_json "$id")
eq "its trial is in ERROR" ERROR "$(jq -r '.[0].state' <<<"$t")"
api GET "/trials/$(jq '.[0].id' <<<"$t")/logs"
jq -r '.logs[].line' <"$work/body" >"$work/bad.log"
grep -q '^hook: about to fail$' "$work/bad.log"
ok $? "the hook's output is in the trial's logs" || diag "$work/bad.log"
grep -q 'startup-hook.sh failed (exit status 7)' "$work/bad.log"
ok $? "so is the reason, with the hook's exit status"
! grep -q '^entrypoint:' "$work/bad.log"
ok $? "the entrypoint did not run"

# 3. An image that is not in the image cache: refused at create, nothing runs.
cat >"$work/image.yaml" <<'YAML'
entrypoint: ["/bin/sh", "-c", "echo ran on the host"]
searcher: {name: single, metric: loss, max_length: {batches: 1}}
environment: {image: det-test/python3}
YAML
create_exp "$work/image.yaml" "$work/ok.tgz" >/dev/null
eq "a config naming an image not in the cache is refused at create" 400 \
	"$(cat "$work/status")"
body .error.message | grep -q 'environment.image: no image "det-test/python3" (slot type .*)'
ok $? "the error names the key and the image" || diag "$work/body"
