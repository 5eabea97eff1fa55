#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A second (non-root) Unix user's ASHA search with environment.image on the
# test cluster: the master's slurm resource manager submits the array as the
# user, det-launch in each array task runs the Python Core API trial through
# the user's rootless podman (runc; XDG_RUNTIME_DIR and /etc/subuid as
# doc/containers.md says). Every trial proves it from inside: the image's
# marker file, a mount namespace other than the host's, the owner's uid; the
# search completes with every trial's validation metric reported from inside.
# A killed experiment leaves none of its container's processes behind.
# Skipped without podman and runc, the dataset, or the test image
# (scripts/build-test-image).
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
	skip_all "podman and runc are not installed (scripts/install-deps)"
fi
command -v useradd >/dev/null || skip_all "useradd is needed (package passwd)"
[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
	skip_all "dataset-fashion-mnist is not installed"
tarball=$("$slurm_tests_dir/../../scripts/build-test-image" 2>/dev/null) ||
	skip_all "no test image (scripts/build-test-image cannot build it)"
top_srcdir=$(cd "$slurm_tests_dir/../.." && pwd)
slurm_start_with_master
tap_plan 13
# Slurm opens each task's output (master.yaml: $test_dir/task-*.log) as the user
chmod 1777 "$test_dir"

U=dc${$}x$RANDOM
uhome=/tmp/$U.home
container_user_cleanup() {
	slurm_cleanup
	passwd_user_remove "$U"
}
trap container_user_cleanup EXIT
passwd_user_add "$U" || exit 1
uid=$(id -u "$U")
chmod 0700 "$uhome"
# rootless podman maps the container's other ids through these (useradd makes
# them where login.defs says so; add them where it did not)
grep -q "^$U:" /etc/subuid || passwd_retry usermod --add-subuids 400000000-400065535 "$U"
grep -q "^$U:" /etc/subgid || passwd_retry usermod --add-subgids 400000000-400065535 "$U"
udet() {
	runuser -u "$U" -- env -i PATH=/usr/bin:/bin HOME="$uhome" DET_MASTER="$DET_MASTER" \
		"$top_builddir/cli/det" "$@"
}

cp "$tarball" "$uhome/rootfs.tar" && chown "$U:" "$uhome/rootfs.tar"
udet image import "$uhome/rootfs.tar" det-test/python3 >"$test_dir/imp.out" 2>&1
check "the user imports the test image" test $? = 0
mkdir -p "$uhome/model" "$uhome/out" "$uhome/ckpt"
cp "$top_srcdir/examples/python-core-api/train.py" "$uhome/model/"
cat >"$uhome/model/probe.sh" <<'SH'
{ cat /etc/det-test-image-marker; readlink /proc/self/ns/mnt; id -u; } >"/out/probe.$DET_TRIAL_ID"
mv "/out/probe.$DET_TRIAL_ID" "/out/probe-$DET_TRIAL_ID"
exec python3 train.py
SH
cat >"$uhome/asha.yaml" <<YAML
name: slurm-container-user-asha
entrypoint: [sh, probe.sh]
hyperparameters:
  learning_rate: {type: log, base: 10, minval: -2, maxval: 0.5}
  batch_size: {type: categorical, vals: [16, 32]}
  examples: 600
  validation_period: 10
searcher:
  name: adaptive_asha
  metric: validation_loss
  smaller_is_better: true
  max_trials: 3
  max_concurrent_trials: 3
  time_metric: batches
  max_time: 40
  divisor: 4
  max_rungs: 2
max_restarts: 0
checkpoint_storage: {type: shared_fs, host_path: $uhome/ckpt}
environment: {image: det-test/python3}
bind_mounts:
  - {host_path: $uhome/out, container_path: /out}
  - {host_path: /usr/share/datasets/fashion-mnist, container_path: /usr/share/datasets/fashion-mnist, read_only: true}
YAML
chown -R "$U:" "$uhome"
chmod 0755 "$uhome" # the master reads the model directory as the user; slurmd's steps too
udet experiment create "$uhome/asha.yaml" "$uhome/model" >"$test_dir/create.out" 2>&1
id=$(sed -n 's/^Created experiment \([0-9]*\).*$/\1/p' "$test_dir/create.out")
diag "$(cat "$test_dir/create.out")"
check "the user's ASHA search with environment.image completes" \
	wait_exp_state "${id:-0}" COMPLETED 300
det_api GET "/experiments/${id:-0}/trials" >/dev/null
trials=$(jq -c '.trials' <"$test_dir/body")
n=$(jq 'length' <<<"$trials")
check "it ran several trials" test "${n:-0}" -ge 3
check_eq "every trial completed" "$n" \
	"$(jq '[.[] | select(.state == "COMPLETED")] | length' <<<"$trials")"
check_eq "every trial reported a validation metric (from inside its container)" "$n" \
	"$(jq '[.[] | select(.best_metric != null)] | length' <<<"$trials")"
check_eq "every trial ran in an array task" "$n" \
	"$(jq '[.[] | select(.array_task >= 0)] | length' <<<"$trials")"
probes=$(find "$uhome/out" -name 'probe-*' | wc -l)
check_eq "every trial wrote its probe from inside" "$n" "$probes"
markers=$(cat "$uhome"/out/probe-* 2>/dev/null | sed -n '1~3p' | sort -u)
check_eq "each saw the image's marker file" det-test-image "$markers"
host=$(readlink /proc/self/ns/mnt)
nss=$(cat "$uhome"/out/probe-* 2>/dev/null | sed -n '2~3p' | sort -u)
check "each in a mount namespace other than the host's" test -n "$nss" -a -z \
	"$(grep -Fx "$host" <<<"$nss")"
check_eq "each as the owner's uid" "$uid" \
	"$(cat "$uhome"/out/probe-* 2>/dev/null | sed -n '3~3p' | sort -u)"

# kill: the container's processes (podman, conmon, the entrypoint) go with the task
mkdir -p "$uhome/sleeper"
printf 'echo started >/out/started\nexec sleep 1000\n' >"$uhome/sleeper/probe.sh"
sed -e 's/max_trials: 3/max_trials: 1/' -e 's/-asha$/-kill/' "$uhome/asha.yaml" >"$uhome/kill.yaml"
chown -R "$U:" "$uhome/sleeper" "$uhome/kill.yaml"
udet experiment create "$uhome/kill.yaml" "$uhome/sleeper" >"$test_dir/kill.out" 2>&1
kid=$(sed -n 's/^Created experiment \([0-9]*\).*$/\1/p' "$test_dir/kill.out")
for _ in $(seq 240); do
	[ -e "$uhome/out/started" ] && break
	sleep 0.5
done
check "its entrypoint started in the container" test -e "$uhome/out/started"
udet experiment kill "${kid:-0}" >/dev/null 2>&1
check "a running container trial is killed" wait_exp_state "${kid:-0}" CANCELED 120
left=
for _ in $(seq 120); do
	left=$(pgrep -u "$U" -x 'sleep|conmon|det-launch')
	[ -z "$left" ] && break
	sleep 0.5
done
check_eq "none of its processes is left (neither the entrypoint nor conmon)" "" "$left"

if [ "$tap_failed" != 0 ]; then
	for f in "$test_dir"/task-*.log; do
		[ -e "$f" ] && diag "$f: $(tail -n 15 "$f")"
	done
fi
tap_done
