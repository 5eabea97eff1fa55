#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The built plugins as Slurm's loaders see them, without a cluster: only the
# symbols Slurm looks up are exported, neither links libslurm, the HTTP
# client is inside spank_det.so, and plugin_version equals the installed
# Slurm's SLURM_VERSION_NUMBER (Slurm refuses a plugin otherwise); no copy of
# slurmctld's private structs is in the sources (job_submit_det uses its headers).
. "$(dirname "$0")/lib.sh"
libs=$top_builddir/slurm-plugin/.libs
src=$(cd "$slurm_tests_dir/../.." && pwd)
[ -e "$libs/spank_det.so" ] || skip_all "plugins not built"
[ -e "$libs/job_submit_det.so" ] || skip_all "$JOB_SUBMIT_DET_MISSING"
for cmd in nm readelf python3; do
	command -v "$cmd" >/dev/null || skip_all "$cmd not installed"
done
tap_plan 8

exports() {
	nm -D --defined-only "$1" | awk '{print $3}' | sort | tr '\n' ' ' | sed 's/ $//'
}

check_eq "job_submit_det.so exports only what slurmctld looks up" \
	"fini init job_modify job_submit plugin_name plugin_type plugin_version" \
	"$(exports "$libs/job_submit_det.so")"
check_eq "spank_det.so exports only plugin_* and slurm_spank_*" \
	"plugin_name plugin_type plugin_version slurm_spank_exit slurm_spank_init slurm_spank_init_post_opt slurm_spank_task_exit slurm_spank_user_init" \
	"$(exports "$libs/spank_det.so")"
check "neither plugin links libslurm" \
	bash -c "! readelf -d '$libs/spank_det.so' '$libs/job_submit_det.so' | grep NEEDED | grep -q libslurm"
check "the HTTP client is linked into spank_det.so" \
	bash -c "! nm -D --undefined-only '$libs/spank_det.so' | grep -q http_client"
check "job_submit_det.so needs nothing of slurmctld but its logger and allocator" \
	test "$(nm -D --undefined-only "$libs/job_submit_det.so" | awk '/slurm/ {print $2}' | sort | tr '\n' ' ')" = \
	"slurm_error slurm_info slurm_xfree slurm_xstrdup "

# job_record_t comes from slurmctld.h: no copy of it (its magic cookie, the
# fields job_modify reads) may come back into the sources.
check "no mirror of slurmctld's private structs in the sources" \
	bash -c "! grep -rniE 'f0b7392c|struct [a-z_]*(job_record|job_array)[a-z_]* *\\{' \
		'$src/slurm-plugin' '$src/master' '$src/common' '$src/tests/unit'"

want=$(sed -n 's/^#define SLURM_VERSION_NUMBER //p' "${DET_SLURM_PREFIX:-/usr}/include/slurm/slurm_version.h")
if nm -D --undefined-only "$libs/spank_det.so" | grep -q __asan_; then
	ok "# SKIP sanitizer build: cannot load the plugin here"
	ok "# SKIP sanitizer build: cannot load the plugin here"
else
	for so in job_submit_det spank_det; do
		got=$(python3 -c 'import ctypes, os, sys
lib = ctypes.CDLL(sys.argv[1], mode=os.RTLD_LAZY)
print(hex(ctypes.c_uint32.in_dll(lib, "plugin_version").value))' "$libs/$so.so" 2>&1)
		check_eq "$so.so plugin_version is the installed Slurm's" "$want" "$got"
	done
fi
tap_done
