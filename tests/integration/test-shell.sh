#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Shell tasks (det shell) on the local resource manager of a real det-master:
# start --detach gives a RUNNING task whose sshd (run as the owner) registers
# its port; `det shell open ID -- CMD` reaches it with ssh through the
# master's det-tcp tunnel (this machine's hostname, the owner's uid); the
# ssh-key answer holds the owner's key and the pinned host key; plain HTTP
# never reaches the sshd; hostile create requests are refused; kill ends it.
set -u
. "$(dirname "$0")/master-lib.sh"
det=${DET_BIN:-$builddir/cli/det}
export DET_MASTER=unix:$work/m.sock DET_AUTH_FILE=$work/auth.json
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null || ! command -v ssh-keygen >/dev/null; then
	echo "1..0 # SKIP needs sshd, ssh and ssh-keygen (openssh-server, openssh-client)"
	exit 0
fi

start_master
check "master starts" test -n "$port"
# scripts/install-deps installs openssh-server with no service started (policy-rc.d);
# where no init system runs one, nothing may listen on port 22.
if [ ! -d /run/systemd/system ] && command -v ss >/dev/null; then
	check "no system sshd listens on port 22" test -z "$(ss -Hltn 'sport = :22')"
fi

# --- hostile create requests: nothing runs ---
eq "a shell with an argv → 400" 400 "$(sock POST /tasks '{"kind":"shell","argv":["sh"]}')"
eq "a shell with environment → 400" 400 \
	"$(sock POST /tasks '{"kind":"shell","environment":{"environment_variables":["A=b"]}}')"
eq "an unknown kind → 400" 400 "$(sock POST /tasks '{"kind":"tensorboard"}')"
sock GET "/tasks?kind=shell" >/dev/null
eq "... no shell task was made" 0 "$(body '.tasks | length')"

# --- start, open, kill ---
out=$("$det" -o json shell start --detach)
eq "det shell start --detach exits 0" 0 $?
id=$(jq -r .id <<<"$out")
eq "... a shell task" shell "$(jq -r .kind <<<"$out")"
wait_task_state "$id" RUNNING
eq "it runs" RUNNING "$(body .task.state)"

eq "GET /tasks/ID/ssh-key → 200" 200 "$(sock GET "/tasks/$id/ssh-key")"
check "... a private key" grep -q "BEGIN OPENSSH PRIVATE KEY" <(body .private_key)
check "... the host's ed25519 public key" grep -q "^ssh-ed25519 " <(body .host_public_key)
eq "... logged in as the owner" "$(id -un)" "$(body .user)"
check "the kept keys are the master's only" \
	test "$(stat -c %a "$work/state/task-logs/task-$id.ssh")" = 600

out=$(timeout 120 "$det" shell open "$id" -- hostname 2>"$work/open.err")
eq "det shell open ID -- hostname exits 0" 0 $?
eq "... prints this machine's hostname through the tunnel" "$(hostname)" "$out"
[ "$out" = "$(hostname)" ] || cat "$work/open.err" >&2
eq "det shell open ID -- id -u prints the owner's uid" "$(id -u)" \
	"$(timeout 120 "$det" shell open "$id" -- id -u 2>/dev/null)"
# shellcheck disable=SC2016 # expanded by the session's shell
eq "a session sees the task's DET_TASK_ID (sshd_config SetEnv)" "$id" \
	"$(timeout 120 "$det" shell open "$id" -- 'echo $DET_TASK_ID' 2>/dev/null)"
eq "a remote command's exit code comes back" 7 \
	"$(timeout 120 "$det" shell open "$id" -- exit 7 >/dev/null 2>&1; echo $?)"

# A det shell open told to end (SIGTERM) ends its ssh and removes the key files.
export TMPDIR=$work/tmp
mkdir -m 0700 "$TMPDIR"
"$det" shell open "$id" -- sleep 300 >/dev/null 2>&1 &
opener=$!
for _ in $(seq 600); do
	compgen -G "$TMPDIR/det-shell-*/key" >/dev/null && break
	sleep 0.1
done
sleep 1
kill -TERM "$opener"
wait "$opener"
check "det shell open ended by SIGTERM leaves no key file behind" \
	test -z "$(ls -A "$TMPDIR")"
unset TMPDIR
eq "plain HTTP to a shell's /proxy/ID/ → 400 (never relayed to sshd)" 400 \
	"$(curl -s -o "$work/body" -w '%{http_code}' --unix-socket "$work/m.sock" "http://localhost/proxy/$id/")"
eq "a det-tcp upgrade of a missing task → 404" 404 \
	"$(curl -s -o "$work/body" -w '%{http_code}' --unix-socket "$work/m.sock" \
		-H 'Connection: Upgrade' -H 'Upgrade: det-tcp' "http://localhost/proxy/99999/")"

"$det" shell list >"$work/list"
check "det shell list shows it" grep -q "RUNNING" "$work/list"
eq "det -o json shell list" "$id" "$("$det" -o json shell list | jq -r '.[0].id // .[0].task_id' | sed 's/^task-//')"

# This master's sshd: its launcher (the parent) has this task's id and this master.
sshd_pid=
for p in $(pgrep -f 'det-shell-.*/sshd_config'); do
	pp=$(ps -o ppid= -p "$p" | tr -d ' ')
	tr '\0' '\n' <"/proc/$pp/environ" 2>/dev/null | grep -qx "DET_TASK_ID=$id" &&
		tr '\0' '\n' <"/proc/$pp/environ" | grep -q "^DET_MASTER=.*:$port\$" && sshd_pid=$p
done
check "its sshd's environment holds no key and no task token" \
	test -z "$(tr '\0' '\n' <"/proc/${sshd_pid:-0}/environ" | grep -E '^DET_(SHELL_|TASK_TOKEN)')"
check "its sshd runs as the owner" test "$(ps -o uid= -p "${sshd_pid:-0}" | tr -d ' ')" = "$(id -u)"
"$det" shell kill "$id" >/dev/null
eq "det shell kill exits 0" 0 $?
wait_task_state "$id" TERMINATED
eq "kill ends it" "TERMINATED killed" "$(body '.task | "\(.state) \(.end_reason)"')"
gone=0
for _ in $(seq 600); do
	kill -0 "${sshd_pid:-0}" 2>/dev/null || { gone=1; break; }
	sleep 0.1
done
eq "... and its sshd is gone" 1 "$gone"
eq "the tunnel of an ended shell → 502" 502 \
	"$(curl -s -o "$work/body" -w '%{http_code}' --unix-socket "$work/m.sock" \
		-H 'Connection: Upgrade' -H 'Upgrade: det-tcp' "http://localhost/proxy/$id/")"
eq "an ended shell's ssh-key → 409" 409 "$(sock GET "/tasks/$id/ssh-key")"
check "... and its kept keys are removed" test ! -e "$work/state/task-logs/task-$id.ssh"

# Without --detach, start opens the shell once it runs (here: a login shell reading
# an empty stdin, which ends at once).
timeout 120 "$det" shell start </dev/null >/dev/null 2>"$work/start.err"
eq "det shell start (attached) exits with the session's status" 0 $?
id2=$(sed -n 's/^det: shell //p' "$work/start.err")
sock GET "/tasks/$id2" >/dev/null
eq "... its shell goes on running" "shell RUNNING" "$(body '.task | "\(.kind) \(.state)"')"
"$det" shell kill "$id2" >/dev/null

stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
