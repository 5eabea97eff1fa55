#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bare OCI-bundle runtime (container_runtime: oci, runc), with a
# det-master running as root, the local resource manager and the real
# det-launch, for a second Unix user with a supplementary group: det-launch
# unpacks the image into the user's own cache, writes config.json and runs
# runc rootless; the entrypoint sees the file only the image has, runs in a
# mount namespace other than the host's, as the owner (uid 0 of a user
# namespace that maps only the owner's uid, no capabilities), keeps the
# owner's supplementary group (a file readable only by it is readable), and
# what it writes is the owner's on the host; a second trial reuses the
# unpacked root file system. A missing OCI runtime, enroot or Apptainer fails
# the trial with the reason in its logs. Skipped when runc is not installed or the test image
# cannot be built (scripts/build-test-image).
set -u
. "$(dirname "$0")/../integration/master-lib.sh"
. "$(dirname "$0")/security-lib.sh"
. "$(dirname "$0")/container-lib.sh"
need_root
need_command runc scripts/install-deps
ctr_need_image
echo "1..18"
make_user U || exit 1
uid=$(id -u "$U")
make_group grp "$U"
ok $? "the user gets a supplementary group"
printf 'container_runtime: oci\ncontainer_oci_runtime: runc\n' >"$work/oci.yaml"
start_master --storage-root "$work" --config "$work/oci.yaml"
ctr_import_image

mkdir -p "$work/out" "$work/ckpt" "$work/model" "$work/grp"
chown "$U:" "$work/out" "$work/ckpt"
echo group-only >"$work/grp/file"
chgrp "$grp" "$work/grp" "$work/grp/file"
chmod 0750 "$work/grp"
chmod 0640 "$work/grp/file"
ctr_probe_py <<'PY'
out["uidmap"] = " ".join(open("/proc/self/uid_map").read().split())
out["capeff"] = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
try:
    out["group"] = open("/grp/file").read().strip()
except OSError as e:
    out["group"] = "unreadable " + str(e)
PY
ctr_ok_yaml oci "{host_path: $work/grp, container_path: /grp, read_only: true}"
ctr_run_probe "its trial completes in the OCI bundle"
eq "its user namespace maps only the owner's uid" "0 $uid 1" "$(probe uidmap)"
eq "with no capabilities" 0000000000000000 "$(probe capeff)"
eq "the owner's supplementary group reaches it" group-only "$(probe group)"
eq "the file it wrote is the owner's on the host" "$uid" "$(stat -c %u "$work/out/probe" 2>/dev/null)"
[ -d "/tmp/det-oci-$uid/rootfs/$digest" ] &&
	[ "$(stat -c '%u %a' "/tmp/det-oci-$uid")" = "$uid 700" ]
ok $? "the root file system is unpacked in the owner's private cache, keyed by digest"

# A second trial reuses it (same inode: not unpacked again).
ino=$(stat -c %i "/tmp/det-oci-$uid/rootfs/$digest")
rm -f "$work/out/probe"
ctr_run_to COMPLETED "$work/ok.yaml" "$work/model" create2
eq "a second trial completes, reusing the unpacked root file system" \
	"det-test-image $ino" "$(probe marker) $(stat -c %i "/tmp/det-oci-$uid/rootfs/$digest")"

# A missing OCI runtime: the trial fails, saying so; it never runs on the host.
stop_master
printf 'container_runtime: oci\ncontainer_oci_runtime: no-such-runc\n' >"$work/none.yaml"
start_master --storage-root "$work" --config "$work/none.yaml"
rm -f "$work/out/probe"
ctr_run_to ERROR "$work/ok.yaml" "$work/model" missing
ok $? "with its OCI runtime missing, the trial ends in ERROR"
grep -q 'the OCI runtime no-such-runc is not installed on this node' "$work/missing.log" &&
	[ ! -e "$work/out/probe" ]
ok $? "with the reason in its logs, and nothing ran" || sed 's/^/#   /' "$work/missing.log"

# enroot and Apptainer (not packaged here): selected where the node lacks them,
# the trial fails saying so, and never runs on the host in their place.
for rt in enroot apptainer; do
	if command -v "$rt" >/dev/null; then
		echo "ok # SKIP $rt is installed here"
		echo "ok # SKIP $rt is installed here"
		continue
	fi
	stop_master
	printf 'container_runtime: %s\n' "$rt" >"$work/$rt.yaml"
	start_master --storage-root "$work" --config "$work/$rt.yaml"
	rm -f "$work/out/probe"
	ctr_run_to ERROR "$work/ok.yaml" "$work/model" "$rt"
	ok $? "container_runtime: $rt on a node without it: the trial ends in ERROR"
	grep -q "environment.image \"det-test/python3\": $rt is not installed on this node; the trial is not run on the host instead" \
		"$work/$rt.log" && [ ! -e "$work/out/probe" ]
	ok $? "with the reason in its logs, and nothing ran" || sed 's/^/#   /' "$work/$rt.log"
done
