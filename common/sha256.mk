# SPDX-License-Identifier: GPL-2.0-or-later
# SHA-256 (checkpoint checksums), part of libdetcommon.
common_libdetcommon_la_SOURCES += common/sha256.c common/sha256.h

check_PROGRAMS += tests/unit/test_sha256
TESTS += tests/unit/test_sha256
tests_unit_test_sha256_SOURCES = tests/unit/test_sha256.c
tests_unit_test_sha256_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_sha256_LDADD = common/libdetcommon.la $(CMOCKA_LIBS)
