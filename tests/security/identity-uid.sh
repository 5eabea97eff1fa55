#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Identity by uid: a Unix-socket (or MUNGE) peer is the det user bound to its
# uid, never one that merely has its name; a non-root account named "admin"
# is not det admin; extra admins come from the config's admins list; a
# det-master run by an ordinary user serves only that user.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root

made_admin=
id_cleanup() {
	[ -n "$u1_pid" ] && kill -9 "$u1_pid" 2>/dev/null
	[ -n "$made_admin" ] && passwd_retry userdel --remove admin 2>/dev/null
	[ -f "$work/munge/pid" ] && kill "$(cat "$work/munge/pid")" 2>/dev/null
	sec_cleanup
}
u1_pid=
trap id_cleanup EXIT

make_user U1 U2 || exit 1
uid1=$(id -u "$U1")
start_master

# run_as USER COMMAND...: as_user for accounts whose group has another name
run_as() {
	local u=$1
	shift
	setpriv --reuid="$(id -u "$u")" --regid="$(id -g "$u")" --init-groups --reset-env -- "$@"
}
ucall_as=run_as # usock and ucall (security-lib.sh) as these accounts

# 1. The socket: owned by the master's user, open to every local user, who
# is identified by SO_PEERCRED.
eq "the socket is owned by root, mode 0666" "root 666" "$(stat -c '%U %a' "$work/m.sock")"
eq "a second user's socket request succeeds" 200 "$(usock "$U1" GET /me)"
eq "... as that user, not root" "$U1 false $uid1" "$(body '"\(.username) \(.admin) \(.uid)"')"
eq "the same user again: the same det user" "$(body .id)" "$(usock "$U1" GET /me >/dev/null; body .id)"

# 2. A det user created with a password (no uid) is never adopted by a Unix
# account of the same name.
pw=$(cat "$work/state/admin-password")
tok=$(curl -s -X POST -d "{\"username\": \"admin\", \"password\": \"$pw\"}" "$base/auth/login" | jq -r .token)
eq "admin creates a password user named like the second account" 200 \
	"$(http POST /users "{\"username\": \"$U2\", \"password\": \"pw-of-the-tcp-user\"}" "$tok")"
tcp_id=$(body .id)
eq "the second account on the socket" 200 "$(usock "$U2" GET /me)"
eq "... gets its own det user with a distinct name" "$U2-uid$(id -u "$U2")" "$(body .username)"
check "... not the password user's row" test "$(body .id)" != "$tcp_id"

# 3. A Unix account named admin is not the built-in admin.
if ! getent passwd admin >/dev/null; then
	if passwd_retry useradd --no-create-home --home-dir /nonexistent --shell /bin/sh --no-user-group \
		--gid nogroup admin 2>/dev/null; then
		made_admin=1
	fi
fi
auid=$(id -u admin 2>/dev/null)
if [ -n "$auid" ] && [ "$auid" != 0 ]; then
	eq "a Unix account named admin on the socket" 200 "$(usock admin GET /me)"
	eq "... is an ordinary det user bound to its uid" "admin-uid$auid false $auid" \
		"$(body '"\(.username) \(.admin) \(.uid)"')"
	eq "... that cannot create users" 403 "$(usock admin POST /users '{"username": "x1", "password": "12345678"}')"
else
	ok 0 "# SKIP no non-root account named admin can be made"
	ok 0 "# SKIP no non-root account named admin can be made"
	ok 0 "# SKIP no non-root account named admin can be made"
fi
eq "root on the socket is still the built-in admin" "admin true 0" \
	"$(sock GET /me >/dev/null; body '"\(.username) \(.admin) \(.uid)"')"

# 4. MUNGE: the credential's uid is the det user (when munged is installed).
if command -v munged >/dev/null && command -v mungekey >/dev/null; then
	mkdir -p "$work/munge" && chmod 0755 "$work/munge"
	mungekey --create --keyfile="$work/munge/key" >/dev/null 2>&1
	munged --force --key-file="$work/munge/key" --socket="$work/munge/sock" \
		--pid-file="$work/munge/pid" --seed-file="$work/munge/seed" \
		--log-file="$work/munge/log" 2>/dev/null
	for _ in $(seq 600); do [ -S "$work/munge/sock" ] && break; sleep 0.1; done
	stop_master
	start_master --munge-socket "$work/munge/sock"
	cred=$(as_user "$U1" munge -S "$work/munge/sock" -n)
	code=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Munge $cred" "$base/me")
	eq "a second user's MUNGE credential is that user" "200 $U1 $uid1" \
		"$code $(body '"\(.username) \(.uid)"')"
else
	ok 0 "# SKIP munged is not installed"
fi

# 5. The config's admins list (a name, resolved to its uid at start).
stop_master
printf 'admins: [%s]\n' "$U1" >"$work/master.yaml"
start_master --config "$work/master.yaml"
eq "a user in the admins list is admin" "200 true" "$(usock "$U1" GET /me) $(body .admin)"
eq "... one not in it is not" "200 false" "$(usock "$U2" GET /me) $(body .admin)"
printf 'admins: [no-such-account-%s]\n' "$$" >"$work/bad.yaml"
"$master_bin" --config "$work/bad.yaml" --state-dir "$work/state" --listen "" \
	--socket "$work/bad.sock" >/dev/null 2>"$work/bad.err"
rc=$?
eq "an unknown account in admins stops the master with a message" "failed 1" \
	"$([ "$rc" != 0 ] && echo failed) $(grep -c 'admins\[0\]: no-such-account.*no such account' "$work/bad.err")"
stop_master

# 6. A det-master run by an ordinary user serves only that user.
mkdir -p "$work/u1" && chown "$U1:" "$work/u1" && chmod 0755 "$work/u1"
# start_u1 STATE-DIR [ARGS...]: det-master as the first user; sets u1_pid, u1_port
start_u1() {
	local state=$1
	shift
	: >"$work/u1.out"
	as_user "$U1" "$master_bin" --listen 127.0.0.1:0 --socket "$work/u1/m.sock" \
		--state-dir "$state" --launcher "$srcdir/tests/integration/fake-launch.sh" "$@" \
		>>"$work/u1.out" 2>>"$work/u1.err" &
	u1_pid=$!
	u1_port=
	for _ in $(seq 600); do
		u1_port=$(sed -n 's/^det-master: listening on port //p' "$work/u1.out")
		[ -n "$u1_port" ] && [ -S "$work/u1/m.sock" ] && break
		sleep 0.1
	done
}
stop_u1() {
	kill "$u1_pid" 2>/dev/null
	wait "$u1_pid" 2>/dev/null
	u1_pid=
}
start_u1 "$work/u1/state"
ok0() { [ -n "$u1_port" ]; }
check "the user's own det-master starts" ok0
u1sock() { ucall_sock=$work/u1/m.sock usock "$@"; } # USER METHOD PATH [BODY]
eq "its user on its socket: the built-in admin, bound to that uid" "200 admin true $uid1" \
	"$(u1sock "$U1" GET /me) $(body '"\(.username) \(.admin) \(.uid)"')"
eq "another user on its socket is refused" 403 "$(u1sock "$U2" GET /me)"
check "... with a message that says why" grep -q "serves only that Unix user" "$work/body"
eq "root on its socket is refused too" 403 "$(u1sock root GET /me)"
eq "its admin creates a password user" 200 \
	"$(u1sock "$U1" POST /users '{"username": "carol", "password": "carol-secret"}')"
ctok=$(curl -s -X POST -d '{"username": "carol", "password": "carol-secret"}' \
	"http://127.0.0.1:$u1_port/api/v1/auth/login" | jq -r '.token // empty')
eq "a det user not bound to its uid is refused over TCP" 403 \
	"$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ctok" "http://127.0.0.1:$u1_port/api/v1/me")"
u1pw=$(cat "$work/u1/state/admin-password")
atok=$(curl -s -X POST -d "{\"username\": \"admin\", \"password\": \"$u1pw\"}" \
	"http://127.0.0.1:$u1_port/api/v1/auth/login" | jq -r '.token // empty')
eq "its admin over TCP is accepted" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $atok" "http://127.0.0.1:$u1_port/api/v1/me")"
if [ -S "$work/munge/sock" ]; then
	cred=$(as_user "$U2" munge -S "$work/munge/sock" -n)
	stop_u1
	start_u1 "$work/u1/state" --munge-socket "$work/munge/sock"
	eq "another user's MUNGE credential is refused" 403 \
		"$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Munge $cred" "http://127.0.0.1:$u1_port/api/v1/me")"
else
	ok 0 "# SKIP munged is not installed"
fi
stop_u1

# 7. A store made by a root master, then run by an ordinary user: its admin is
# rebound to that user, whose experiments run (as that user).
"$master_bin" --listen "" --socket "$work/root2.sock" --state-dir "$work/u1/state2" \
	--launcher /bin/false >"$work/root2.out" 2>&1 &
r2=$!
for _ in $(seq 600); do [ -S "$work/root2.sock" ] && break; sleep 0.1; done
kill "$r2" && wait "$r2"
chown -R "$U1:" "$work/u1/state2"
start_u1 "$work/u1/state2"
eq "the user's master on root's store: the admin is bound to the user" "200 admin $uid1" \
	"$(u1sock "$U1" GET /me) $(body '"\(.username) \(.uid)"')"
jq -n --rawfile c <(printf 'name: mine\nentrypoint: x\nsearcher: {name: single, metric: m, max_length: {batches: 1}}\n') \
	'{config: $c, activate: true}' >"$work/mine.json"
chmod 0644 "$work/mine.json"
eq "the user creates an experiment on its own master" 200 \
	"$(u1sock "$U1" POST /experiments "@$work/mine.json")"
eid=$(body .id)
u1done() {
	u1sock "$U1" GET "/experiments/$eid" >/dev/null
	[ "$(body .experiment.state)" = COMPLETED ]
}
for _ in $(seq 600); do u1done && break; sleep 0.1; done
check "... and it runs to completion (within 60 s)" u1done
stop_u1

echo "1..$tap_n"
exit $((tap_failed > 0))
