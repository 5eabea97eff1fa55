#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# det experiment set description|notes|labels against a real det-master:
# the values are shown by describe and list filters, kept across a restart,
# and bad values (control characters, wrong types, too long) are refused
# with nothing written. The description starts as the config's.
set -u
. "$(dirname "$0")/master-lib.sh"
start_master
use_det_cli
cat >"$work/exp.yaml" <<'YAML'
name: meta
description: from the config
labels: [first]
entrypoint: python3 train.py
searcher: {name: single, metric: val_loss, max_length: {batches: 2}}
YAML
e=$(create_exp "$work/exp.yaml" false)
eq "the description starts as the config's" "from the config" "$(sock GET "/experiments/$e" >/dev/null; body .experiment.description)"

run e set description "$e" "a better description"
ok $? "det experiment set description"
run e set notes "$e" "$(printf 'line one\nline two')"
ok $? "det experiment set notes (several lines)"
run e set labels "$e" "nightly,vision"
ok $? "det experiment set labels"
sock GET "/experiments/$e" >/dev/null
eq "describe shows them" "a better description|line one\nline two|nightly,vision" \
	"$(body '"\(.experiment.description)|\(.experiment.notes | gsub("\n"; "\\n"))|\(.experiment.labels | join(","))"')"
eq "the label filter finds the new label" "$e" "$(sock GET "/experiments?label=vision" >/dev/null; body '[.experiments[].id] | join(" ")')"
eq "... not the old one" "" "$(sock GET "/experiments?label=first" >/dev/null; body '[.experiments[].id] | join(" ")')"

eq "a control character in the description → 400" 400 "$(sock POST "/experiments/$e/set" '{"description": "a\u001bb"}')"
eq "a newline in the description → 400" 400 "$(sock POST "/experiments/$e/set" '{"description": "a\nb"}')"
eq "a label that is not a string → 400" 400 "$(sock POST "/experiments/$e/set" '{"labels": ["ok", 5]}')"
eq "an empty label → 400" 400 "$(sock POST "/experiments/$e/set" '{"labels": [""]}')"
eq "a bad field with a good one writes neither" 400 "$(sock POST "/experiments/$e/set" '{"description": "new", "notes": 7}')"
eq "... the description is unchanged" "a better description" "$(sock GET "/experiments/$e" >/dev/null; body .experiment.description)"
long=$(head -c 70000 /dev/zero | tr '\0' 'n')
jq -n --arg n "$long" '{notes: $n}' >"$work/long.json"
eq "notes over 64 KiB → 400" 400 "$(sock POST "/experiments/$e/set" @"$work/long.json")"
eq "nothing to set → 400" 400 "$(sock POST "/experiments/$e/set" '{}')"
eq "an unknown experiment → 404" 404 "$(sock POST /experiments/999/set '{"notes": "x"}')"
run e set colour "$e" red
eq "det experiment set of an unknown field → 2" 2 $?
run e set labels "$e" ""
ok $? "det experiment set labels \"\" clears them"

stop_master
start_master
sock GET "/experiments/$e" >/dev/null
eq "kept across a restart" "a better description|0" "$(body '"\(.experiment.description)|\(.experiment.labels | length)"')"

echo "1..$tap_n"
[ "$tap_failed" = 0 ]
