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
container_require
slurm_start_with_master
tap_plan 13
# Slurm opens each task's output (master.yaml: $test_dir/task-*.log) as the user
chmod 1777 "$test_dir"

container_user
# rootless podman maps the container's other ids through these (useradd makes
# them where login.defs says so; add them where it did not)
grep -q "^$U:" /etc/subuid || passwd_retry usermod --add-subuids 400000000-400065535 "$U"
grep -q "^$U:" /etc/subgid || passwd_retry usermod --add-subgids 400000000-400065535 "$U"
container_model 'id -u'
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
YAML
container_run "$uhome/asha.yaml" \
	"the user's ASHA search with environment.image completes"
check "it ran several trials" test "${n:-0}" -ge 3
check_eq "every trial completed" "$n" \
	"$(jq '[.[] | select(.state == "COMPLETED")] | length' <<<"$trials")"
check_eq "every trial reported a validation metric (from inside its container)" "$n" \
	"$(jq '[.[] | select(.best_metric != null)] | length' <<<"$trials")"
check_eq "every trial ran in an array task" "$n" \
	"$(jq '[.[] | select(.array_task >= 0)] | length' <<<"$trials")"
container_probe_checks "$n"
check_eq "each as the owner's uid" "$uid" "$(container_probe 3)"

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
container_done
