#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# TAP wrapper for the MPI tests of libdetcomm: runs test_detcomm under mpirun with 1 to 4
# ranks (and with simulated multi-node layouts and tiny pipeline chunks), numbers the
# "ok - name" lines rank 0 prints, and adds a failing line for a run that crashes or hangs.
# Then checks that a rank which dies leaves the others with an error, not a hang.
set -u
builddir=${top_builddir:-.}
bin=$builddir/tests/detcomm/test_detcomm
dead=$builddir/tests/detcomm/test_detcomm_dead

# Open MPI inside a container, possibly as root, more ranks than cores.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Open MPI's own allocations are reported as leaks; keep ASan/UBSan checks, not LSan.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
export DETCOMM_TIMEOUT_MS=30000
unset DETCOMM_BACKEND

n=0
errf=$(mktemp)
trap 'rm -f "$errf"' EXIT

# run LABEL NP [VAR=VALUE...]: one mpirun, its lines renumbered under LABEL
run() {
	local label=$1 np=$2 out rc line
	shift 2
	out=$(env "$@" timeout 120 mpirun --oversubscribe -np "$np" "$bin" 2>"$errf")
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) n=$((n + 1)) && echo "ok $n - [$label] ${line#ok - }" ;;
		"not ok - "*) n=$((n + 1)) && echo "not ok $n - [$label] ${line#not ok - }" ;;
		esac
	done <<<"$out"
	if [ "$rc" -ne 0 ]; then
		n=$((n + 1))
		echo "not ok $n - [$label] mpirun exited with status $rc"
		sed 's/^/# /' "$errf" | tail -n 30
	fi
}

run "np=1" 1
run "np=2" 2
run "np=3" 3
run "np=4" 4
run "np=4, 2 nodes" 4 DETCOMM_RANKS_PER_NODE=2
run "np=2, 2 nodes" 2 DETCOMM_RANKS_PER_NODE=1
run "np=3, 8 KiB chunks" 3 DETCOMM_CHUNK_BYTES=8192 DETCOMM_SMALL_BYTES=0
run "np=3, cross-memory attach" 3 DETCOMM_CMA_BYTES=65536

# Built with CUDA: with no GPU visible, the NCCL backend must fail clearly, auto fall back.
if [ -x "$builddir/tests/gpu/test_detcomm_gpu" ]; then
	out=$(CUDA_VISIBLE_DEVICES='' timeout 60 mpirun -np 1 "$builddir/tests/gpu/test_detcomm_gpu" \
		--no-gpu 2>"$errf")
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) n=$((n + 1)) && echo "ok $n - [no GPU] ${line#ok * - }" ;;
		"not ok "*) n=$((n + 1)) && echo "not ok $n - [no GPU] ${line#not ok * - }" ;;
		esac
	done <<<"$out"
	if [ "$rc" -ne 0 ]; then
		n=$((n + 1))
		echo "not ok $n - [no GPU] exited with status $rc"
		sed 's/^/# /' "$errf" | tail -n 20
	fi
fi

# A rank killed in the middle of training: the survivor must report it in bounded time.
n=$((n + 1))
start=$(date +%s)
out=$(DETCOMM_TIMEOUT_MS=60000 timeout 60 mpirun --oversubscribe -np 2 "$dead" 2>"$errf")
took=$(($(date +%s) - start))
if grep -q '^survivor error: .*exited' <<<"$out" && [ "$took" -lt 30 ]; then
	echo "ok $n - a dead rank gives the others an error (in ${took} s, timeout 60 s)"
else
	echo "not ok $n - a dead rank gives the others an error (took ${took} s)"
	while IFS= read -r line; do echo "# $line"; done <<<"$out"
	sed 's/^/# /' "$errf" | tail -n 20
fi
echo "1..$n"
