#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The /proxy/<id>/ relay streams answers (doc/tasks.md): a 200 MiB body
# reaches its owner whole while the master's peak memory grows by far less;
# a first chunk reaches the client before the task sends the rest; a client
# that goes mid-body makes the master close the task's connection, and the
# master's open files come back to what they were, also when the task was
# silent at the time.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
need_root
need_det /usr/bin/python3
make_user U || exit 1
start_master
check "master starts" test -n "$port"

mkdir -m 1777 "$work/u"
cp "$srcdir/tests/security/proxy-stream-backend.py" "$work/u/backend.py"
chmod 0755 "$work/u/backend.py"
id=$(as_user "$U" env DET_MASTER="unix:$work/m.sock" "$det" -o json cmd run --detach \
	/usr/bin/python3 "$work/u/backend.py" "$work/u" | jq -r .id)
check "the owner starts a streaming task" test -n "$id"
wait_for 60 test -e "$work/u/ready.$id"
check "... it registers its port" test -e "$work/u/ready.$id"
url=http://localhost/proxy/$id

hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$master_pid/status"; }
nfd() { ls "/proc/$master_pid/fd" | wc -l; }
fds_back() { [ "$(nfd)" -le "$fds" ]; } # the master holds no more files than before

# A small request first, so the master's lazy allocations are behind us.
eq "a short answer relays" 200 "$(as_user "$U" curl -s -o /dev/null -w '%{http_code}' \
	--unix-socket "$work/m.sock" "$url/first-then-rest" -m 60)"

# 200 MiB: every byte, in bounded memory.
before=$(hwm)
sum=$(as_user "$U" curl -s -m 300 --unix-socket "$work/m.sock" "$url/big" | sha256sum | cut -d' ' -f1)
after=$(hwm)
eq "a 200 MiB answer arrives whole (checksum)" "$(cat "$work/u/big.sha256")" "$sum"
check "... relayed whole while the master's peak memory grew by less than 64 MiB ($before -> $after kB)" \
	test "$sum" = "$(cat "$work/u/big.sha256")" -a -n "$before" -a -n "$after" -a $((after - before)) -lt 65536
code=$(as_user "$U" curl -s -o /dev/null -D "$work/u/hdr" -w '%{http_code}' -m 300 \
	--unix-socket "$work/m.sock" "$url/big")
eq "... again, with the task's Content-Length" "200 209715200" \
	"$code $(tr -d '\r' <"$work/u/hdr" | sed -n 's/^[Cc]ontent-[Ll]ength: //p')"

# The first chunk before the rest: when the client reads the first line, the
# task has not yet written the marker it writes before sending the rest.
rm -f "$work/u/rest-sent"
got=$(as_user "$U" curl -sN -m 60 --unix-socket "$work/m.sock" "$url/first-then-rest" | {
	read -r line
	if [ -e "$work/u/rest-sent" ]; then echo "$line after-rest"; else echo "$line before-rest"; fi
	cat
})
eq "a first chunk reaches the client before the task sends the rest" \
	"first-chunk before-rest
the-rest" "$got"
check "... the body without a length came chunked" bash -c \
	"curl -s -D - -o /dev/null -m 60 --unix-socket '$work/m.sock' '$url/first-then-rest' |
	 tr -d '\r' | grep -qi '^Transfer-Encoding: chunked'"

# A client that goes mid-body: the task's connection is closed, the master's
# files come back to what they were.
fds=$(nfd)
rm -f "$work/u/closed"
as_user "$U" curl -s -m 120 --unix-socket "$work/m.sock" "$url/endless" | head -c 10000000 |
	wc -c >"$work/u/endless.n"
eq "a client reads 10 MB of an endless answer, then goes" 10000000 "$(cat "$work/u/endless.n")"
wait_for 60 test -e "$work/u/closed"
check "... the task's connection is closed (within 60 s)" test -e "$work/u/closed"
wait_for 60 fds_back
check "... the master's open files are back to $fds (now $(nfd))" fds_back

# A client that goes while the task is silent: the same.
fds=$(nfd)
rm -f "$work/u/silent-closed"
# setpriv itself (as_user's), so that $! is curl's pid and not a subshell's.
setpriv --reuid="$U" --regid="$U" --init-groups --reset-env -- \
	curl -sN -m 120 --unix-socket "$work/m.sock" "$url/silent" >"$work/u/silent.out" &
cpid=$!
wait_for 60 grep -q first-chunk "$work/u/silent.out" 2>/dev/null
eq "a client has the first chunk of a silent answer" first-chunk "$(cat "$work/u/silent.out")"
kill "$cpid"
wait "$cpid" 2>/dev/null
wait_for 60 test -e "$work/u/silent-closed"
check "... it goes: the task's connection is closed (within 60 s)" test -e "$work/u/silent-closed"
wait_for 60 fds_back
check "... the master's open files are back to $fds (now $(nfd))" fds_back

# The same over TCP, twice, in parallel: both whole.
admin_login atok
pids=
for i in 1 2; do
	curl -s -m 300 -H "Authorization: Bearer $atok" "http://127.0.0.1:$port/proxy/$id/big" |
		sha256sum | cut -d' ' -f1 >"$work/tcp.$i" &
	pids="$pids $!"
done
# shellcheck disable=SC2086 # one pid a word
wait $pids
eq "two 200 MiB answers over TCP at once arrive whole" \
	"$(cat "$work/u/big.sha256") $(cat "$work/u/big.sha256")" "$(cat "$work/tcp.1") $(cat "$work/tcp.2")"
eq "the master still answers" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -m 30 "http://127.0.0.1:$port/api/v1/health")"

as_user "$U" curl -s -o /dev/null --unix-socket "$work/m.sock" -X POST \
	"http://localhost/api/v1/tasks/$id/kill"
stop_master TERM
check "the master stops cleanly" test $? = 0
echo "1..$tap_n"
exit $((tap_failed > 0))
