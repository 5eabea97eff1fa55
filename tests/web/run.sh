#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: the web UI in a real browser. Starts det-master (random port,
# temporary state directory) whose local resource manager runs the real
# det-launch with tests/web/train.py (a Core API trial), creates users alice
# and bob (real Unix accounts, whose trials run as them, with passwords they
# set over the socket), and a random search of alice's, then
# runs tests/web/ui.mjs
# (Debian's chromium driven by playwright-core).
# Screenshots go to tests/web/artifacts/ in the build tree.
# Skips only when chromium or node/npm are missing. playwright-core comes
# from tests/web/node_modules (scripts/install-deps runs npm ci there) or is
# installed with npm ci into the build tree.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/web/web-lib.sh"
. "$srcdir/tests/security/security-lib.sh"
need_root
# The real det-launch runs tests/web/train.py (Core API of the Python package);
# without a built det-launch, tests/web/launch.sh speaks the trial API itself.
export HOME=$work/home
mkdir -p "$HOME"
if [ -x "$builddir/launcher/det-launch" ]; then
	launcher=$builddir/launcher/det-launch
else
	launcher=$srcdir/tests/web/launch.sh
fi
web_cleanup() {
	# det-launch's tasks lead their own process groups (job directories end in -pidN)
	for d in "$HOME"/.det-slurm/run/*-pid*; do
		[ -d "$d" ] && kill -9 -- "-${d##*-pid}" 2>/dev/null
	done
	sec_cleanup
}
trap web_cleanup EXIT
artifacts=$builddir/tests/web/artifacts
rm -rf "$artifacts"
mkdir -p "$artifacts"

start_master --webui-dir "$srcdir/webui"
check "master starts" test -n "$port"
admin_login admin
make_user alice || exit 1
printf 'alice-secret-1\n' | as_user "$alice" env DET_MASTER="unix:$work/m.sock" \
	"$builddir/cli/det" user change-password --password-stdin >/dev/null
check "alice (a Unix account) sets her password over the socket" test $? = 0
make_user bob || exit 1
printf 'bob-secret-22\n' | as_user "$bob" env DET_MASTER="unix:$work/m.sock" \
	"$builddir/cli/det" user change-password --password-stdin >/dev/null
check "bob (another Unix account) sets his password" test $? = 0
http POST /auth/login "{\"username\":\"$alice\",\"password\":\"alice-secret-1\"}" >/dev/null
alice_user=$alice
alice=$(body .token)

# Over 1,000 experiments (paused, the admin's) so the list pages and sorts
# on the master; alice's search below is the newest.
bulk=1200
printf 'name: bulk\nentrypoint: x\nlabels: [bulk]\nsearcher: {name: single, metric: m, max_length: {batches: 1}}\n' >"$work/bulk.yaml"
jq -n --rawfile c "$work/bulk.yaml" '{config: $c, activate: false}' >"$work/bulk.json"
curl -s --unix-socket "$work/m.sock" -X POST --data-binary @"$work/bulk.json" \
	"http://localhost/api/v1/experiments?n=[1-$bulk]" -o /dev/null
sock GET "/experiments?limit=1&label=bulk" >/dev/null
eq "$bulk experiments made for the list" "$bulk" "$(body .pagination.total)"

trials=3
steps=10
cat >"$work/exp.yaml" <<YAML
name: webui-search
labels: [webui-test]
entrypoint: python3 train.py
environment:
  environment_variables: [WEB_SLEEP=0.6, WEB_HOLD=$work/hold]
hyperparameters:
  lr: {type: log, minval: -4, maxval: -1}
  layers: {type: int, minval: 1, maxval: 4}
searcher: {name: random, metric: val_loss, max_trials: $trials, max_concurrent_trials: 2, max_length: {batches: $steps}}
YAML
# The trials wait at step 4 while this file exists (ui.mjs removes it once it
# has seen them running), so a slow machine cannot finish the search early.
: >"$work/hold"
mkdir -p "$work/model"
cp "$srcdir/tests/web/train.py" "$work/model/"
tar -C "$work/model" -czf "$work/model.tgz" .
jq -n --rawfile c "$work/exp.yaml" --arg m "$(base64 -w0 "$work/model.tgz")" \
	'{config: $c, model_definition: $m, activate: true}' >"$work/req.json"
code=$(curl -s -o "$work/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $alice" \
	--data-binary @"$work/req.json" "$base/experiments")
eq "alice creates an experiment" 200 "$code"
exp=$(body .id)

BASE_URL=http://127.0.0.1:$port PW_MODULES=$mods CHROMIUM=$chromium \
	PROFILE_DIR=$work/chromium-profile ARTIFACTS=$artifacts EXP_ID=$exp \
	ALICE_USER=$alice_user ALICE_PW=alice-secret-1 BOB_USER=$bob BOB_PW=bob-secret-22 TRIALS=$trials STEPS=$steps \
	HOLD_FILE=$work/hold BULK=$bulk \
	MODEL_TGZ_B64=$(base64 -w0 "$work/model.tgz") \
	web_node_tap 540 "$srcdir/tests/web/ui.mjs" "$work"
check "screenshots saved" test -s "$artifacts/experiment-1280.png" -a -s "$artifacts/experiment-800.png"
stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
