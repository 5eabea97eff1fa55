#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bare OCI-bundle runtime on the test cluster: det.conf says
# ContainerRuntime=oci and ContainerOciRuntime=runc (they replace master.yaml's
# keys), and a second (non-root) Unix user's random search with
# environment.image runs each trial's Python Core API entrypoint through runc
# on an OCI bundle that det-launch unpacks and writes on the node, as the
# user, without podman. Every trial proves it from inside: the image's marker
# file, a mount namespace other than the host's, a user namespace that maps
# only the owner's uid; every trial reports its validation metric from
# inside, and each node that ran one has the user's unpacked root file system.
# Skipped without runc, the dataset, or the test image
# (scripts/build-test-image).
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
command -v runc >/dev/null || skip_all "runc is not installed (scripts/install-deps)"
command -v useradd >/dev/null || skip_all "useradd is needed (package passwd)"
[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
	skip_all "dataset-fashion-mnist is not installed"
tarball=$("$slurm_tests_dir/../../scripts/build-test-image" 2>/dev/null) ||
	skip_all "no test image (scripts/build-test-image cannot build it)"
top_srcdir=$(cd "$slurm_tests_dir/../.." && pwd)
conf=$(mktemp)
cat >"$conf" <<EOF2
# det.conf for the test cluster, with the bare OCI-bundle runtime
PoolPartition=default:gpu
PoolPartition=cpu-pool:cpu:cpu
DefaultSlots=1
MaxSlots=4
MaxSlotsPerNode=2
GpuGres=gpu
DefaultTimeLimit=30
MaxArrayThrottle=4
Requeue=yes
ContainerRuntime=oci
ContainerOciRuntime=runc
EOF2
export DET_CONF_FILE=$conf
slurm_start_with_master
rm -f "$conf"
tap_plan 9
# Slurm opens each task's output (master.yaml: $test_dir/task-*.log) as the user
chmod 1777 "$test_dir"

U=dc${$}x$RANDOM
uhome=/tmp/$U.home
container_oci_cleanup() {
	slurm_cleanup
	passwd_user_remove "$U"
}
trap container_oci_cleanup EXIT
passwd_user_add "$U" || exit 1
uid=$(id -u "$U")
chmod 0700 "$uhome"
udet() {
	runuser -u "$U" -- env -i PATH=/usr/bin:/bin HOME="$uhome" DET_MASTER="$DET_MASTER" \
		"$top_builddir/cli/det" "$@"
}

cp "$tarball" "$uhome/rootfs.tar" && chown "$U:" "$uhome/rootfs.tar"
udet image import "$uhome/rootfs.tar" det-test/python3 >"$test_dir/imp.out" 2>&1
check "the user imports the test image" test $? = 0
digest=$(sed -n 's/.* as sha256:\([0-9a-f]*\)$/\1/p' "$test_dir/imp.out")
mkdir -p "$uhome/model" "$uhome/out" "$uhome/ckpt"
cp "$top_srcdir/examples/python-core-api/train.py" "$uhome/model/"
cat >"$uhome/model/probe.sh" <<'SH'
{ cat /etc/det-test-image-marker; readlink /proc/self/ns/mnt; echo $(cat /proc/self/uid_map); } >"/out/probe.$DET_TRIAL_ID"
mv "/out/probe.$DET_TRIAL_ID" "/out/probe-$DET_TRIAL_ID"
exec python3 train.py
SH
cat >"$uhome/random.yaml" <<YAML
name: slurm-container-oci
entrypoint: [sh, probe.sh]
hyperparameters:
  learning_rate: {type: log, base: 10, minval: -2, maxval: 0.5}
  batch_size: 16
  examples: 600
  validation_period: 10
searcher:
  name: random
  metric: validation_loss
  smaller_is_better: true
  max_trials: 3
  max_concurrent_trials: 3
  max_length: {batches: 20}
max_restarts: 0
checkpoint_storage: {type: shared_fs, host_path: $uhome/ckpt}
environment: {image: det-test/python3}
bind_mounts:
  - {host_path: $uhome/out, container_path: /out}
  - {host_path: /usr/share/datasets/fashion-mnist, container_path: /usr/share/datasets/fashion-mnist, read_only: true}
YAML
chown -R "$U:" "$uhome"
chmod 0755 "$uhome" # the master reads the model directory as the user; slurmd's steps too
udet experiment create "$uhome/random.yaml" "$uhome/model" >"$test_dir/create.out" 2>&1
id=$(sed -n 's/^Created experiment \([0-9]*\).*$/\1/p' "$test_dir/create.out")
diag "$(cat "$test_dir/create.out")"
check "the user's search with environment.image completes (runc on OCI bundles)" \
	wait_exp_state "${id:-0}" COMPLETED 300
det_api GET "/experiments/${id:-0}/trials" >/dev/null
trials=$(jq -c '.trials' <"$test_dir/body")
n=$(jq 'length' <<<"$trials")
check_eq "it ran three trials, all completed" "3 3" \
	"${n:-0} $(jq '[.[] | select(.state == "COMPLETED")] | length' <<<"$trials")"
check_eq "every trial reported a validation metric (from inside its container)" "$n" \
	"$(jq '[.[] | select(.best_metric != null)] | length' <<<"$trials")"
probes=$(find "$uhome/out" -name 'probe-*' | wc -l)
check_eq "every trial wrote its probe from inside" "$n" "$probes"
markers=$(cat "$uhome"/out/probe-* 2>/dev/null | sed -n '1~3p' | sort -u)
check_eq "each saw the image's marker file" det-test-image "$markers"
host=$(readlink /proc/self/ns/mnt)
nss=$(cat "$uhome"/out/probe-* 2>/dev/null | sed -n '2~3p' | sort -u)
check "each in a mount namespace other than the host's" test -n "$nss" -a -z \
	"$(grep -Fx "$host" <<<"$nss")"
check_eq "each in a user namespace mapping only the owner's uid" "0 $uid 1" \
	"$(cat "$uhome"/out/probe-* 2>/dev/null | sed -n '3~3p' | sort -u)"
check "the image was unpacked into the user's private cache, keyed by digest" \
	test -d "/tmp/det-oci-$uid/rootfs/${digest:-none}"

if [ "$tap_failed" != 0 ]; then
	for f in "$test_dir"/task-*.log; do
		[ -e "$f" ] && diag "$f: $(tail -n 15 "$f")"
	done
fi
tap_done
