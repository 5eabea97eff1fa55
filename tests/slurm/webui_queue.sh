#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The web UI's queue on Slurm: det-master --rm slurm serves the UI; an
# experiment of four long trials, two at a time, leaves two array tasks
# PENDING with reason JobArrayTaskLimit. In headless Chromium
# (tests/slurm/webui_queue.mjs, playwright-core as tests/web/run.sh finds it)
# the Queue page and the experiment's queue panel show those tasks with
# Slurm's pending reason, priority and position, as GET /experiments/ID/slurm
# has them. Skips without chromium, node or npm.
. "$(dirname "$0")/lib.sh"
slurm_require
det_master_require
srcdir=$(cd "$slurm_tests_dir/../.." && pwd)
. "$srcdir/tests/web/playwright.sh"
web_playwright "$srcdir" "$top_builddir" || skip_all "$web_why"
slurm_start_with_master --webui-dir "$srcdir/webui"
tap_plan 8

sed -e 's/^  sleep: 0$/  sleep: 30/' -e 's/^name: .*/name: webui-queue/' \
	"$(tiny_model)/grid.yaml" >"$test_dir/grid.yaml"
id=$(det -o json experiment create "$test_dir/grid.yaml" "$(tiny_model)" | jq -r .id)
check "the master submits a four-task array, two at a time" test -n "$id"
pending=
for _ in $(seq 300); do
	det_api GET "/experiments/$id/slurm" >/dev/null
	pending=$(det_body '[.tasks[] | select(.state == "PENDING" and .reason == "JobArrayTaskLimit")] | length')
	[ "$pending" = 2 ] && break
	sleep 0.2
done
check_eq "two tasks wait for the throttle (GET /experiments/ID/slurm)" 2 "$pending"
check "each with its Slurm priority" test "$(det_body '[.tasks[] | select(.state == "PENDING") | .priority | numbers] | length')" = 2

artifacts=$top_builddir/tests/slurm/artifacts
mkdir -p "$artifacts"
BASE_URL=$det_master_url PW_MODULES=$mods CHROMIUM=$chromium PROFILE_DIR=$test_dir/chromium-profile \
	ARTIFACTS=$artifacts EXP_ID=$id ADMIN_PW=$(cat "$test_dir/state/admin-password") \
	web_node_tap 240 "$slurm_tests_dir/webui_queue.mjs" "$test_dir"
det_api POST "/experiments/$id/kill" >/dev/null
tap_done
