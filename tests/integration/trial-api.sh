# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the tests' stand-ins for det-launch (integration/fake-launch.sh,
# web/launch.sh, the launcher security/storage.sh writes): the trial side of
# doc/api.md over $DET_MASTER, an http:// address or unix:SOCKET-PATH.

if [[ $DET_MASTER == unix:* ]]; then
	sock=(--unix-socket "${DET_MASTER#unix:}")
	base=http://localhost
else
	sock=()
	base=$DET_MASTER
fi

call() { # METHOD PATH TOKEN [BODY]
	curl -sS --max-time 70 "${sock[@]}" -X "$1" -H "Authorization: Bearer $3" \
		-H 'Content-Type: application/json' ${4:+--data-binary "$4"} "$base/api/v1$2"
}

# claim_trial: this array task's next trial in $claim; the launcher ends (3 when
# the master cannot be reached, 0 when it has nothing more for this task)
claim_trial() {
	claim=$(call POST "/experiments/$DET_EXPERIMENT_ID/claim" "$DET_ALLOCATION_TOKEN" \
		"{\"array_task\": $DET_ARRAY_TASK}") || exit 3
	if [ "$(jq -r '.done // false' <<<"$claim")" = true ] || jq -e .error >/dev/null <<<"$claim"; then
		exit 0
	fi
}

# exit_trial TRIAL TOKEN CODE: reports the trial's exit; after a failure or a
# preemption (CODE not 0) the launcher ends, as det-launch does
exit_trial() {
	call POST "/trials/$1/exit" "$2" "{\"exit_code\": $3, \"signal\": null}" >/dev/null
	[ "$3" = 0 ] || exit 0
}
