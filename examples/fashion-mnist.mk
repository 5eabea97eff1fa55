# SPDX-License-Identifier: GPL-2.0-or-later
# examples/fashion-mnist: an MLP on Fashion-MNIST in C (OpenBLAS, zlib), a
# det-slurm trial through libdetcore.
noinst_LTLIBRARIES += examples/fashion-mnist/libfmnist.la
examples_fashion_mnist_libfmnist_la_SOURCES = examples/fashion-mnist/fm_rng.c \
	examples/fashion-mnist/fm_rng.h examples/fashion-mnist/fm_data.c \
	examples/fashion-mnist/fm_data.h examples/fashion-mnist/fm_mlp.c \
	examples/fashion-mnist/fm_mlp.h examples/fashion-mnist/fm_train.c \
	examples/fashion-mnist/fm_train.h
examples_fashion_mnist_libfmnist_la_CFLAGS = $(AM_CFLAGS) $(OPENBLAS_CFLAGS) $(ZLIB_CFLAGS)
examples_fashion_mnist_libfmnist_la_LIBADD = $(OPENBLAS_LIBS) $(ZLIB_LIBS) $(LIBM)

bin_PROGRAMS += examples/fashion-mnist/det-example-fashion-mnist
examples_fashion_mnist_det_example_fashion_mnist_SOURCES = examples/fashion-mnist/fm_main.c \
	examples/fashion-mnist/fm_dist.c examples/fashion-mnist/fm_dist.h
examples_fashion_mnist_det_example_fashion_mnist_CPPFLAGS = $(AM_CPPFLAGS) \
	-I$(top_srcdir)/launcher -I$(top_srcdir)/nccl-allreduce
examples_fashion_mnist_det_example_fashion_mnist_CFLAGS = $(AM_CFLAGS) $(OPENBLAS_CFLAGS) \
	$(MPI_CFLAGS)
examples_fashion_mnist_det_example_fashion_mnist_LDADD = examples/fashion-mnist/libfmnist.la \
	launcher/libdetcore.la nccl-allreduce/libdetcomm.la $(MPI_LIBS)

EXTRA_DIST += examples/fashion-mnist/README.md examples/fashion-mnist/const.yaml \
	examples/fashion-mnist/random.yaml examples/fashion-mnist/grid.yaml \
	examples/fashion-mnist/asha.yaml

check_PROGRAMS += tests/unit/test_fmnist
TESTS += tests/unit/test_fmnist
tests_unit_test_fmnist_SOURCES = tests/unit/test_fmnist.c
tests_unit_test_fmnist_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/launcher \
	-I$(top_srcdir)/examples/fashion-mnist
tests_unit_test_fmnist_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(OPENBLAS_CFLAGS) $(ZLIB_CFLAGS)
tests_unit_test_fmnist_LDADD = examples/fashion-mnist/libfmnist.la launcher/libdetcore.la \
	$(CMOCKA_LIBS) $(ZLIB_LIBS)

# examples/python-core-api: a plain-Python Core API script
EXTRA_DIST += examples/python-core-api/train.py examples/python-core-api/const.yaml \
	examples/python-core-api/adaptive.yaml examples/python-core-api/README.md \
	examples/python-core-api/container.yaml
# examples/pytorch: a CNN with Debian's python3-torch
EXTRA_DIST += examples/pytorch/train.py examples/pytorch/const.yaml \
	examples/pytorch/distributed.yaml examples/pytorch/README.md \
	examples/pytorch/model_def.py examples/pytorch/trial-const.yaml \
	examples/pytorch/trial-distributed.yaml examples/pytorch/trial-legacy.yaml \
	examples/pytorch/trial-asha.yaml
TESTS += tests/python/test-examples.sh
EXTRA_DIST += tests/python/test-examples.sh

# data-parallel training (libdetcomm over MPI ranks)
TESTS += tests/examples/fm-distributed.test
EXTRA_DIST += tests/examples/fm-distributed.test examples/fashion-mnist/distributed.yaml
