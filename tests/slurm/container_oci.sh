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
container_require
# the test cluster's policy, with the bare OCI-bundle runtime
DET_CONF_EXTRA=$'ContainerRuntime=oci\nContainerOciRuntime=runc' slurm_start_with_master
tap_plan 9
# Slurm opens each task's output (master.yaml: $test_dir/task-*.log) as the user
chmod 1777 "$test_dir"

container_user
container_model 'echo $(cat /proc/self/uid_map)'
digest=$(sed -n 's/.* as sha256:\([0-9a-f]*\)$/\1/p' "$test_dir/imp.out")
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
YAML
container_run "$uhome/random.yaml" \
	"the user's search with environment.image completes (runc on OCI bundles)"
check_eq "it ran three trials, all completed" "3 3" \
	"${n:-0} $(jq '[.[] | select(.state == "COMPLETED")] | length' <<<"$trials")"
check_eq "every trial reported a validation metric (from inside its container)" "$n" \
	"$(jq '[.[] | select(.best_metric != null)] | length' <<<"$trials")"
container_probe_checks "$n"
check_eq "each in a user namespace mapping only the owner's uid" "0 $uid 1" "$(container_probe 3)"
check "the image was unpacked into the user's private cache, keyed by digest" \
	test -d "/tmp/det-oci-$uid/rootfs/${digest:-none}"
container_done
