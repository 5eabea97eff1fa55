#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Trials in containers, with a det-master running as root, the local
# resource manager, the real det-launch and rootless podman (runc), for a
# second Unix user: the entrypoint runs in the image (it sees the image's
# marker file, in another mount namespace, as its owner's uid), the
# startup hook runs inside and its exports reach the entrypoint, bind_mounts
# work with read_only honoured, the trial records the image's digest, the
# Python Core API example reports and checkpoints from inside, a failing hook
# ends the trial in ERROR with its output in the logs; bad
# inputs are clear errors at create: a bind mount the user cannot read, ".."
# in container_path, and no container runtime. Skipped when podman is not
# installed or the test image cannot be built (scripts/build-test-image).
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
. "$(dirname "$0")/container-lib.sh"
need_root
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
	echo "1..0 # SKIP podman and runc are not installed (scripts/install-deps)"
	exit 0
fi
ctr_need_image
echo "1..23"
make_user U || exit 1
uid=$(id -u "$U")
start_master --storage-root "$work"
ctr_import_image

mkdir -p "$work/out" "$work/data" "$work/ckpt" "$work/model" "$work/secret"
echo host-data >"$work/data/file"
chown "$U:" "$work/out" "$work/ckpt"
chmod 0700 "$work/secret"
cat >"$work/model/startup-hook.sh" <<'SH'
echo "hook: in $(cat /etc/det-test-image-marker 2>/dev/null || echo the-host)"
export FROM_HOOK=hook-export
SH
ctr_probe_py <<'PY'
import sys
out["uid"] = str(os.getuid())
out["hook"] = os.environ.get("FROM_HOOK", "unset")
out["data"] = open("/data/file").read().strip()
try:
    open("/data/new", "w").write("x")
    out["ro"] = "writable"
except OSError:
    out["ro"] = "read-only"
out["python"] = sys.version.split()[0]
PY
ctr_ok_yaml contained "{host_path: $work/data, container_path: /data, read_only: true}"
ctr_run_probe "its trial completes"
eq "as the owner's uid" "$uid" "$(probe uid)"
eq "the file it wrote is the owner's on the host" "$uid" "$(stat -c %u "$work/out/probe" 2>/dev/null)"
eq "startup-hook.sh ran in the container and its export reached the entrypoint" hook-export \
	"$(probe hook)"
eq "a bind mount shows the host's files" host-data "$(probe data)"
eq "read_only is honoured" read-only "$(probe ro)"
sock GET "/experiments/$id/trials" >/dev/null
tid=$(body '.trials[0].id')
sock GET "/trials/$tid" >/dev/null
eq "the trial shows the image's digest" "sha256:$digest" "$(body .trial.image_digest)"
detu trial describe "$tid" | grep -qx "image: sha256:$digest"
ok $? "det trial describe shows it"
eq "det experiment describe -o json shows the experiment's image digest per slot type" \
	"sha256:$digest" "$(detu -o json experiment describe "$id" | jq -r '.image_digests.cpu')"
sock GET "/trials/$tid/logs" >/dev/null
body '.logs[].line' | grep -q '^hook: in det-test-image$'
ok $? "the hook's output (from inside the image) is in the trial's logs"

# The Core API from inside: examples/python-core-api/container.yaml reports
# its metrics and checkpoints through the mounted socket and checkpoint dir.
mkdir -p "$work/py"
cp "$srcdir/examples/python-core-api/train.py" "$work/py/"
sed -e 's/batches: 200/batches: 20/' -e 's/examples: 6000/examples: 1200/' \
	-e 's/validation_period: 50/validation_period: 10/' \
	"$srcdir/examples/python-core-api/container.yaml" >"$work/py.yaml"
printf 'checkpoint_storage: {type: shared_fs, host_path: %s}\n' "$work/ckpt" >>"$work/py.yaml"
detu experiment create "$work/py.yaml" "$work/py" >"$work/py.out" 2>&1
id=$(sed -n 's/^Created experiment \([0-9]*\).*/\1/p' "$work/py.out")
wait_state "$id" COMPLETED 100
ok $? "the Python Core API example completes in the container"
sock GET "/experiments/$id/trials" >/dev/null
ck=$(body '.trials[0].latest_checkpoint // empty')
sock GET "/checkpoints/$ck" >/dev/null
ckpath=$(body '.path // empty')
eq "its latest checkpoint is registered, on the host in the storage, the owner's" \
	"$work/ckpt $uid" "$(dirname "$ckpath") $(stat -c %u "$ckpath" 2>&1)"

# A failing startup hook inside the image: ERROR, with its output in the logs.
mkdir -p "$work/badhook"
printf 'echo "hook: failing in $(cat /etc/det-test-image-marker)"\nexit 3\n' \
	>"$work/badhook/startup-hook.sh"
cp "$work/model/probe.py" "$work/badhook/"
sed -e 's/^name: contained/name: bad-hook/' "$work/ok.yaml" >"$work/badhook.yaml"
ctr_run_to ERROR "$work/badhook.yaml" "$work/badhook" bh
ok $? "a failing startup-hook.sh in the container ends the experiment in ERROR"
grep -q '^hook: failing in det-test-image$' "$work/bh.log" &&
	grep -q 'startup-hook.sh failed (exit status 3)' "$work/bh.log"
ok $? "its output and the reason are in the trial's logs" || sed 's/^/#   /' "$work/bh.log"

# Bad inputs: clear errors at create, nothing runs.
sed -e "s|host_path: $work/data,|host_path: $work/secret,|" "$work/ok.yaml" >"$work/secret.yaml"
detu experiment create "$work/secret.yaml" "$work/model" >"$work/c2.out" 2>&1
ok $((! $?)) "a bind mount of a directory the user cannot read is refused"
grep -q "bind_mounts.1.host_path: not readable by you: .*Permission denied" "$work/c2.out"
ok $? "with the path and the reason"
sed -e "s|container_path: /data,|container_path: /data/../etc,|" "$work/ok.yaml" >"$work/dots.yaml"
detu experiment create "$work/dots.yaml" "$work/model" >"$work/c3.out" 2>&1
grep -q 'bind_mounts.1.container_path: container_path must be an absolute path' \
	"$work/c3.out"
ok $? "\"..\" in container_path is refused at create, with its place"
grep -q 'container_path must be' "$work/c3.out" || sed 's/^/#   /' "$work/c3.out"
stop_master
printf 'container_runtime: none\n' >"$work/none.yaml"
start_master --storage-root "$work" --config "$work/none.yaml"
detu experiment create "$work/ok.yaml" "$work/model" >"$work/c4.out" 2>&1
ok $((! $?)) "with no container runtime, an image is refused at create"
grep -q 'no container runtime (container_runtime: none)' "$work/c4.out"
ok $? "saying so (never a run on the host)"
grep -q 'no container runtime' "$work/c4.out" || sed 's/^/#   /' "$work/c4.out"
