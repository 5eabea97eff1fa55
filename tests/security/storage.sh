#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Confined checkpoint storage (issue 10) against a real root det-master and
# real second Unix users: paths outside the storage roots are refused at
# create, checkpoint GC and the TensorBoard writer act as the experiment's
# owner (a directory swapped for a symlink after create does not make them
# touch root's or another user's files), and a trial cannot take over another
# experiment's checkpoint uuid. Trials run a launcher written below that
# claims, leaves the claim in $work/claims and waits for the test to give
# its exit code; the test speaks the trial side itself with the trial token.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root

make_user A B || exit 1
homeA=/tmp/$A.home
homeB=/tmp/$B.home
# A root that both users may write (like /scratch), given with --storage-root.
shared=$work/shared
mkdir -m 1777 "$shared"
# Root's own directories, outside every root.
rootdir=$work/rootonly
mkdir -m 0755 "$rootdir"
mkdir -p "$work/claims"
chmod 1777 "$work/claims"

cat >"$work/launch.sh" <<EOF
#!/bin/bash
# Claim, leave the claim for the test, report the exit code it writes; again
# while the master says restart.
claims=$work/claims
fake=$srcdir/tests/integration/fake-launch.sh
. "$srcdir/tests/integration/trial-api.sh"
EOF
cat >>"$work/launch.sh" <<'EOF'
[ -e "$claims/fake" ] && exec "$fake" # from then on: tests/integration/fake-launch.sh
[ -n "${FAKE_PID_DIR:-}" ] && : >"$FAKE_PID_DIR/$$"
n=0
while :; do
	claim_trial
	f=$claims/e$DET_EXPERIMENT_ID.$n
	printf '%s\n' "$claim" >"$f.tmp" && mv "$f.tmp" "$f.json"
	for _ in $(seq 3000); do
		[ -e "$f.exit" ] && break
		sleep 0.1
	done
	code=$(cat "$f.exit" 2>/dev/null || echo 1)
	tid=$(jq -r .trial_id <<<"$claim")
	tok=$(jq -r .token <<<"$claim")
	r=$(call POST "/trials/$tid/exit" "$tok" "{\"exit_code\": $code, \"signal\": null}")
	n=$((n + 1))
	[ "$(jq -r .restart <<<"$r")" = true ] || exit 0
done
EOF
chmod 0755 "$work/launch.sh"
printf 'local: {slots: 40}\n' >"$work/master.yaml"
launcher=$work/launch.sh
start_master --config "$work/master.yaml" --storage-root "~" --storage-root "$shared"
check "master starts" test -n "$port"

# exp_yaml FILE HOST_PATH [STORAGE_PATH]: a one-trial experiment whose GC deletes every checkpoint.
exp_yaml() {
	cat >"$1" <<YAML
name: storage
entrypoint: "true"
searcher: {name: single, metric: val_loss, max_length: {batches: 1}}
checkpoint_storage:
  type: shared_fs
  host_path: $2
${3:+  storage_path: $3}
  save_experiment_best: 0
  save_trial_best: 0
  save_trial_latest: 0
YAML
}
# create_as USER YAML: POST /experiments as that Unix user over the socket; status
# code to stdout, body in $work/body.
create_as() {
	jq -n --rawfile c "$2" '{config: $c, activate: true}' >"$work/req.json"
	chmod 0644 "$work/req.json"
	as_user "$1" curl -s -w '\n%{http_code}' --unix-socket "$work/m.sock" -X POST \
		-H 'Content-Type: application/json' --data-binary @"$work/req.json" \
		http://localhost/api/v1/experiments >"$work/out"
	head -n -1 "$work/out" >"$work/body"
	tail -n 1 "$work/out"
}
# claim_of EXP [N]: the N-th claim file of the experiment (without .json), once it exists.
claim_of() {
	local f=$work/claims/e$1.${2:-0}
	for _ in $(seq 600); do
		[ -e "$f.json" ] && echo "$f" && return 0
		sleep 0.1
	done
	return 1
}
# finish CLAIM CODE: let the trial of that claim exit with CODE.
finish() { echo "$2" >"$1.exit"; }
# ckpt TRIAL TOKEN UUID: register a checkpoint as the trial; status code to stdout.
ckpt() {
	http POST "/trials/$1/checkpoints" "{\"uuid\": \"$3\", \"steps_completed\": 1, \"metadata\": {}, \"files\": []}" "$2"
}
# user_trial USER NAME HOST_PATH MESSAGE: USER creates the experiment of
# $work/NAME.yaml (exp_yaml with HOST_PATH; the check MESSAGE: 200) and its
# trial claims: sets e, c (the claim), t (the trial id) and tok (its token).
user_trial() {
	exp_yaml "$work/$2.yaml" "$3"
	eq "$4" 200 "$(create_as "$1" "$work/$2.yaml")"
	e=$(body .id)
	c=$(claim_of "$e")
	t=$(jq -r .trial_id "$c.json")
	tok=$(jq -r .token "$c.json")
}
# wait_log PATTERN: until master.err has a line matching it (60 s).
wait_log() {
	for _ in $(seq 600); do
		grep -q "$1" "$work/master.err" && return 0
		sleep 0.1
	done
	return 1
}

# --- refused at create: '..', outside the roots, a symlink out of the root ---
exp_yaml "$work/dotdot.yaml" "$homeA/ck/../../../etc"
eq "host_path with '..' → 400" 400 "$(create_as "$A" "$work/dotdot.yaml")"
check "the error names host_path and '..'" grep -q "checkpoint_storage.host_path.*'\.\.'" "$work/body"
exp_yaml "$work/subdotdot.yaml" "$homeA" "../$B.home"
eq "storage_path with '..' → 400" 400 "$(create_as "$A" "$work/subdotdot.yaml")"
check "the error names storage_path" grep -q "checkpoint_storage.storage_path" "$work/body"
exp_yaml "$work/outside.yaml" "$rootdir"
eq "a root-only directory outside the roots → 400" 400 "$(create_as "$A" "$work/outside.yaml")"
check "the error says outside the storage roots" grep -q "host_path: .*outside the storage roots" "$work/body"
as_user "$A" ln -s "$rootdir" "$homeA/escape"
exp_yaml "$work/escape.yaml" "$homeA/escape/ck"
eq "a symlink out of the home root → 400" 400 "$(create_as "$A" "$work/escape.yaml")"
check "the error says where it resolves to" grep -q "resolves to $rootdir/ck" "$work/body"
exp_yaml "$work/other.yaml" "$homeB/ck"
eq "another user's home is not A's root → 400" 400 "$(create_as "$A" "$work/other.yaml")"

# --- checkpoint uuids: B's trial cannot take over A's checkpoint ---
user_trial "$A" a "$homeA/ck" "A creates an experiment under its home"
ea=$e ca=$c ta=$t toka=$tok
ua=aaaaaaaa-0000-4000-8000-$(printf '%012d' "$ta")
eq "A's trial registers its checkpoint" 200 "$(ckpt "$ta" "$toka" "$ua")"
eq "A's trial registers it again (a retry)" 200 "$(ckpt "$ta" "$toka" "$ua")"
user_trial "$B" b "$homeB/ck" "B creates an experiment"
eb=$e cb=$c tb=$t tokb=$tok
eq "B's trial registering A's uuid → 409" 409 "$(ckpt "$tb" "$tokb" "$ua")"
check "the 409 says whose it is" grep -q "already registered by trial $ta of experiment $ea" "$work/body"
http GET "/checkpoints/$ua" '' "$toka" >/dev/null
eq "A's checkpoint still belongs to A's experiment" "$ea" "$(body .experiment_id)"
finish "$ca" 1 # a crash: the trial restarts and claims again
ca1=$(claim_of "$ea" 1)
eq "A's restart resumes from its checkpoint" "$ua" "$(jq -r .latest_checkpoint "$ca1.json")"
eq "the restarted trial reads its checkpoint" 200 "$(http GET "/checkpoints/$ua" '' "$(jq -r .token "$ca1.json")")"

# --- GC as the owner: B swaps its storage for a symlink to root's directory ---
ub=bbbbbbbb-0000-4000-8000-$(printf '%012d' "$tb")
eq "B's trial registers its own checkpoint" 200 "$(ckpt "$tb" "$tokb" "$ub")"
mkdir -m 0700 "$rootdir/$ub"
echo precious >"$rootdir/$ub/file"
as_user "$B" rm -rf "$homeB/ck"
as_user "$B" ln -s "$rootdir" "$homeB/ck"
finish "$cb" 0
check "B's experiment completes" wait_state "$eb" COMPLETED 60
# GC runs on its own thread: wait until it has said what it did.
check "GC logged why it left B's files" wait_log "experiment $eb: checkpoint gc.*outside the storage roots"
check "GC did not delete root's directory behind B's symlink" test -f "$rootdir/$ub/file"

# --- GC as the owner within a shared root: B's symlink into A's directory ---
as_user "$A" mkdir -p "$shared/a"
user_trial "$B" b2 "$shared/b" "B creates an experiment in the shared root"
ub2=bbbbbbbb-0000-4000-8000-$(printf '%012d' "$t")
eq "B's trial registers a checkpoint" 200 "$(ckpt "$t" "$tok" "$ub2")"
as_user "$A" mkdir "$shared/a/$ub2"
as_user "$A" sh -c "echo A-data >'$shared/a/$ub2/file'"
as_user "$B" ln -s "$shared/a" "$shared/b"
finish "$c" 0
check "B's second experiment completes" wait_state "$e" COMPLETED 60
check "GC as B was refused (logged)" wait_log "experiment $e: checkpoint gc as uid [0-9]*: .*Permission denied"
check "GC as B did not delete A's files behind B's symlink" test -f "$shared/a/$ub2/file"

# --- GC still deletes the owner's own checkpoints, as the owner ---
user_trial "$B" b3 "$homeB/ck3" "B creates a third experiment"
ub3=bbbbbbbb-0000-4000-8000-$(printf '%012d' "$t")
as_user "$B" mkdir -p "$homeB/ck3/$ub3/sub"
as_user "$B" sh -c "echo w >'$homeB/ck3/$ub3/sub/w.bin'"
eq "B's trial registers it" 200 "$(ckpt "$t" "$tok" "$ub3")"
finish "$c" 0
check "B's third experiment completes" wait_state "$e" COMPLETED 60
check "GC logged the removal as B" wait_log "experiment $e: checkpoint gc removed 1 directories as uid $(id -u "$B")"
check "GC deleted B's own checkpoint directory" test ! -e "$homeB/ck3/$ub3"
check "and kept the storage directory" test -d "$homeB/ck3"

# --- TensorBoard: event files are written as the owner, never into root's directory ---
user_trial "$B" b4 "$homeB/tb" "B creates an experiment for TensorBoard"
http POST "/trials/$t/metrics" '{"group": "training", "steps_completed": 1, "metrics": {"loss": 1}}' "$tok" >/dev/null
evdir=$homeB/tb/tensorboard/experiment_$e/trial_$t
for _ in $(seq 600); do
	ls "$evdir"/events.out.tfevents.* >/dev/null 2>&1 && break
	sleep 0.1
done
ev=$(ls "$evdir"/events.out.tfevents.* 2>/dev/null | head -n 1)
check "the event file is written" test -f "$ev"
eq "the event file belongs to B" "$B" "$(stat -c %U "$ev" 2>/dev/null)"
eq "its directory belongs to B" "$B" "$(stat -c %U "$homeB/tb/tensorboard" 2>/dev/null)"
finish "$c" 0
check "B's TensorBoard experiment completes" wait_state "$e" COMPLETED 60

user_trial "$B" b5 "$homeB/tb5" "B creates another TensorBoard experiment"
as_user "$B" ln -s "$rootdir" "$homeB/tb5"
eq "a report after the swap still succeeds" 200 "$(http POST "/trials/$t/metrics" '{"group": "training", "steps_completed": 1, "metrics": {"loss": 1}}' "$tok")"
for _ in $(seq 600); do # the refusal logged, or (without the defence) the file written
	grep -q "tensorboard: trial $t:" "$work/master.err" && break
	[ -e "$rootdir/tensorboard" ] && break
	sleep 0.1
done
check "the writer logged why it did not write" grep -q "tensorboard: trial $t: .*outside the storage roots" "$work/master.err"
check "nothing was written into root's directory" test ! -e "$rootdir/tensorboard"
finish "$c" 0
check "that experiment completes too" wait_state "$e" COMPLETED 60

# --- more trials reporting in turn than event files stay open: closed ones are
# reopened, and each is still the owner's own file with all its events ---
touch "$work/claims/fake"
cat >"$work/many.yaml" <<YAML
name: many
entrypoint: "true"
hyperparameters: {x: {type: int, minval: 0, maxval: 100000}}
searcher: {name: random, metric: val_loss, max_trials: 36, max_concurrent_trials: 36, max_length: {batches: 3}}
environment: {environment_variables: [FAKE_SLEEP=1]}
checkpoint_storage: {type: shared_fs, host_path: $homeB/many}
YAML
eq "B creates an experiment of 36 trials at once" 200 "$(create_as "$B" "$work/many.yaml")"
em=$(body .id)
check "it completes" wait_state "$em" COMPLETED 300
good=0
for _ in $(seq 600); do
	good=0
	for f in "$homeB/many/tensorboard/experiment_$em"/trial_*/events.out.tfevents.*; do
		[ -f "$f" ] && [ "$(stat -c %U "$f")" = "$B" ] &&
			[ "$(python3 "$srcdir/tests/tfevents/tfevents_read.py" "$f" 2>/dev/null | grep -c 'validation/val_loss')" = 3 ] &&
			good=$((good + 1))
	done
	[ "$good" = 36 ] && break
	sleep 0.1
done
eq "36 event files of B's, each with its 3 validations" 36 "$good"
check "none was refused on reopening" test "$(grep -c 'not reopened' "$work/master.err")" = 0

stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
