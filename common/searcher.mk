# SPDX-License-Identifier: GPL-2.0-or-later
# Hyperparameter searchers.
noinst_HEADERS += common/searcher.h common/searcher_internal.h common/hparams.h common/prng.h
common_libdetcommon_la_SOURCES += common/prng.c common/hparams.c common/searcher.c \
	common/searcher_asha.c common/searcher_state.c
EXTRA_DIST += doc/searchers.md

SEARCHER_TEST_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CMOCKA_CFLAGS)
SEARCHER_TEST_LDADD = common/libdetcommon.la $(JANSSON_LIBS) $(CMOCKA_LIBS) $(LIBM)
noinst_HEADERS += tests/unit/searcher_test_util.h
check_PROGRAMS += tests/unit/test_searcher_hparams
TESTS += tests/unit/test_searcher_hparams
tests_unit_test_searcher_hparams_SOURCES = tests/unit/test_searcher_hparams.c
tests_unit_test_searcher_hparams_CFLAGS = $(SEARCHER_TEST_CFLAGS)
tests_unit_test_searcher_hparams_LDADD = $(SEARCHER_TEST_LDADD)
check_PROGRAMS += tests/unit/test_searcher
TESTS += tests/unit/test_searcher
tests_unit_test_searcher_SOURCES = tests/unit/test_searcher.c
tests_unit_test_searcher_CFLAGS = $(SEARCHER_TEST_CFLAGS)
tests_unit_test_searcher_LDADD = $(SEARCHER_TEST_LDADD)
check_PROGRAMS += tests/unit/test_searcher_asha
TESTS += tests/unit/test_searcher_asha
tests_unit_test_searcher_asha_SOURCES = tests/unit/test_searcher_asha.c
tests_unit_test_searcher_asha_CFLAGS = $(SEARCHER_TEST_CFLAGS)
tests_unit_test_searcher_asha_LDADD = $(SEARCHER_TEST_LDADD)
