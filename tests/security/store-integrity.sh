#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Store integrity (doc/security.md): det-master --backup copies a running
# master's database consistently and never overwrites; a damaged table page
# (here the experiments table's root page rewritten as an empty leaf, which a
# plain SELECT reads as "no experiments") makes det-master refuse to start
# with the path, SQLite's finding and the way out; the backup restores it.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
need_sqlite3
db=$work/state/master.db

start_master
check "master starts" test -n "$port"
# Enough experiments (with long descriptions) that their table spans pages.
desc=$(printf 'd%.0s' $(seq 400))
for i in $(seq 30); do
	printf 'name: e%s\ndescription: %s\nentrypoint: x\nsearcher: {name: single, metric: l, max_length: {batches: 1}}\n' \
		"$i" "$desc" >"$work/e.yaml"
	create_exp "$work/e.yaml" false >/dev/null
done
sock GET "/experiments?limit=100" >/dev/null
ids=$(body '[.experiments[].id] | sort | map(tostring) | join(",")')
eq "30 experiments created" 30 "$(body '.experiments | length')"

# --- backup while the master runs ---
"$master_bin" --state-dir "$work/state" --backup "$work/copy.db" >"$work/b.out" 2>"$work/b.err"
ok $? "det-master --backup succeeds while the master runs"
eq "the copy passes PRAGMA integrity_check" ok "$(sqlite3 "$work/copy.db" 'PRAGMA integrity_check')"
eq "the copy is private" 600 "$(stat -c %a "$work/copy.db")"
eq "the copy holds every experiment" 30 "$(sqlite3 "$work/copy.db" 'SELECT count(*) FROM experiments')"
sum=$(md5sum <"$work/copy.db")
"$master_bin" --state-dir "$work/state" --backup "$work/copy.db" >/dev/null 2>"$work/b.err"
check "a second backup onto the same file is refused" test $? != 0
grep -q "File exists" "$work/b.err"
ok $? "the refusal says the file exists"
eq "the refused backup left the file as it was" "$sum" "$(md5sum <"$work/copy.db")"
"$master_bin" --state-dir "$work/nowhere" --backup "$work/none.db" >/dev/null 2>&1
check "a backup of a missing database fails" test $? != 0
check "and leaves no file behind" test ! -e "$work/none.db"
sock GET /master >/dev/null
check "the master still answers after the backups" test "$(body .resource_manager)" = local

# --- a damaged page: refuse to start ---
stop_master TERM
ok $? "master stops"
root=$(sqlite3 "$db" "SELECT rootpage FROM sqlite_master WHERE name = 'experiments'")
psize=$(sqlite3 "$db" 'PRAGMA page_size')
# An empty table-leaf page header (type 13, no cells): structurally plausible,
# so reading the table gives no rows instead of an error.
printf '\015\000\000\000\000\020\000\000' |
	dd of="$db" bs=1 seek=$(((root - 1) * psize)) conv=notrunc status=none
timeout 60 "$master_bin" --listen 127.0.0.1:0 --socket "$work/m2.sock" --state-dir "$work/state" \
	--launcher "$srcdir/tests/integration/fake-launch.sh" >"$work/bad.out" 2>"$work/bad.err"
rc=$?
check "det-master refuses to start on a damaged database (rc $rc)" test "$rc" != 0 -a "$rc" != 124
grep -q "det-master: $db: the database is damaged" "$work/bad.err"
ok $? "the message names the database file"
grep -q "PRAGMA quick_check: .*never used" "$work/bad.err"
ok $? "the message quotes what SQLite found"
grep -q "det-master --backup" "$work/bad.err"
ok $? "the message says how to recover"
check "it did not listen" test ! -s "$work/bad.out"
sed 's/^/#   /' "$work/bad.err"

# --- restore the backup: the same experiments ---
rm -f "$db" "$db-wal" "$db-shm"
cp "$work/copy.db" "$db"
start_master
check "master starts on the restored copy" test -n "$port"
sock GET "/experiments?limit=100" >/dev/null
eq "the same experiments after the restore" "$ids" \
	"$(body '[.experiments[].id] | sort | map(tostring) | join(",")')"
stop_master TERM
ok $? "master stops"
echo "1..$tap_n"
exit $((tap_failed > 0))
