#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# GPU check of libdetcomm's NCCL backend, from the repository root:
#   bash tests/gpu/run.sh
# Builds libdetcomm, its GPU test and det-allreduce-perf with CUDA (configure --with-cuda)
# in _build/gpu, runs them on one GPU (world size 1: NCCL refuses two ranks on one GPU)
# and prints a summary: test results, overhead against raw NCCL calls, and the grouped
# ResNet-50 gradient set against 161 separate ncclAllReduce calls. About 1-3 minutes.
# Exit status 0 only when every test passed and no result was wrong.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cuda=${CUDA_HOME:-/usr/local/cuda}
build=$top/_build/gpu
log=$build/gpu-check.log
cd "$top" || exit 2

# ---- what this machine lacks, with the Debian package that provides it
missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 (Debian package $2)"); }
need_cmd gcc build-essential
need_cmd make build-essential
need_cmd autoreconf autoconf
need_cmd automake automake
need_cmd libtoolize libtool
need_cmd pkg-config pkg-config
need_cmd mpirun openmpi-bin
for f in include/cuda_runtime_api.h include/nccl.h lib64/libcudart.so lib64/libnccl.so; do
	[ -e "$cuda/$f" ] || missing+=("$cuda/$f (CUDA toolkit / NCCL)")
done
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
EOF
fi
[ -e /usr/include/slurm/slurm.h ] || missing+=("slurm/slurm.h (Debian package libslurm-dev)")
if [ ${#missing[@]} -gt 0 ]; then
	echo "tests/gpu/run.sh: cannot build, missing:"
	printf '  %s\n' "${missing[@]}"
	echo "(install them, e.g. apt-get install <packages>, then run this script again)"
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
step autoreconf -fi
cd "$build" || exit 2
step "$top/configure" --with-cuda="$cuda" CC=gcc
grep -q '^#define HAVE_CUDA 1' config.h || {
	echo "configure did not enable CUDA"
	exit 1
}
step make -j"$(nproc)" nccl-allreduce/libdetcomm.la nccl-allreduce/det-allreduce-perf \
	tests/gpu/test_detcomm_gpu

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
