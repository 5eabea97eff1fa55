#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A trial with environment.image in a Slurm array task: the master's slurm
# resource manager submits the array, det-launch on the node runs the
# entrypoint in the image through podman (runc; root's podman, as the tests
# run as root): it sees the image's marker file, in a mount namespace other
# than the host's, and writes through a bind mount. The site's det.conf
# ContainerRuntime=none takes precedence over master.yaml: an image is then
# refused at create, saying why. Skipped without podman
# or when the test image cannot be built (scripts/build-test-image).
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
command -v podman >/dev/null || skip_all "podman is not installed (scripts/install-deps)"
tarball=$("$slurm_tests_dir/../../scripts/build-test-image" 2>/dev/null) ||
	skip_all "no test image (scripts/build-test-image cannot build it)"
slurm_start_with_master
tap_plan 6
digest=
container_cleanup() {
	[ -n "$digest" ] && podman rmi "localhost/det-image:$digest" >/dev/null 2>&1
	slurm_cleanup
}
trap container_cleanup EXIT

det image import "$tarball" det-test/python3 >"$test_dir/imp.out" 2>&1
check "det image import" test $? = 0
digest=$(sed -n 's/.* as sha256:\([0-9a-f]*\)$/\1/p' "$test_dir/imp.out")
mkdir -p "$test_dir/out" "$test_dir/model"
cat >"$test_dir/model/probe.sh" <<'SH'
{ cat /etc/det-test-image-marker; readlink /proc/self/ns/mnt; } >/out/probe.tmp
mv /out/probe.tmp "/out/probe-$DET_TRIAL_ID"
SH
cat >"$test_dir/c.yaml" <<YAML
name: slurm-container
entrypoint: [sh, probe.sh]
searcher: {name: single, metric: m, max_length: {batches: 1}}
max_restarts: 0
environment: {image: det-test/python3}
bind_mounts: [{host_path: $test_dir/out, container_path: /out}]
YAML
det experiment create "$test_dir/c.yaml" "$test_dir/model" >"$test_dir/create.out" 2>&1
id=$(sed -n 's/^Created experiment \([0-9]*\)$/\1/p' "$test_dir/create.out")
diag "$(cat "$test_dir/create.out")"
check "the experiment completes" wait_exp_state "${id:-0}" COMPLETED 120
probe=$(cat "$test_dir"/out/probe-* 2>/dev/null)
check_eq "the task's entrypoint saw the image's marker file" det-test-image \
	"$(sed -n 1p <<<"$probe")"
host=$(readlink /proc/self/ns/mnt)
check "in a mount namespace other than the host's" test -n "$(sed -n 2p <<<"$probe")" \
	-a "$(sed -n 2p <<<"$probe")" != "$host"

# det.conf (the cluster's, which the master reads too): no containers on the nodes
echo "ContainerRuntime=none" >>"$test_dir/cluster/det.conf"
restart_det_master
det experiment create "$test_dir/c.yaml" "$test_dir/model" >"$test_dir/none.out" 2>&1
check "with det.conf's ContainerRuntime=none an image experiment is refused at create" \
	test $? != 0
check "saying there is no container runtime (never a run on the host)" \
	grep -q 'no container runtime (container_runtime: none)' "$test_dir/none.out"
grep -q 'no container runtime' "$test_dir/none.out" || diag "$(cat "$test_dir/none.out")"
tap_done
