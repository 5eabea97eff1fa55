#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The det command line against a real det-master: each command's output and
# exit status (0 ok, 1 failure, 2 usage, 3 unreachable), login with a
# password over TCP, .detignore when packing the model directory.
set -u
. "$(dirname "$0")/master-lib.sh"
start_master
use_det_cli

run --help
ok $? "det --help exits 0"
grep -q "experiment create" "$work/out"
ok $? "--help lists the commands"
run e create --help
ok $? "command --help exits 0"
run frobnicate
eq "unknown command → 2" 2 $?
run -o xml master info
eq "bad -o → 2" 2 $?
run e describe abc
eq "bad id → 2" 2 $?
run -m http://127.0.0.1:1 master info
eq "unreachable master → 3" 3 $?
run master info
ok $? "master info over the Unix socket"
grep -q "resource manager: local" "$work/out"
ok $? "master info shows the resource manager"
run agent list
grep -q "^$(hostname) *UP " "$work/out"
ok $? "agent list: the local machine"
run slot list
eq "slot list: one line per slot" "$(jq '.agents[0].slots' <<<"$("$det" -o json agent list)")" \
	"$(grep -c "^$(hostname) " "$work/out")"
run resource-pool list
grep -Eq '^default +[0-9]+ +[0-9]+ +1 +local' "$work/out"
ok $? "resource-pool list: the default pool"
run user whoami
eq "root on the socket is admin" "admin (admin)" "$(cat "$work/out")"

# Password login over TCP; token kept in DET_AUTH_FILE.
pw=$(cat "$work/state/admin-password")
echo "bob-secret" | "$det" user create --password-stdin bob >/dev/null
ok $? "user create"
echo "wrong" | "$det" -m "http://127.0.0.1:$port" user login --password-stdin bob >/dev/null 2>&1
eq "wrong password → 1" 1 $?
echo "bob-secret" | "$det" -m "http://127.0.0.1:$port" user login --password-stdin bob >/dev/null
ok $? "user login"
check "token file is private" test "$(stat -c %a "$work/auth.json")" = 600
eq "whoami over TCP with the token" bob "$("$det" -m "http://127.0.0.1:$port" user whoami)"

# An experiment with a model directory.
mkdir -p "$work/model/sub"
echo code >"$work/model/train.py"
echo data >"$work/model/big.bin"
echo x >"$work/model/sub/keep.txt"
printf '# comment\n*.bin\n' >"$work/model/.detignore"
cat >"$work/exp.yaml" <<'YAML'
name: cli-test
labels: [cli]
entrypoint: python3 train.py
hyperparameters: {lr: {type: double, minval: 0.1, maxval: 0.2}}
searcher: {name: random, metric: val_loss, max_trials: 2, max_length: {batches: 3}}
YAML
run e create --follow "$work/exp.yaml" "$work/model"
eq "create --follow exits 0 when COMPLETED" 0 $?
grep -q "^Created experiment 1" "$work/out"
ok $? "create prints the id"
grep -q "COMPLETED: 2/2 trials done" "$work/out"
ok $? "--follow prints plain progress lines when not a terminal"
run e wait 1
ok $? "wait on a completed experiment exits 0"
run e list
grep -q "cli-test  COMPLETED" "$work/out"
ok $? "list shows the experiment as a table"
run -o json e list --label cli
eq "list -o json --label" 1 "$(jq '.experiments | length' "$work/out")"
run -o yaml e describe 1
grep -q "^state: COMPLETED" "$work/out"
ok $? "describe -o yaml"
run e list-trials 1
eq "list-trials has a header and two rows" 3 "$(wc -l <"$work/out")"
run -o json e list-trials 1
tid=$(jq '.[0].id' "$work/out")
run t describe "$tid"
grep -q "validation metrics" "$work/out"
ok $? "trial describe"
run -o json t describe "$tid"
eq "trial describe -o json: validation metrics and hyperparameters are objects" "object object" \
	"$(jq -r '"\(.validation_metrics[0].metrics | type) \(.hparams | type)"' "$work/out")"
run t logs "$tid"
grep -q "trial $tid starts" "$work/out"
ok $? "trial logs"
run e logs 1
eq "experiment logs prefix each line with its trial" 2 "$(grep -c '^\[trial ' "$work/out")"
run c list 1
eq "checkpoint list" 7 "$(wc -l <"$work/out")"
run -o json c list 1
uuid=$(jq -r '.[0].uuid' "$work/out")
run c describe "$uuid"
grep -q "w.bin" "$work/out"
ok $? "checkpoint describe shows the files"
run e download-model-def -O "$work/md.tgz" 1
ok $? "download-model-def"
tar tzf "$work/md.tgz" | sort >"$work/files"
eq "model packed without .detignore'd files" "sub/ sub/keep.txt train.py" "$(tr '\n' ' ' <"$work/files" | sed 's/ $//')"
run t logs --follow "$tid"
ok $? "trial logs --follow returns once the trial is over"
run -o json c list 1
path=$(jq -r '[.[] | select(.state != "DELETED")][0].path' "$work/out")
kept=$(jq -r '[.[] | select(.state != "DELETED")][0].uuid' "$work/out")
mkdir -p "$path" && printf 'abcd' >"$path/w.bin"
run c download "$kept" "$work/dl"
ok $? "checkpoint download"
check "downloaded file is the checkpoint's" cmp "$path/w.bin" "$work/dl/w.bin"
rm -f "$path/w.bin"
run c download "$kept" "$work/dl2"
eq "download of a checkpoint whose files are gone → 1" 1 $?
run e pause 1
eq "pausing a finished experiment → 1" 1 $?
grep -q "cannot pause" "$work/err"
ok $? "the master's error is shown"
run e archive 1
ok $? "archive"
run -o json e list
eq "archived experiment hidden" 0 "$(jq '.experiments | length' "$work/out")"
run -o json e list --all
eq "list --all shows it" 1 "$(jq '.experiments | length' "$work/out")"
run e unarchive 1
ok $? "unarchive"
run e delete 1
ok $? "delete"
run e describe 1
eq "describe a deleted experiment → 1" 1 $?
run e create "$work/nope.yaml"
eq "missing config file → 1" 1 $?
printf 'name: x\nentrypoint: y\nsearcher: {name: nope, metric: m}\n' >"$work/bad.yaml"
run e create "$work/bad.yaml"
eq "invalid config → 1" 1 $?
grep -q "config.yaml:3:" "$work/err"
ok $? "invalid config error shows file:line"
# Stopping running experiments and trials.
sed -e 's/max_trials: 2/max_trials: 3/' -e 's/batches: 3/batches: 1000/' "$work/exp.yaml" >"$work/slow.yaml"
echo 'environment: {environment_variables: [FAKE_STEPS=1000, FAKE_SLEEP=0.2]}' >>"$work/slow.yaml"
run -o json e create "$work/slow.yaml"
slow=$(jq .id "$work/out")
for _ in $(seq 600); do
	n=$("$det" -o json e list-trials "$slow" | jq length)
	[ "$n" -ge 1 ] && break
	sleep 0.1
done
st=$("$det" -o json e list-trials "$slow" | jq '.[0].id')
run t kill "$st"
grep -q "STOPPING_KILLED\|CANCELED" "$work/out"
ok $? "trial kill"
run e cancel "$slow"
ok $? "experiment cancel"
run e wait "$slow"
eq "wait on a canceled experiment → 1" 1 $?
run -o json t describe "$st"
eq "killed trial ends CANCELED" CANCELED "$(jq -r .state "$work/out")"
run -o json e create "$work/slow.yaml"
slow2=$(jq .id "$work/out")
run e kill "$slow2"
ok $? "experiment kill"
run e wait "$slow2"
eq "killed experiment ends CANCELED (wait → 1)" 1 $?

"$det" -m "http://127.0.0.1:$port" user logout >/dev/null
ok $? "logout"
"$det" -m "http://127.0.0.1:$port" user whoami >/dev/null 2>&1
eq "after logout → 1" 1 $?
stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
