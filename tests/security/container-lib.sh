# SPDX-License-Identifier: GPL-2.0-or-later
# Helpers for the container trial tests (sourced after security-lib.sh): the
# test image, its import by the test's user, a probe entrypoint and the
# checks that every container runtime must pass.

# ctr_need_image: skip the whole test unless det-launch and det are built and
# the test image can be built (scripts/build-test-image); sets launcher, det
# and tarball.
ctr_need_image() {
	need_det_launch
	if ! tarball=$("$srcdir/scripts/build-test-image" 2>"$work/build.err"); then
		echo "1..0 # SKIP no test image: $(tail -n 1 "$work/build.err")"
		exit 0
	fi
	sed 's/^/# /' "$work/build.err"
}

# detu ARGS...: det as the test's user $U, against the test's master.
detu() { as_user "$U" env DET_MASTER="unix:$work/m.sock" "$det" "$@"; }

# ctr_import_image: $U imports the test image as det-test/python3 (one
# test); sets digest.
ctr_import_image() {
	cp "$tarball" "/tmp/$U.home/rootfs.tar" && chown "$U:" "/tmp/$U.home/rootfs.tar"
	detu image import "/tmp/$U.home/rootfs.tar" det-test/python3 >"$work/imp.out" 2>&1
	ok $? "the user imports the test image"
	digest=$(sed -n 's/.* as sha256:\([0-9a-f]*\)$/\1/p' "$work/imp.out")
}

# ctr_probe_py: write $work/model/probe.py, which records the image's marker
# file, its mount namespace and what the Python on stdin adds to the dict
# out, as "key value" lines in /out/probe.
ctr_probe_py() {
	{
		cat <<'PY'
import os
out = {}
out["marker"] = open("/etc/det-test-image-marker").read().strip() if os.path.exists("/etc/det-test-image-marker") else "none"
out["mntns"] = os.readlink("/proc/self/ns/mnt")
PY
		cat
		cat <<'PY'
with open("/out/probe.tmp", "w") as f:
    for k, v in out.items():
        f.write(f"{k} {v}\n")
os.rename("/out/probe.tmp", "/out/probe")
PY
	} >"$work/model/probe.py"
}

# ctr_ok_yaml NAME MOUNT: write $work/ok.yaml, an experiment NAME that runs
# probe.py in det-test/python3 with /out and the bind mount MOUNT.
ctr_ok_yaml() {
	cat >"$work/ok.yaml" <<YAML
name: $1
entrypoint: [python3, probe.py]
searcher: {name: single, metric: m, max_length: {batches: 1}}
checkpoint_storage: {type: shared_fs, host_path: $work/ckpt}
max_restarts: 0
environment: {image: det-test/python3}
bind_mounts:
  - {host_path: $work/out, container_path: /out}
  - $2
YAML
}

# ctr_run_probe MESSAGE: create the experiment of ok.yaml (sets id), wait for
# it to complete (MESSAGE), and check that the entrypoint ran in the image and
# in a mount namespace of its own (four tests). probe KEY reads its output.
ctr_run_probe() {
	local host_ns
	detu experiment create "$work/ok.yaml" "$work/model" >"$work/create.out" 2>&1
	ok $? "an experiment with environment.image is created"
	id=$(sed -n 's/^Created experiment \([0-9]*\).*/\1/p' "$work/create.out")
	wait_state "$id" COMPLETED 100
	ok $? "$1"
	if [ ! -e "$work/out/probe" ]; then
		sock GET "/experiments/$id/trials" >/dev/null
		sock GET "/trials/$(body '.trials[0].id')/logs" >/dev/null
		body '.logs[].line' | sed 's/^/#   /' | tail -n 30
	fi
	eq "the entrypoint sees the file only the image has" det-test-image "$(probe marker)"
	host_ns=$(readlink /proc/self/ns/mnt)
	[ -n "$(probe mntns)" ] && [ "$(probe mntns)" != "$host_ns" ]
	ok $? "in a mount namespace other than the host's"
}

probe() { sed -n "s/^$1 //p" "$work/out/probe" 2>/dev/null; }

# ctr_run_to STATE YAML MODEL NAME: $U creates the experiment of YAML with the
# model directory MODEL (det's output in $work/NAME.out; sets id) and waits for
# STATE (100 s), false if it does not get there; its first trial's log lines
# are then in $work/NAME.log.
ctr_run_to() {
	local rc
	detu experiment create "$2" "$3" >"$work/$4.out" 2>&1
	id=$(sed -n 's/^Created experiment \([0-9]*\).*/\1/p' "$work/$4.out")
	wait_state "$id" "$1" 100
	rc=$?
	sock GET "/experiments/$id/trials" >/dev/null
	sock GET "/trials/$(body '.trials[0].id')/logs" >/dev/null
	body '.logs[].line' >"$work/$4.log"
	return $rc
}
