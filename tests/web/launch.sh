#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The task the local resource manager runs for the web UI tests: a client of
# doc/api.md's trial side (claim, logs, metrics, checkpoints, progress,
# exit) that "trains" for the trial's length, writing a log line per step so
# the trial page has live logs to follow. Metrics depend on the trial's
# hyperparameter lr, so the hyperparameter charts have something to show.
# Knobs (the experiment's environment_variables): WEB_SLEEP seconds per step.
set -u
: "${DET_MASTER:?}" "${DET_EXPERIMENT_ID:?}" "${DET_ARRAY_TASK:?}" "${DET_ALLOCATION_TOKEN:?}"
. "$(dirname "$0")/../integration/trial-api.sh"
log() { # TRIAL TOKEN STREAM TEXT
	call POST "/trials/$1/logs" "$2" "$(jq -cn --arg s "$3" --arg l "$4" \
		'{logs: [{rank: 0, stream: $s, timestamp: (now | todate), line: $l}]}')" >/dev/null
}
[ -n "${FAKE_PID_DIR:-}" ] && : >"$FAKE_PID_DIR/$$"
stopped=0
trap 'stopped=1' TERM
while :; do
	claim_trial
	pause=$(jq -r '[.environment_variables[]? | select(startswith("WEB_SLEEP=")) | ltrimstr("WEB_SLEEP=")][0] // "0.3"' <<<"$claim")
	tid=$(jq -r .trial_id <<<"$claim")
	tok=$(jq -r .token <<<"$claim")
	len=$(jq -r .length <<<"$claim")
	start=$(jq -r .steps_completed <<<"$claim")
	lr=$(jq -r '.hparams.lr // 0.01' <<<"$claim")
	log "$tid" "$tok" stdout "trial $tid: training from step $start to $len, lr=$lr"
	code=0
	for ((s = start + 1; s <= len; s++)); do
		loss=$(awk -v s="$s" -v lr="$lr" 'BEGIN { printf "%.6f", 2 / (1 + s * (1 + 50 * lr)) }')
		val=$(awk -v s="$s" -v lr="$lr" 'BEGIN { printf "%.6f", 2.2 / (1 + s * (1 + 40 * lr)) + 0.05 }')
		call POST "/trials/$tid/metrics" "$tok" "{\"group\": \"training\", \"steps_completed\": $s, \"metrics\": {\"loss\": $loss}}" >/dev/null
		r=$(call POST "/trials/$tid/metrics" "$tok" "{\"group\": \"validation\", \"steps_completed\": $s, \"metrics\": {\"val_loss\": $val, \"accuracy\": $(awk -v v="$val" 'BEGIN { printf "%.6f", 1 - v / 2.5 }')}}")
		log "$tid" "$tok" stdout "step $s: loss=$loss val_loss=$val"
		uuid=$(printf '%08x-0000-4000-8000-%012x' "$tid" "$s")
		call POST "/trials/$tid/checkpoints" "$tok" "{\"uuid\": \"$uuid\", \"steps_completed\": $s, \"metadata\": {\"step\": $s}, \"files\": [{\"path\": \"state.bin\", \"size\": $((4096 * s)), \"sha256\": \"$(printf '%064d' 0)\"}]}" >/dev/null
		call POST "/trials/$tid/progress" "$tok" "{\"progress\": $(awk -v s="$s" -v n="$len" 'BEGIN { print s / n }')}" >/dev/null
		[ "$(jq -r .stop <<<"$r")" = true ] && break
		if [ "$(jq -r .preempt <<<"$r")" = true ] || [ $stopped = 1 ]; then
			log "$tid" "$tok" stderr "preempted at step $s"
			code=143
			break
		fi
		sleep "$pause"
	done
	exit_trial "$tid" "$tok" "$code"
done
