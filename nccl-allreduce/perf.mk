# SPDX-License-Identifier: GPL-2.0-or-later
# det-allreduce-perf: the nccl-tests-style benchmark of libdetcomm (an MPI program).
bin_PROGRAMS += nccl-allreduce/det-allreduce-perf
nccl_allreduce_det_allreduce_perf_SOURCES = nccl-allreduce/perf/perf.h \
	nccl-allreduce/perf/perf_main.c nccl-allreduce/perf/perf_ops.c \
	nccl-allreduce/perf/perf_models.c nccl-allreduce/perf/perf_tensors.c
nccl_allreduce_det_allreduce_perf_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nccl-allreduce
nccl_allreduce_det_allreduce_perf_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS)
nccl_allreduce_det_allreduce_perf_LDADD = nccl-allreduce/libdetcomm.la $(MPI_LIBS)
if HAVE_CUDA
nccl_allreduce_det_allreduce_perf_SOURCES += nccl-allreduce/perf/perf_gpu.c
nccl_allreduce_det_allreduce_perf_CFLAGS += $(CUDA_CFLAGS)
nccl_allreduce_det_allreduce_perf_LDADD += $(CUDA_LIBS)
else
nccl_allreduce_det_allreduce_perf_SOURCES += nccl-allreduce/perf/perf_gpu_none.c
endif
EXTRA_DIST += nccl-allreduce/perf/perf_gpu.c nccl-allreduce/perf/perf_gpu_none.c
