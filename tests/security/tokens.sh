#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Tokens at rest and in time, against a real det-master: the database holds
# only SHA-256 hashes of tokens (also after migrating plaintext rows of an
# older database), user tokens expire after token_lifetime_seconds, trial and
# allocation tokens stop working when their trial / experiment ends, and the
# database and state directory are private (0600/0700) even when they existed
# with wider modes.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"

if ! command -v sqlite3 >/dev/null || ! command -v sha256sum >/dev/null; then
	echo "1..0 # SKIP sqlite3 and sha256sum are needed (scripts/debian-packages.txt)"
	exit 0
fi
db=$work/state/master.db
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
mode() { stat -c %a "$1"; }

# The local manager's tasks: fake-launch.sh, after noting the allocation token.
cat >"$work/spy-launch.sh" <<EOF
#!/bin/bash
printf '%s\n' "\$DET_ALLOCATION_TOKEN" >>"$work/alloc-tokens"
exec "$srcdir/tests/integration/fake-launch.sh" "\$@"
EOF
chmod 0755 "$work/spy-launch.sh"
launcher=$work/spy-launch.sh

# --- an older (schema 2) database with plaintext tokens is converted ---
mkdir -m 0755 "$work/state"
old=$(printf 'a%.0s' $(seq 64))
{
	grep -v '^--' "$srcdir/master/schema/001_init.sql"
	grep -v '^--' "$srcdir/master/schema/002_allocation_events.sql"
	echo "PRAGMA user_version=2;"
	echo "INSERT INTO users (id, name, admin, uid, created_at) VALUES (7, 'carol', 0, NULL, strftime('%s','now'));"
	echo "INSERT INTO tokens (token, kind, user_id, created_at) VALUES ('$old', 'user', 7, strftime('%s','now'));"
} | sqlite3 "$db"
chmod 0644 "$db"

start_master
check "master starts on a schema 2 database" test -n "$port"
eq "a token of the old database still works" carol "$(http GET /me '' "$old" >/dev/null; body .username)"
eq "its row now holds the token's hash" "$(sha "$old")" \
	"$(sqlite3 "$db" "SELECT token FROM tokens WHERE user_id = 7")"
eq "the converted user token got an expiry" 1 \
	"$(sqlite3 "$db" "SELECT count(*) FROM tokens WHERE user_id = 7 AND expires_at > created_at")"

# --- file modes ---
eq "state directory narrowed to 0700" 700 "$(mode "$work/state")"
eq "existing master.db narrowed to 0600" 600 "$(mode "$db")"
stop_master
chmod 0755 "$work/state"
chmod 0644 "$db"
[ -e "$db-wal" ] || : >"$db-wal"
chmod 0666 "$db-wal"
start_master
http GET /health >/dev/null
eq "state directory 0700 again after a restart" 700 "$(mode "$work/state")"
eq "master.db 0600 again after a restart" 600 "$(mode "$db")"
eq "master.db-wal 0600" 600 "$(mode "$db-wal")"
[ -e "$db-shm" ]
ok $? "master.db-shm exists while the master runs"
eq "master.db-shm 0600" 600 "$(mode "$db-shm")"
stop_master
rm -rf "$work/state2"
"$master_bin" --listen "" --socket "" --state-dir "$work/state2" --launcher /bin/false \
	>"$work/fresh.out" 2>&1 &
fresh_pid=$!
for _ in $(seq 600); do
	[ -e "$work/state2/admin-password" ] && break
	sleep 0.1
done
eq "a fresh state directory is 0700" 700 "$(mode "$work/state2")"
eq "a fresh master.db is 0600" 600 "$(mode "$work/state2/master.db")"
kill "$fresh_pid"
wait "$fresh_pid" 2>/dev/null

# --- tokens at rest ---
start_master
admin_login tok
eq "login gives a 64-character token" 64 "${#tok}"
eq "the token works" admin "$(http GET /me '' "$tok" >/dev/null; body .username)"
eq "no row of tokens is the token" 0 "$(sqlite3 "$db" "SELECT count(*) FROM tokens WHERE token = '$tok'")"
eq "its row is its SHA-256" 1 "$(sqlite3 "$db" "SELECT count(*) FROM tokens WHERE token = '$(sha "$tok")'")"
check "a user token has an expiry about 7 days ahead" test \
	"$(sqlite3 "$db" "SELECT CAST(expires_at - created_at AS INTEGER) FROM tokens WHERE token = '$(sha "$tok")'")" = 604800
stop_master
start_master
eq "the token works after a master restart (hash loaded)" admin \
	"$(http GET /me '' "$tok" >/dev/null; body .username)"

# --- trial and allocation tokens ---
cat >"$work/slow.yaml" <<'YAML'
name: slow
entrypoint: x
hyperparameters: {lr: 0.1}
searcher: {name: single, metric: val_loss, max_length: {batches: 1000}}
environment: {environment_variables: [FAKE_STEPS=1000, FAKE_SLEEP=0.2]}
YAML
e=$(create_exp "$work/slow.yaml")
wait_value "/experiments/$e/trials" '.trials | length' 1
t=$(body '.trials[0].id')
eq "the trial is claimed" 1 "$(body '.trials | length')"
alloc=$(head -n 1 "$work/alloc-tokens" 2>/dev/null)
eq "the task got a 64-character allocation token" 64 "${#alloc}"
# The owner claims the task again (a restart): a fresh trial token.
sock POST "/experiments/$e/claim" '{"array_task": 0}' >/dev/null
ttok=$(body .token)
eq "the restart claim hands out the same trial" "$t" "$(body .trial_id)"
eq "the trial token works while the trial runs" 200 \
	"$(http GET "/trials/$t/signals?timeout_seconds=0" '' "$ttok")"
eq "the allocation token works while the experiment runs" 200 \
	"$(http POST "/experiments/$e/claim" '{"array_task": 0}' "$alloc")"
n=$(sqlite3 "$db" "SELECT count(*) FROM tokens WHERE token IN ('$ttok', '$alloc')")
eq "trial and allocation tokens are not in the database" 0 "$n"
eq "experiments.alloc_token holds nothing" 0 \
	"$(sqlite3 "$db" "SELECT count(*) FROM experiments WHERE alloc_token IS NOT NULL")"
for f in "$db" "$db-wal"; do
	[ -e "$f" ] && grep -c -a -F -e "$tok" -e "$ttok" -e "$alloc" "$f"
done >"$work/grep.out"
eq "no token appears in master.db or its WAL" 0 "$(awk '{s += $1} END {print s + 0}' "$work/grep.out")"
# After a master restart only hashes are left: the trial's next claim gets a
# new token, the old one stops working; the tasks' allocation token goes on.
stop_master
start_master
sock POST "/experiments/$e/claim" '{"array_task": 0}' >/dev/null
ttok2=$(body .token)
eq "after a master restart the claim hands out the same trial" "$t" "$(body .trial_id)"
check "with a new token" test "${#ttok2}" = 64 -a "$ttok2" != "$ttok"
eq "the new trial token works" 200 "$(http GET "/trials/$t/signals?timeout_seconds=0" '' "$ttok2")"
eq "the trial token from before the restart is refused" 401 \
	"$(http GET "/trials/$t/signals?timeout_seconds=0" '' "$ttok")"
eq "the allocation token from before the restart still works" 200 \
	"$(http POST "/experiments/$e/claim" '{"array_task": 0}' "$alloc")"
eq "experiments.alloc_token still holds nothing" 0 \
	"$(sqlite3 "$db" "SELECT count(*) FROM experiments WHERE alloc_token IS NOT NULL")"
ttok=$ttok2
sock POST "/experiments/$e/kill" >/dev/null
check "the killed experiment ends" wait_state "$e" CANCELED 60
eq "the trial token is refused after its trial ended" 401 \
	"$(http GET "/trials/$t/signals?timeout_seconds=0" '' "$ttok")"
body .error.message | grep -q revoked
ok $? "the refusal says the token was revoked"
eq "the allocation token is refused after the experiment ended" 401 \
	"$(http POST "/experiments/$e/claim" '{"array_task": 0}' "$alloc")"
stop_master

# --- expiry ---
echo 'token_lifetime_seconds: 2' >"$work/short.yaml"
start_master --config "$work/short.yaml"
http POST /auth/login "{\"username\":\"admin\",\"password\":\"$pw\"}" >/dev/null
short=$(body .token)
eq "login with a short lifetime gives a token" 64 "${#short}"
code=
for _ in $(seq 600); do
	code=$(http GET /me '' "$short")
	[ "$code" = 401 ] && break
	sleep 0.1
done
eq "an expired token is refused" 401 "$code"
eq "the refusal says it expired" "token expired: log in again" "$(body .error.message)"
eq "the token from before (7 days) still works" admin "$(http GET /me '' "$tok" >/dev/null; body .username)"
stop_master

echo "1..$tap_n"
exit $((tap_failed > 0))
