#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A stand-in for det-launch used by the master's integration tests: a real
# HTTP client of doc/api.md's trial side (claim, metrics, checkpoints, logs,
# progress, exit). Instead of running the entrypoint it "trains" for the
# trial's length, reporting a validation metric derived from the
# hyperparameters, so searcher decisions can be checked.
# Behaviour knobs (environment, or the experiment's environment_variables as
# the claim returns them): FAKE_STEPS (reports per trial, default 3),
# FAKE_SLEEP (seconds between reports), FAKE_FAIL_TASK (this array task exits 1
# once without reporting exit, to exercise restarts), FAKE_INVALID_HP_TASK.
set -u
: "${DET_MASTER:?}" "${DET_EXPERIMENT_ID:?}" "${DET_ARRAY_TASK:?}" "${DET_ALLOCATION_TOKEN:?}"
steps=${FAKE_STEPS:-3}
pause=${FAKE_SLEEP:-0}
. "$(dirname "$0")/trial-api.sh"

[ -n "${FAKE_PID_DIR:-}" ] && : >"$FAKE_PID_DIR/$$"
stopped=0
trap 'stopped=1' TERM
while :; do
	claim_trial
	while IFS= read -r kv; do
		case $kv in FAKE_STEPS=* | FAKE_SLEEP=* | FAKE_FAIL_TASK=* | FAKE_INVALID_HP_TASK=*)
			export "${kv?}" ;;
		esac
	done < <(jq -r '.environment_variables[]?' <<<"$claim")
	steps=${FAKE_STEPS:-3}
	pause=${FAKE_SLEEP:-0}
	tid=$(jq -r .trial_id <<<"$claim")
	tok=$(jq -r .token <<<"$claim")
	idx=$(jq -r .trial_index <<<"$claim")
	start=$(jq -r .steps_completed <<<"$claim")
	if [ "${FAKE_FAIL_TASK:-x}" = "$DET_ARRAY_TASK" ] && [ "$(jq -r .restarts <<<"$claim")" = 0 ]; then
		exit 1 # a crash: the master should requeue this task
	fi
	if [ "${FAKE_INVALID_HP_TASK:-x}" = "$DET_ARRAY_TASK" ] && [ "$idx" = "$DET_ARRAY_TASK" ]; then
		call POST "/trials/$tid/early_exit" "$tok" '{"reason": "INVALID_HP"}' >/dev/null
		call POST "/trials/$tid/exit" "$tok" '{"exit_code": 0, "signal": null}' >/dev/null
		continue
	fi
	call POST "/trials/$tid/logs" "$tok" "{\"logs\": [{\"rank\": 0, \"stream\": \"stdout\", \"timestamp\": \"2026-01-01T00:00:00Z\", \"line\": \"trial $tid starts at $start\"}]}" >/dev/null
	code=0
	for ((s = start + 1; s <= steps; s++)); do
		r=$(call POST "/trials/$tid/metrics" "$tok" "{\"group\": \"training\", \"steps_completed\": $s, \"metrics\": {\"loss\": $((100 - s))}}")
		r=$(call POST "/trials/$tid/metrics" "$tok" "{\"group\": \"validation\", \"steps_completed\": $s, \"metrics\": {\"val_loss\": $((idx + 10 - s)), \"batches\": $s}}")
		uuid=$(printf '%08x-0000-4000-8000-%012x' "$tid" "$s")
		call POST "/trials/$tid/checkpoints" "$tok" "{\"uuid\": \"$uuid\", \"steps_completed\": $s, \"metadata\": {\"step\": $s}, \"files\": [{\"path\": \"w.bin\", \"size\": 4, \"sha256\": \"$(printf '%064d' 0)\"}]}" >/dev/null
		call POST "/trials/$tid/progress" "$tok" "{\"progress\": $(awk "BEGIN{print $s/$steps}")}" >/dev/null
		[ "$(jq -r .stop <<<"$r")" = true ] && break
		if [ "$(jq -r .preempt <<<"$r")" = true ] || [ $stopped = 1 ]; then
			code=143
			break
		fi
		sleep "$pause"
	done
	exit_trial "$tid" "$tok" "$code"
done
