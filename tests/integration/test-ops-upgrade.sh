#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Upgrade: det-master opens a store written by the previous release
# (tests/data/store-e46a92f.sql, schema 4, made by the det-master of commit
# e46a92f), migrates it to the current schema in place, and serves what it
# held: the admin's login, both experiments with their states, trials,
# metrics, checkpoints and logs, and the reason of the one in ERROR. A
# backup of the migrated store passes SQLite's integrity check.
set -u
. "$(dirname "$0")/master-lib.sh"
need_sqlite3
echo "1..16"
fixture=$srcdir/tests/data/store-e46a92f.sql
admin_password=gcXYiQvmWPpybZZDUG2Q # the fixture's admin, as the old master made it
mkdir -m 0700 "$work/state"
sqlite3 "$work/state/master.db" <"$fixture"
eq "the fixture is a schema 4 store" 4 "$(sqlite3 "$work/state/master.db" 'PRAGMA user_version')"
latest=$(find "$srcdir/master/schema" -name '[0-9][0-9][0-9]_*.sql' | wc -l)

start_master
check "det-master starts on the old store" test -n "$port"
[ -n "$port" ] || sed 's/^/#   /' "$work/master.err" >&2
eq "the store is migrated to the current schema ($latest)" "$latest" \
	"$(sqlite3 "$work/state/master.db" 'PRAGMA user_version')"

eq "the admin logs in with the password from before the upgrade" 200 \
	"$(http POST /auth/login "{\"username\": \"admin\", \"password\": \"$admin_password\"}")"
tok=$(body .token)
eq "its token works" admin "$(http GET /me '' "$tok" >/dev/null && body .username)"

http GET /experiments '' "$tok" >/dev/null
eq "both experiments are listed" "1 COMPLETED upgraded-random,2 ERROR upgraded-error" \
	"$(jq -r '[.experiments | sort_by(.id)[] | "\(.id) \(.state) \(.name)"] | join(",")' <"$work/body")"
http GET /experiments/1/trials '' "$tok" >/dev/null
eq "experiment 1: both trials COMPLETED at 3 steps" "COMPLETED 3,COMPLETED 3" \
	"$(jq -r '[.trials[] | "\(.state) \(.steps_completed)"] | join(",")' <"$work/body")"
t1=$(body '.trials[0].id')
ck=$(body '.trials[0].latest_checkpoint')
http GET "/trials/$t1/metrics?group=validation" '' "$tok" >/dev/null
eq "its validation metrics are there" 3 "$(jq '[.metrics[] | select(.group == "validation")] | length' <"$work/body")"
eq "its latest checkpoint is registered" 200 "$(http GET "/checkpoints/$ck" '' "$tok")"
eq "... COMPLETED at step 3" "COMPLETED 3" "$(body '"\(.state) \(.steps_completed)"')"
http GET "/trials/$t1/logs" '' "$tok" >/dev/null
eq "its log line is there" "trial $t1 starts at 0" "$(body '.logs[0].line')"
http GET /experiments/2/trials '' "$tok" >/dev/null
eq "experiment 2: its trial kept the old end_reason" "ERROR TASK_EXITED" \
	"$(body '.trials[0] | "\(.state) \(.end_reason)"')"
t2=$(body '.trials[0].id')
http GET /experiments/2 '' "$tok" >/dev/null
eq "... and the experiment says why" "trial $t2: TASK_EXITED" "$(body .experiment.end_reason)"

# A new experiment on the upgraded store runs (fake launcher).
cat >"$work/new.yaml" <<'YAML'
name: after-upgrade
entrypoint: python3 train.py
searcher: {name: single, metric: val_loss, max_length: {batches: 2}}
YAML
id=$(create_exp "$work/new.yaml")
eq "a new experiment gets the next id" 3 "$id"
check "... and completes" wait_state "$id" COMPLETED 60

"$master_bin" --state-dir "$work/state" --backup "$work/backup.db" >/dev/null 2>&1
eq "a backup of the migrated store passes quick_check" ok \
	"$(sqlite3 "$work/backup.db" 'PRAGMA quick_check' 2>&1)"
