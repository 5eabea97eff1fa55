#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: checkpoint GC deleting a 10,000-file directory does not hold up the
# master: while the deletion is still running (files of the directory are still
# there after the answers came), GET /health and a trial's metric report are
# answered (200, within a generous bound). The deletion runs on the GC worker
# outside the app lock. How much it costs the reports' p99 is
# bench-report-p99's business, not this test's.
set -u
. "$(dirname "$0")/master-lib.sh"
nfiles=${GC_TEST_FILES:-10000}

# Tasks do nothing: the test claims and reports itself.
cat >"$work/launch.sh" <<'SH'
#!/bin/bash
[ -n "${FAKE_PID_DIR:-}" ] && : >"$FAKE_PID_DIR/$$"
exec sleep 600
SH
chmod 0755 "$work/launch.sh"
mkdir -p "$work/ckpt"
launcher=$work/launch.sh
start_master --storage-root "$work/ckpt"
check "master starts" test -n "$port"

yaml() { # FILE NAME [CHECKPOINT_STORAGE]
	printf 'name: %s\nentrypoint: x\nsearcher: {name: single, metric: loss, max_length: {batches: 1000}}\n%s' \
		"$2" "${3:-}" >"$1"
}
claim() { # EXP: claim task 0 over the socket (as the owner); trial id and token to stdout
	sock POST "/experiments/$1/claim" '{"array_task": 0}' >/dev/null
	echo "$(body .trial_id) $(body .token)"
}
remaining() { # DIR: its entries, or -1 once it is gone
	if [ -d "$1" ]; then ls -U "$1" | wc -l; else echo -1; fi
}

# The trial that reports while the GC runs.
yaml "$work/r.yaml" reporter
er=$(create_exp "$work/r.yaml")
read -r tr tokr < <(claim "$er")
check "the reporting trial is claimed" test -n "$tokr" -a "$tokr" != null
step=0
report() { # status code of one training report
	step=$((step + 1))
	curl -s -o /dev/null -w '%{http_code}' --max-time 60 -X POST \
		-H "Authorization: Bearer $tokr" -H 'Content-Type: application/json' \
		--data-binary "{\"group\": \"training\", \"steps_completed\": $step, \"metrics\": {\"loss\": 1}}" \
		"$base/trials/$tr/metrics"
}
eq "a report before any GC" 200 "$(report)"

# gc_round N: an experiment whose GC keeps nothing, one checkpoint of nfiles files,
# killed; polls until the deletion has started, then asks. Prints
# "HEALTH REPORT LEFT" (LEFT: files still there after both answers), or "missed".
gc_round() {
	local e t tok uuid dir n h r left
	yaml "$work/g$1.yaml" "gc-$1" "checkpoint_storage: {type: shared_fs, host_path: $work/ckpt, save_experiment_best: 0, save_trial_best: 0, save_trial_latest: 0}
"
	e=$(create_exp "$work/g$1.yaml")
	read -r t tok < <(claim "$e")
	uuid=$(printf '00000000-0000-4000-8000-%012d' "$e")
	dir=$work/ckpt/$uuid
	mkdir "$dir"
	(cd "$dir" && seq -f 'f%06g' "$nfiles" | xargs touch)
	code=$(http POST "/trials/$t/checkpoints" "{\"uuid\": \"$uuid\", \"steps_completed\": 1, \"metadata\": {}, \"files\": []}" "$tok")
	[ "$code" = 200 ] || { echo "register $code"; return; }
	sock POST "/experiments/$e/kill" >/dev/null
	for _ in $(seq 6000); do
		n=$(remaining "$dir")
		[ "$n" -lt "$nfiles" ] && break
		sleep 0.01
	done
	[ "$n" -gt 0 ] || { echo missed; return; }
	h=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 "http://127.0.0.1:$port/health")
	r=$(report)
	left=$(remaining "$dir")
	[ "$left" -gt 0 ] || { echo missed; return; }
	echo "$h $r $left"
}

# The deletion may end before the poll sees it under way: up to five rounds.
result=missed
for round in 1 2 3 4 5; do
	result=$(gc_round "$round")
	[ "$result" = missed ] || break
done
read -r h r left <<<"$result"
ok "$([ "${left:-0}" -gt 0 ] 2>/dev/null && echo 0 || echo 1)" \
	"the GC's deletion was still running when the answers came ($result)"
eq "GET /health answered during the deletion" 200 "${h:-}"
eq "a metric report answered during the deletion" 200 "${r:-}"
gone() { # DIR: until it is gone (60 s)
	for _ in $(seq 600); do
		[ -e "$1" ] || return 0
		sleep 0.1
	done
	return 1
}
check "the checkpoint directories are gone in the end" gone "$work/ckpt/00000000-0000-4000-8000-$(printf %012d "$((er + round))")"
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
