#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP: the compare view, the master-paged trials and checkpoints tables and
# the password page in a real browser (tests/web/views.mjs, Debian's chromium
# driven by playwright-core) against a real det-master whose local resource
# manager runs tests/integration/fake-launch.sh: a finished random search of
# 12 trials (3 checkpoints each, one with real files for the tar download),
# and a user who changes their password on the page, logs out and logs in
# with the new one. Skips when chromium or node/npm are missing.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$srcdir/tests/web/web-lib.sh"

web_start_master
eq "a user for the password page" 200 "$(sock POST /users '{"username": "pat", "password": "pat-old-pw-1"}')"

cat >"$work/exp.yaml" <<'YAML'
name: views-web
entrypoint: x
hyperparameters:
  lr: {type: log, minval: -5, maxval: -1}
  layers: {type: int, minval: 1, maxval: 100}
  optimizer: sgd
searcher: {name: random, metric: val_loss, max_trials: 12, max_concurrent_trials: 4, max_length: {batches: 3}}
checkpoint_storage: {save_trial_best: 100, save_trial_latest: 100}
YAML
exp=$(create_exp "$work/exp.yaml")
check "the experiment completes" wait_state "$exp" COMPLETED 120
sock GET "/experiments/$exp/checkpoints?order_by=uuid&limit=1" >/dev/null
ck=$(body '.checkpoints[0].uuid')
ckpath=$(body '.checkpoints[0].path')
mkdir -p "$ckpath" && printf 'weights\n' >"$ckpath/w.bin"
check "one checkpoint has real files" test -f "$ckpath/w.bin"

BASE_URL=http://127.0.0.1:$port PW_MODULES=$mods CHROMIUM=$chromium \
	PROFILE_DIR=$work/chromium-profile ARTIFACTS=$artifacts EXP_ID=$exp CKPT=$ck ADMIN_PW=$pw \
	web_node_tap 300 "$srcdir/tests/web/views.mjs" "$work"
eq "the old password no longer logs in" 401 "$(http POST /auth/login '{"username": "pat", "password": "pat-old-pw-1"}')"
eq "the new one does" 200 "$(http POST /auth/login '{"username": "pat", "password": "pat-new-pw-2"}')"
stop_master
echo "1..$tap_n"
[ "$tap_failed" = 0 ]
