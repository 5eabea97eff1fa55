#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# det-master over HTTPS: a test CA and a certificate for 127.0.0.1 made with
# openssl; the master serves only TLS on its TCP port; det verifies the
# certificate against the CA file (--cert-file or DET_MASTER_CERT_FILE) and
# refuses the connection without it; the local resource manager hands the
# CA file to its tasks, and a real trial (det-launch and the Python Core API)
# reports over HTTPS.
set -u
. "$(dirname "$0")/../integration/master-lib.sh"

if ! command -v openssl >/dev/null; then
	echo "1..0 # SKIP openssl is needed (scripts/debian-packages.txt)"
	exit 0
fi
det_bin=$builddir/cli/det
export HOME=$work/home
mkdir -p "$HOME"
tls_cleanup() {
	cleanup_tasks
	cleanup
}
cleanup_tasks() { # det-launch leads its own process group
	for d in "$HOME"/.det-slurm/run/*-pid*; do
		[ -d "$d" ] && kill -9 -- "-${d##*-pid}" 2>/dev/null
	done
}
trap tls_cleanup EXIT

# --- a CA, a server certificate for 127.0.0.1, and an unrelated CA ---
make_test_pki ca other
check "test certificates made" test -s "$pki/server.pem"

cat >"$work/tls.yaml" <<EOF
tls:
  cert: $pki/server.pem
  key: $pki/server.key
  ca_file: $pki/ca.pem
EOF
launcher=$builddir/launcher/det-launch
start_master --config "$work/tls.yaml"
check "master starts with a certificate and prints its port" test -n "$port"
url=https://127.0.0.1:$port
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/ca.pem" "$url/health")
eq "HTTPS with the CA: /health answers" 200 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port/health")
check "plain HTTP to the TLS port gets no answer ($code)" test "$code" != 200
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/health")
check "HTTPS without the CA is refused by curl ($code)" test "$code" = 000

pw=$(cat "$work/state/admin-password")
printf '%s\n' "$pw" | "$det_bin" -m "$url" --cert-file "$pki/ca.pem" user login --password-stdin admin \
	>"$work/login.out" 2>&1
ok $? "det --cert-file: login over HTTPS"
eq "det --cert-file: whoami" admin \
	"$("$det_bin" -m "$url" --cert-file "$pki/ca.pem" -o json user whoami 2>&1 | jq -r .username)"
eq "DET_MASTER_CERT_FILE works the same" admin \
	"$(DET_MASTER_CERT_FILE=$pki/ca.pem "$det_bin" -m "$url" -o json user whoami 2>&1 | jq -r .username)"
"$det_bin" -m "$url" user whoami >"$work/noca.out" 2>&1
eq "det without the CA file: master unreachable (exit 3)" 3 "$?"
grep -q "not trusted" "$work/noca.out"
ok $? "and the message says the certificate is not trusted"
"$det_bin" -m "$url" --cert-file "$pki/other.pem" user whoami >"$work/other.out" 2>&1
eq "det with another CA's file: refused (exit 3)" 3 "$?"
"$det_bin" -m "$url" --cert-file "$work/nonexistent.pem" user whoami >"$work/missing.out" 2>&1
check "det with a missing CA file: refused" test "$?" != 0
grep -q "nonexistent.pem" "$work/missing.out"
ok $? "and the message names the file"
tok=$(jq -r '.[].token // empty' "$HOME/.det-slurm/auth.json" 2>/dev/null | head -n 1)
eq "det stored a login token" 64 "${#tok}"
eq "the certificate's other name (localhost) works too" admin \
	"$(DET_TOKEN=$tok "$det_bin" -m "https://localhost:$port" --cert-file "$pki/ca.pem" -o json user whoami 2>&1 | jq -r .username)"

# --- the Python Core API's client: verified, and an untrusted certificate is not retried ---
pycall() { # CA-FILE (may be empty): GET /me with a made-up token
	DET_MASTER_CERT_FILE=$1 PYTHONPATH=$srcdir/launcher/python python3 - "$url" <<'PY' 2>&1
import sys
from determined import _http
s = _http.Session(sys.argv[1], "0" * 64)
try:
    s.get("/me", retry_seconds=30)
except _http.MasterError as e:
    print("status", e.status, e)
PY
}
pycall "" >"$work/py-noca.out"
grep -q "status 0 .*not trusted" "$work/py-noca.out"
ok $? "Python client without the CA: refused at once, certificate not trusted"
pycall "$pki/ca.pem" >"$work/py-ca.out"
grep -q "^status 401" "$work/py-ca.out"
ok $? "Python client with DET_MASTER_CERT_FILE reaches the master (401 for a made-up token)"

# --- a real trial over HTTPS: det-launch (C client) and the Python Core API ---
if [ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] &&
	[ -x "$launcher" ]; then
	mkdir -p "$work/py"
	cp "$srcdir/examples/python-core-api/train.py" "$work/py/"
	tar -C "$work/py" -czf "$work/py.tgz" .
	sed -e 's/batches: 200/batches: 40/' -e 's/examples: 6000/examples: 1200/' \
		-e 's/validation_period: 50/validation_period: 20/' \
		"$srcdir/examples/python-core-api/const.yaml" >"$work/py.yaml"
	echo 'environment: {environment_variables: [SHOW_ENV=1]}' >>"$work/py.yaml"
	jq -n --rawfile c "$work/py.yaml" --rawfile m <(base64 -w0 "$work/py.tgz") \
		'{config: $c, model_definition: $m, activate: true}' >"$work/req.json"
	curl -s --unix-socket "$work/m.sock" -X POST -H 'Content-Type: application/json' \
		--data-binary @"$work/req.json" http://localhost/api/v1/experiments >"$work/body"
	e=$(body '.id // empty')
	check "experiment created" test -n "$e"
	check "the Python Core API trial completes over HTTPS" wait_state "$e" COMPLETED 180
	sock GET "/experiments/$e/trials" >/dev/null
	eq "its trial reached the length" 40 "$(body '.trials[0].steps_completed')"
	tid=$(body '.trials[0].id')
	sock GET "/trials/$tid/metrics?group=validation" >/dev/null
	check "its validation metrics arrived" test "$(body '[.metrics[] | select(.group == "validation")] | length')" -ge 1
	grep -q "listening on https://127.0.0.1:$port" "$work/master.err"
	ok $? "the tasks' DET_MASTER is the https:// address"
else
	for n in 1 2 3 4 5; do
		echo "ok $((tap_n + n)) # SKIP det-launch or dataset-fashion-mnist missing"
	done
	tap_n=$((tap_n + 5))
fi
stop_master

# --- a certificate that does not match its key, a missing key: clear errors ---
cat >"$work/bad.yaml" <<EOF
tls:
  cert: $pki/server.pem
  key: $pki/other.key
EOF
"$master_bin" --config "$work/bad.yaml" --listen 127.0.0.1:0 --socket "" \
	--state-dir "$work/state" >"$work/bad.out" 2>&1
check "a key that is not the certificate's: det-master refuses to start" test "$?" != 0
grep -q "TLS" "$work/bad.out"
ok $? "and says it is about TLS"
"$master_bin" --tls-cert "$pki/server.pem" --listen 127.0.0.1:0 --socket "" \
	--state-dir "$work/state" >"$work/nokey.out" 2>&1
check "a certificate without a key: refused" test "$?" != 0

# --- the warning for a non-loopback listener without TLS ---
start_master --listen 0.0.0.0:0
grep -q "without TLS" "$work/master.err"
ok $? "listening on 0.0.0.0 without TLS logs a warning"
stop_master

echo "1..$tap_n"
exit $((tap_failed > 0))
