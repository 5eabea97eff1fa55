#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Control characters (doc/security.md): a config whose strings hold ESC, BEL,
# NUL or DEL (as YAML escapes) is refused with file:line:column and the key
# path; and a name that is already in a database (written there with sqlite3,
# as an older master let it in) reaches the terminal escaped, in every `det`
# output format, never as raw bytes.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
need_sqlite3
det=${DET_BIN:-$builddir/cli/det}
export DET_MASTER=unix:$work/m.sock DET_AUTH_FILE=$work/auth.json
start_master
check "master starts" test -n "$port"

# --- refused at parse time ---
for esc in '\e[31m' '\a' '\0' '\x7f' '\x9b'; do
	printf 'name: "red%sname"\nentrypoint: x\nsearcher: {name: single, metric: l, max_length: {batches: 1}}\n' \
		"$esc" >"$work/bad.yaml"
	jq -n --rawfile c "$work/bad.yaml" '{config: $c, activate: false}' >"$work/req.json"
	code=$(curl -s -o "$work/body" -w '%{http_code}' --unix-socket "$work/m.sock" -X POST \
		-H 'Content-Type: application/json' --data-binary @"$work/req.json" \
		http://localhost/api/v1/experiments)
	eq "a name with $esc is refused" 400 "$code"
	grep -q '1:7: name: .*a value must not contain control characters' "$work/body"
	ok $? "the refusal for $esc gives line, column and key"
done
sock GET /experiments >/dev/null
eq "no experiment was created" 0 "$(body '.experiments | length')"
printf 'name: "tab\\tok"\ndescription: "two\\nlines"\nentrypoint: x\nsearcher: {name: single, metric: l, max_length: {batches: 1}}\n' \
	>"$work/good.yaml"
e=$(create_exp "$work/good.yaml" false)
check "tab and newline are still fine in values" test "$e" -gt 0

# --- an old database with hostile strings: escaped output ---
stop_master TERM
ok $? "master stops"
sqlite3 "$work/state/master.db" \
	"UPDATE experiments SET name = 'red' || char(27) || '[31m' || char(7) || char(127) || char(155) || 'x',
	 labels = json_array('l' || char(27) || ']0;title' || char(7)) WHERE id = $e"
start_master
check "master starts on the old database" test -n "$port"
esc=$(printf '\033')
bel=$(printf '\a')
del=$(printf '\177')
c1=$(printf '\302\233')
for fmt in table yaml json; do
	"$det" -o "$fmt" experiment list >"$work/out" 2>"$work/err"
	ok $? "det -o $fmt experiment list"
	raw=0
	for ch in "$esc" "$bel"; do
		grep -qF "$ch" "$work/out" && raw=1
	done
	# -o json is for programs: JSON's own escaping (C0), DEL and C1 as they are.
	if [ "$fmt" != json ]; then
		grep -qF "$del" "$work/out" && raw=1
		grep -qF "$c1" "$work/out" && raw=1
	fi
	eq "-o $fmt: no raw control character reaches the terminal" 0 "$raw"
done
"$det" experiment list >"$work/out" 2>&1
grep -qF 'red\x1b[31m\x07\x7f\u009bx' "$work/out"
ok $? "the table shows the name's control characters escaped"
"$det" -o yaml experiment describe "$e" >"$work/out" 2>&1
grep -qF 'red\x1b[31m\x07\x7f\u009bx' "$work/out"
ok $? "describe -o yaml shows them escaped"
stop_master TERM
ok $? "master stops"
echo "1..$tap_n"
exit $((tap_failed > 0))
