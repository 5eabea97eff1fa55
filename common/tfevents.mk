# SPDX-License-Identifier: GPL-2.0-or-later
# TensorBoard event file writer.
common_libdetcommon_la_SOURCES += common/tfevents.c common/tfevents.h

check_PROGRAMS += tests/tfevents/tfevents_write tests/tfevents/test_tfevents_unit
tests_tfevents_tfevents_write_SOURCES = tests/tfevents/tfevents_write.c
tests_tfevents_tfevents_write_LDADD = common/libdetcommon.la
tests_tfevents_test_tfevents_unit_SOURCES = tests/tfevents/test_tfevents_unit.c
tests_tfevents_test_tfevents_unit_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_tfevents_test_tfevents_unit_LDADD = common/libdetcommon.la $(CMOCKA_LIBS)
TESTS += tests/tfevents/test_tfevents_unit tests/tfevents/tfevents.test
EXTRA_DIST += tests/tfevents/tfevents.test tests/tfevents/tfevents_read.py
