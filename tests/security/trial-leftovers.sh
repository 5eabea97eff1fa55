#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# What a trial leaves behind: every line it printed reaches `det trial logs`,
# the last ones too, after NUL, invalid UTF-8 and raw binary output and with
# a final line that has no newline (bytes that are not text come as \xNN);
# and det-launch removes its job directory under ~/.det-slurm/run when the
# job ends, and the one a det-launch that died on this host left. A real
# det-master with the local manager and the real det-launch.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"

export HOME=$work/home # det-launch's job directories stay private to the test
mkdir -p "$HOME"
launcher=$builddir/launcher/det-launch
det=$builddir/cli/det
export DET_MASTER=unix:$work/m.sock DET_AUTH_FILE=$work/auth.json

mkdir -p "$work/model"
cat >"$work/model/emit.sh" <<'SH'
printf 'first line\n'
printf 'text with a nul\000in the middle\n'
printf 'nul\000inside and bad \377\376 bytes\n'
head -c 4096 /dev/urandom
printf '\nafter binary: one\n'
printf 'after binary: two\r\n'
printf 'last line without newline'
SH
tar -C "$work/model" -czf "$work/model.tgz" .
cat >"$work/exp.yaml" <<'YAML'
name: trial-leftovers
entrypoint: sh emit.sh
searcher: {name: single, metric: loss, max_length: {batches: 1}}
max_restarts: 0
YAML

# what a det-launch killed earlier on this host left (its pid is gone)
sh -c 'exit 0' &
dead=$!
wait "$dead"
stale=$HOME/.det-slurm/run/e999-t0-pid$dead
mkdir -p "$stale/model"
jq -n --arg h "$(hostname)" --argjson p "$dead" '{host: $h, pid: $p, start: 1}' >"$stale/owner.json"

start_master
e=$(create_exp "$work/exp.yaml" true "$work/model.tgz")
check "the experiment is created" test -n "$e" -a "$e" != null
state=
for _ in $(seq 600); do
	sock GET "/experiments/$e" >/dev/null
	state=$(body .experiment.state)
	case $state in COMPLETED | ERROR | CANCELED) break ;; esac
	sleep 0.1
done
check "the experiment ends (state $state)" test "$state" = COMPLETED -o "$state" = ERROR
sock GET "/experiments/$e/trials" >/dev/null
t=$(body '.trials[0].id')

# the last lines travel after the rest: wait for them with a generous bound
logs() { "$det" trial logs "$t" >"$work/logs.txt" 2>"$work/logs.err"; }
has_last() { logs && grep -q 'last line without newline' "$work/logs.txt"; }
for _ in $(seq 600); do
	has_last && break
	sleep 0.1
done
check "the line before the binary output arrives" grep -qx 'first line' "$work/logs.txt"
check "a line of text with a NUL arrives whole, the NUL as \\x00" \
	grep -qxF 'text with a nul\x00in the middle' "$work/logs.txt"
check "a line with NUL and invalid UTF-8 arrives whole, the bytes as \\xNN" \
	grep -qF 'nul\x00inside and bad \xff\xfe bytes' "$work/logs.txt"
check "the lines after the binary output arrive" grep -qx 'after binary: one' "$work/logs.txt"
check "a CRLF line arrives without its CR" grep -qx 'after binary: two' "$work/logs.txt"
check "the final line without a newline arrives" grep -qx 'last line without newline' "$work/logs.txt"
sed 's/^/# det trial logs: /' "$work/logs.err"

left=$(find "$HOME/.det-slurm/run" -mindepth 1 -maxdepth 1 -name "e$e-*" 2>/dev/null)
for _ in $(seq 600); do
	[ -z "$left" ] && break
	sleep 0.1
	left=$(find "$HOME/.det-slurm/run" -mindepth 1 -maxdepth 1 -name "e$e-*" 2>/dev/null)
done
eq "det-launch removed its job directory when the job ended" "" "$left"
check "and the one a dead det-launch on this host left" test ! -e "$stale"
[ -n "$left" ] && find "$HOME/.det-slurm/run" -ls | sed 's/^/#   left: /'

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
