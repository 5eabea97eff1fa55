#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `det shell proxy ID` with an https:// master (doc/tasks.md, Shells): the
# det-tcp tunnel goes over TLS, verified against the CA file named by
# --cert-file (DET_MASTER_CERT_FILE), and reaches the shell's sshd (its SSH
# banner comes back); without the CA file it is refused with the CLI's usual
# message, and `det shell open` gets through over https as well.
set -u
. "$(dirname "$0")/master-lib.sh"
det=${DET_BIN:-$builddir/cli/det}
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null || ! command -v openssl >/dev/null; then
	echo "1..0 # SKIP needs sshd, ssh and openssl"
	exit 0
fi

# A CA and a certificate for 127.0.0.1.
make_test_pki
check "test certificates made" test -s "$pki/server.pem"
printf 'tls:\n  cert: %s\n  key: %s\n' "$pki/server.pem" "$pki/server.key" >"$work/tls.yaml"
start_master --config "$work/tls.yaml"
check "master starts with a certificate" test -n "$port"
url=https://127.0.0.1:$port

# The shell, started over the socket; then everything over https as its owner.
export DET_AUTH_FILE=$work/auth.json
id=$(DET_MASTER=unix:$work/m.sock "$det" -o json shell start --detach | jq -r .id)
check "a shell starts" test -n "$id"
for _ in $(seq 600); do
	sock GET "/tasks/$id" >/dev/null
	[ "$(body .task.state)" = RUNNING ] && break
	sleep 0.1
done
eq "it runs" RUNNING "$(body .task.state)"
printf '%s\n' "$(cat "$work/state/admin-password")" |
	"$det" -m "$url" --cert-file "$pki/ca.pem" user login --password-stdin admin >/dev/null 2>&1
eq "det logs in over https" 0 $?

# The client speaks first; sshd's banner is the first line back (the proxy
# retries while the sshd has not registered yet).
banner=$( (
	printf 'SSH-2.0-det-test\r\n'
	sleep 30
) | timeout 150 "$det" -m "$url" --cert-file "$pki/ca.pem" shell proxy "$id" 2>"$work/proxy.err" |
	head -n 1 | tr -d '\r')
check "det shell proxy over https reaches the sshd (banner: $banner)" \
	grep -q '^SSH-2.0-OpenSSH' <<<"$banner"
[ -n "$banner" ] || cat "$work/proxy.err" >&2
banner=$( (
	printf 'SSH-2.0-det-test\r\n'
	sleep 30
) | DET_MASTER=$url DET_MASTER_CERT_FILE=$pki/ca.pem timeout 150 "$det" shell proxy "$id" \
	2>/dev/null | head -n 1 | tr -d '\r')
check "... with DET_MASTER and DET_MASTER_CERT_FILE as well" grep -q '^SSH-2.0-OpenSSH' <<<"$banner"
timeout 60 "$det" -m "$url" shell proxy "$id" </dev/null >"$work/noca.out" 2>"$work/noca.err"
check "without the CA file: refused" test $? != 0
check "... the message says the certificate is not trusted" grep -q "not trusted" "$work/noca.err"
check "... and nothing came through" test ! -s "$work/noca.out"

out=$(timeout 150 "$det" -m "$url" --cert-file "$pki/ca.pem" shell open "$id" -- hostname \
	2>"$work/open.err")
eq "det shell open over https runs a command through the tunnel" "$(hostname)" "$out"
[ "$out" = "$(hostname)" ] || cat "$work/open.err" >&2

sock POST "/tasks/$id/kill" >/dev/null
stop_master TERM
echo "1..$tap_n"
exit $((tap_failed > 0))
