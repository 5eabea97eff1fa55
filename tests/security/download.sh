#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `det checkpoint download` of a hostile checkpoint (its file names come from
# trial code): a hidden file the checkpoint's metadata.json does not list is
# refused and nothing is written; a symlink planted in DIR is never followed;
# an existing file is refused without --force and replaced with it.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
start_master
use_det_cli

cat >"$work/one.yaml" <<'YAML'
name: hostile-checkpoint
entrypoint: x
searcher: {name: single, metric: val_loss, max_length: {batches: 100000}}
YAML
e=$(create_exp "$work/one.yaml" false)
sock POST "/experiments/$e/activate" >/dev/null
sock POST "/experiments/$e/pause" >/dev/null # no tasks: the test is the trial
sock POST "/experiments/$e/activate" >/dev/null
sock POST "/experiments/$e/claim" '{"array_task": 0}' >/dev/null
tid=$(body .trial_id)
tok=$(body .token)
check "claimed a trial" test -n "$tok" -a "$tok" != null
sha=$(printf '%064d' 0)
# register UUID FILE...: a checkpoint of those 4-byte files; their source
# files are created under the registered path; prints the path
register() {
	local uuid=$1 files= f path
	shift
	for f in "$@"; do
		files="$files${files:+,}{\"path\": \"$f\", \"size\": 4, \"sha256\": \"$sha\"}"
	done
	curl -s -o /dev/null -X POST -H "Authorization: Bearer $tok" \
		--data-binary "{\"uuid\": \"$uuid\", \"steps_completed\": 1, \"files\": [$files]}" \
		"$base/trials/$tid/checkpoints"
	sock GET "/checkpoints/$uuid" >/dev/null
	path=$(body .path)
	for f in "$@"; do
		mkdir -p "$(dirname "$path/$f")"
		printf 'new\n' >"$path/$f"
	done
	printf '%s' "$path"
}

u1=11111111-0000-0000-0000-000000000001
p1=$(register "$u1" w.bin .bashrc)
check "the hostile checkpoint is registered" test -f "$p1/.bashrc"
run c download "$u1" "$work/dl1"
eq "a hidden file that metadata.json does not list → 1" 1 $?
check "the refusal names it" grep -q ".bashrc" "$work/err"
check "nothing is written" test ! -e "$work/dl1/.bashrc" -a ! -e "$work/dl1/w.bin"

u2=11111111-0000-0000-0000-000000000002
p2=$(register "$u2" w.bin sub/a.bin)
mkdir -p "$work/dl2" "$work/elsewhere"
printf 'precious' >"$work/elsewhere/keep"
ln -s "$work/elsewhere" "$work/dl2/sub"
run c download --force "$u2" "$work/dl2"
eq "a directory symlink planted in DIR → 1, even with --force" 1 $?
check "nothing is written through it, nor anything else" \
	test ! -e "$work/elsewhere/a.bin" -a ! -e "$work/dl2/w.bin"

rm "$work/dl2/sub"
ln -s "$work/elsewhere/keep" "$work/dl2/w.bin"
run c download "$u2" "$work/dl2"
eq "an existing name (here a symlink) without --force → 1" 1 $?
check "the refusal says --force" grep -q -- "--force" "$work/err"
eq "the symlink's target is untouched" precious "$(cat "$work/elsewhere/keep")"
run c download "$u2" "$work/dl2" --force
eq "with --force the download succeeds" 0 $?
check "w.bin is now a regular file, not the symlink" test -f "$work/dl2/w.bin" -a ! -L "$work/dl2/w.bin"
eq "the symlink's target is still untouched" precious "$(cat "$work/elsewhere/keep")"
check "the files are the checkpoint's" cmp "$p2/sub/a.bin" "$work/dl2/sub/a.bin"
stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
