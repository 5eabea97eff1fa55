# SPDX-License-Identifier: GPL-2.0-or-later
# nccl-allreduce: libdetcomm (collectives over MPI ranks) and det-allreduce-perf.
lib_LTLIBRARIES += nccl-allreduce/libdetcomm.la
# installed as <det/comm.h>
detcommincludedir = $(includedir)/det
detcomminclude_HEADERS = nccl-allreduce/det/comm.h
nccl_allreduce_libdetcomm_la_SOURCES = nccl-allreduce/det/comm.h \
	nccl-allreduce/detcomm.c nccl-allreduce/detcomm_internal.h \
	nccl-allreduce/detcomm_reduce.c nccl-allreduce/detcomm_shm.c \
	nccl-allreduce/detcomm_shm.h nccl-allreduce/detcomm_engine.c \
	nccl-allreduce/detcomm_stream.c
nccl_allreduce_libdetcomm_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nccl-allreduce
nccl_allreduce_libdetcomm_la_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS)
nccl_allreduce_libdetcomm_la_LIBADD = $(MPI_LIBS) $(PTHREAD_LIBS) $(LIBM) -lrt
nccl_allreduce_libdetcomm_la_LDFLAGS = -version-info 0:0:0
if HAVE_CUDA
nccl_allreduce_libdetcomm_la_SOURCES += nccl-allreduce/detcomm_nccl.c
nccl_allreduce_libdetcomm_la_CFLAGS += $(CUDA_CFLAGS)
nccl_allreduce_libdetcomm_la_LIBADD += $(CUDA_LIBS)
else
nccl_allreduce_libdetcomm_la_SOURCES += nccl-allreduce/detcomm_nccl_none.c
endif
EXTRA_DIST += nccl-allreduce/detcomm_nccl.c nccl-allreduce/detcomm_nccl_none.c

include nccl-allreduce/perf.mk

# MPI tests: run.sh runs the programs under mpirun and prints TAP.
check_PROGRAMS += tests/detcomm/test_detcomm tests/detcomm/test_detcomm_dead
tests_detcomm_test_detcomm_SOURCES = tests/detcomm/test_detcomm.c
tests_detcomm_test_detcomm_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nccl-allreduce
tests_detcomm_test_detcomm_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS)
tests_detcomm_test_detcomm_LDADD = nccl-allreduce/libdetcomm.la $(MPI_LIBS)
tests_detcomm_test_detcomm_dead_SOURCES = tests/detcomm/test_detcomm_dead.c
tests_detcomm_test_detcomm_dead_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nccl-allreduce
tests_detcomm_test_detcomm_dead_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS)
tests_detcomm_test_detcomm_dead_LDADD = nccl-allreduce/libdetcomm.la $(MPI_LIBS)
TESTS += tests/detcomm/run.sh
EXTRA_DIST += tests/detcomm/run.sh

# Benchmark wrapper, GPU check script, documentation.
EXTRA_DIST += bench/allreduce.sh tests/gpu/run.sh doc/detcomm.md
dist_man_MANS += doc/det-allreduce-perf.1

# The NCCL backend's own test: device memory on a GPU machine (tests/gpu/run.sh), and
# the no-GPU error path wherever CUDA is installed (tests/detcomm/run.sh).
if HAVE_CUDA
check_PROGRAMS += tests/gpu/test_detcomm_gpu
tests_gpu_test_detcomm_gpu_SOURCES = tests/gpu/test_detcomm_gpu.c
tests_gpu_test_detcomm_gpu_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nccl-allreduce
tests_gpu_test_detcomm_gpu_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS) $(CUDA_CFLAGS)
tests_gpu_test_detcomm_gpu_LDADD = nccl-allreduce/libdetcomm.la $(MPI_LIBS) $(CUDA_LIBS)
endif
EXTRA_DIST += tests/gpu/test_detcomm_gpu.c

# Unit tests of the kernels, conversions and gradient sets (cmocka, no MPI run).
check_PROGRAMS += tests/unit/test_detcomm_reduce
TESTS += tests/unit/test_detcomm_reduce
tests_unit_test_detcomm_reduce_SOURCES = tests/unit/test_detcomm_reduce.c \
	nccl-allreduce/perf/perf_models.c
tests_unit_test_detcomm_reduce_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nccl-allreduce
tests_unit_test_detcomm_reduce_CFLAGS = $(AM_CFLAGS) $(MPI_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_detcomm_reduce_LDADD = nccl-allreduce/libdetcomm.la $(MPI_LIBS) $(CMOCKA_LIBS)
