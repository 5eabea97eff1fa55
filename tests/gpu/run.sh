#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# GPU check of libdetcomm's NCCL backend, from the repository root:
#   bash tests/gpu/run.sh
# Builds libdetcomm, its GPU test and det-allreduce-perf with CUDA (configure --with-cuda)
# in _build/gpu, runs them on one GPU (world size 1: NCCL refuses two ranks on one GPU)
# and prints a summary: test results, overhead against raw NCCL calls, and the grouped
# ResNet-50 gradient set against 161 separate ncclAllReduce calls. About 1-3 minutes.
# DET_GPU_DIRECT_BUILD=1 builds with mpicc directly even where configure would work.
# Exit status 0 only when every test passed and no result was wrong.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cuda=${CUDA_HOME:-/usr/local/cuda}
build=$top/_build/gpu
log=$build/gpu-check.log
cd "$top" || exit 2

# ---- how to build: the project's configure when every dependency is there;
# otherwise (a GPU machine with CUDA and Open MPI but without the rest of the
# project's Debian packages) only libdetcomm, the perf tool and the GPU test,
# compiled directly with mpicc: they need nothing but MPI, CUDA and NCCL.
missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (Debian package $2)"); }
need_cmd gcc build-essential
need_cmd make build-essential
need_cmd autoreconf autoconf
need_cmd automake automake
need_cmd libtoolize libtool
need_cmd pkg-config pkg-config
need_cmd mpirun openmpi-bin
if command -v pkg-config >/dev/null 2>&1; then
	# every module configure checks, with its Debian package
	while read -r mod pkg; do
		pkg-config --exists "$mod" 2>/dev/null || missing+=("pkg-config $mod (Debian package $pkg)")
	done <<'EOF'
yaml-0.1 libyaml-dev
jansson libjansson-dev
sqlite3 libsqlite3-dev
libmicrohttpd libmicrohttpd-dev
libcurl libcurl4-openssl-dev
munge libmunge-dev
libxcrypt libcrypt-dev
libarchive libarchive-dev
cmocka libcmocka-dev
ompi-c libopenmpi-dev
openblas libopenblas-dev
zlib zlib1g-dev
EOF
fi
[ -e /usr/include/slurm/slurm.h ] || missing+=("slurm/slurm.h (Debian package libslurm-dev)")

# CUDA runtime and NCCL: the toolkit's folders, else the system's.
nccl_inc=""
for d in "$cuda/include" /usr/include; do
	if [ -r "$d/nccl.h" ]; then nccl_inc=$d && break; fi
done
nccl_lib=""
for d in "$cuda/lib64" /usr/lib/x86_64-linux-gnu /usr/lib64; do
	if [ -e "$d/libnccl.so" ] || [ -e "$d/libnccl.so.2" ]; then nccl_lib=$d && break; fi
done
gpu_missing=()
[ -r "$cuda/include/cuda_runtime_api.h" ] || gpu_missing+=("$cuda/include/cuda_runtime_api.h (CUDA toolkit)")
[ -e "$cuda/lib64/libcudart.so" ] || gpu_missing+=("$cuda/lib64/libcudart.so (CUDA toolkit)")
[ -n "$nccl_inc" ] || gpu_missing+=("nccl.h (NCCL)")
[ -n "$nccl_lib" ] || gpu_missing+=("libnccl.so (NCCL)")
if [ ${#gpu_missing[@]} -gt 0 ]; then
	echo "tests/gpu/run.sh: cannot build the NCCL backend, missing:"
	printf '  %s\n' "${gpu_missing[@]}"
	exit 2
fi

mkdir -p "$build"
: >"$log"
step() {
	echo "==> $*"
	if ! "$@" >>"$log" 2>&1; then
		echo "FAILED: $* (last lines of $log follow)"
		tail -n 40 "$log"
		exit 1
	fi
}
t_start=$(date +%s)
if [ ${#missing[@]} -eq 0 ] && [ -z "${DET_GPU_DIRECT_BUILD:-}" ]; then
	step autoreconf -fi
	cd "$build" || exit 2
	step "$top/configure" --with-cuda="$cuda" CC=gcc
	grep -q '^#define HAVE_CUDA 1' config.h || {
		echo "configure did not enable CUDA"
		exit 1
	}
	step make -j"$(nproc)" nccl-allreduce/libdetcomm.la nccl-allreduce/det-allreduce-perf \
		tests/gpu/test_detcomm_gpu
else
	if ! command -v mpicc >/dev/null 2>&1; then
		echo "tests/gpu/run.sh: cannot build, missing:"
		printf '  %s\n' "${missing[@]}" "mpicc (Debian package libopenmpi-dev)"
		exit 2
	fi
	echo "==> building with mpicc directly (the full build lacks: ${missing[*]})"
	mkdir -p "$build/nccl-allreduce" "$build/tests/gpu"
	printf '#define HAVE_CUDA 1\n#define PACKAGE_VERSION "gpu-check"\n' >"$build/config.h"
	cflags=(-std=gnu11 -O2 -g -D_GNU_SOURCE -pthread -I"$build" -I"$top/common"
		-I"$top/nccl-allreduce" -I"$cuda/include" -I"$nccl_inc")
	libs=(-L"$cuda/lib64" -L"$nccl_lib" -Wl,-rpath,"$cuda/lib64" -Wl,-rpath,"$nccl_lib"
		-lnccl -lcudart -lm -lrt -pthread)
	lib_src=()
	for f in detcomm detcomm_reduce detcomm_shm detcomm_engine detcomm_stream detcomm_nccl; do
		lib_src+=("$top/nccl-allreduce/$f.c")
	done
	perf_src=()
	for f in perf_main perf_ops perf_models perf_tensors perf_gpu; do
		perf_src+=("$top/nccl-allreduce/perf/$f.c")
	done
	step mpicc "${cflags[@]}" -o "$build/nccl-allreduce/det-allreduce-perf" "${lib_src[@]}" \
		"${perf_src[@]}" "${libs[@]}"
	step mpicc "${cflags[@]}" -o "$build/tests/gpu/test_detcomm_gpu" "${lib_src[@]}" \
		"$top/tests/gpu/test_detcomm_gpu.c" "${libs[@]}"
fi

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export DETCOMM_TIMEOUT_MS=60000
perf=$build/nccl-allreduce/det-allreduce-perf
fails=0

echo "==> NCCL backend tests (1 rank, device buffers)"
tests_out=$(timeout 120 mpirun -np 1 "$build/tests/gpu/test_detcomm_gpu" 2>&1)
echo "$tests_out"
t_pass=$(grep -c '^ok ' <<<"$tests_out")
t_fail=$(grep -c '^not ok ' <<<"$tests_out")
grep -q '^1\.\.' <<<"$tests_out" || t_fail=$((t_fail + 1))
if grep -q 'no CUDA device' <<<"$tests_out"; then
	echo "================ GPU summary ================"
	echo "no usable GPU on this machine (see the message above): nothing measured"
	exit 1
fi

echo "==> det-allreduce-perf --gpu, f32, against raw ncclAllReduce on the same buffers"
sweep=$(timeout 150 mpirun -np 1 "$perf" --gpu -b 8 -e 256M -f 4 -n 50 -w 10 \
	--baseline nccl 2>&1) || fails=$((fails + 1))
echo "$sweep"
for dt in half bfloat16; do
	echo "==> det-allreduce-perf --gpu -d $dt"
	out=$(timeout 60 mpirun -np 1 "$perf" --gpu -d "$dt" -o avg -b 1K -e 64M -f 16 -n 20 \
		-w 5 2>&1) || fails=$((fails + 1))
	echo "$out"
done
declare -A tens
for m in resnet50 bert-base; do
	echo "==> det-allreduce-perf --gpu --tensors $m"
	tens[$m]=$(timeout 120 mpirun -np 1 "$perf" --gpu --tensors "$m" -n 20 -w 5 2>&1) ||
		fails=$((fails + 1))
	echo "${tens[$m]}"
done

# world-size-1 overhead: raw time / detcomm time per size (ratio column, out of place)
overhead=$(awk '!/^#/ && NF >= 17 {
		o = (1.0 / $14 - 1.0) * 100; i = (1.0 / $16 - 1.0) * 100
		if ($1 >= 1048576) { n++; s += o; if (o > mx) mx = o }
		if (o > mxall) mxall = o
	}
	END {
		if (!n) { printf "not measured"; exit }
		printf "avg %+.1f %% (max %+.1f %%) from 1 MiB; max %+.1f %% at any size", s / n, mx, mxall
	}' <<<"$sweep")
grouped=$(grep 'grouped vs .* separate ncclAllReduce' <<<"${tens[resnet50]}" | sed 's/^# //')
pertensor=$(grep 'per tensor overhead' <<<"${tens[resnet50]}" | sed 's/^# //')
wrong=$(grep -h 'Out of bounds values' <<<"$sweep${tens[resnet50]}${tens[bert-base]}" | grep -vc ': 0 OK')

echo
echo "================ GPU summary ($(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)) ================"
echo "NCCL backend tests:         $t_pass passed, $t_fail failed"
echo "ws=1 overhead vs raw NCCL:  $overhead   (target: within 10 %)"
echo "ResNet-50 (161 tensors):    ${grouped:-not measured}   (target: >= 3x)"
echo "                            ${pertensor:-}"
echo "runs with wrong results:    $wrong; perf runs that failed: $fails"
echo "elapsed:                    $(($(date +%s) - t_start)) s (log: $log)"
[ "$t_fail" -eq 0 ] && [ "$wrong" -eq 0 ] && [ "$fails" -eq 0 ]
