# SPDX-License-Identifier: GPL-2.0-or-later
# Experiment configuration (YAML -> normalized JSON).
noinst_HEADERS += common/expconf.h
common_libdetcommon_la_SOURCES += \
	common/expconf.c \
	common/expconf_check.c common/expconf_check.h \
	common/expconf_diag.c common/expconf_diag.h \
	common/expconf_hparams.c \
	common/expconf_searcher.c common/expconf_searcher.h \
	common/yamltree.c common/yamltree.h \
	common/expconf_merge.c

check_PROGRAMS += tests/unit/test_expconf
TESTS += tests/unit/test_expconf
tests_unit_test_expconf_SOURCES = tests/unit/test_expconf.c
tests_unit_test_expconf_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_expconf_LDADD = common/libdetcommon.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
EXTRA_DIST += tests/data/expconf

# The fuzz corpus is replayed by a plain driver on every `make check`.
check_PROGRAMS += tests/fuzz/replay_expconf
TESTS += tests/fuzz/replay_expconf
tests_fuzz_replay_expconf_SOURCES = tests/fuzz/fuzz_expconf.c tests/fuzz/replay.c
tests_fuzz_replay_expconf_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	-DREPLAY_CORPUS='"tests/fuzz/corpus/expconf"'
tests_fuzz_replay_expconf_LDADD = common/libdetcommon.la $(JANSSON_LIBS)
EXTRA_DIST += tests/fuzz/corpus/expconf

# `make fuzz` (CC=clang): the libFuzzer binary, run by hand:
#   tests/fuzz/fuzz_expconf -max_total_time=300 $(srcdir)/tests/fuzz/corpus/expconf
EXPCONF_FUZZ_SRCS = $(srcdir)/tests/fuzz/fuzz_expconf.c \
	$(srcdir)/common/expconf.c $(srcdir)/common/expconf_check.c \
	$(srcdir)/common/expconf_diag.c $(srcdir)/common/expconf_hparams.c \
	$(srcdir)/common/expconf_searcher.c $(srcdir)/common/yamltree.c
.PHONY: fuzz fuzz-expconf
fuzz: fuzz-expconf
fuzz-expconf:
	@if ! $(CC) --version 2>/dev/null | grep -q clang; then \
		echo "make fuzz needs CC=clang (libFuzzer)"; exit 1; fi
	@mkdir -p tests/fuzz
	$(CC) -g -O1 -fsanitize=fuzzer,address,undefined $(AM_CPPFLAGS) \
		$(YAML_CFLAGS) $(JANSSON_CFLAGS) $(EXPCONF_FUZZ_SRCS) \
		$(YAML_LIBS) $(JANSSON_LIBS) $(LIBM) -o tests/fuzz/fuzz_expconf
CLEANFILES += tests/fuzz/fuzz_expconf
EXTRA_DIST += tests/fuzz/expconf.dict

check_PROGRAMS += tests/unit/test_expconf_merge
TESTS += tests/unit/test_expconf_merge
tests_unit_test_expconf_merge_SOURCES = tests/unit/test_expconf_merge.c
tests_unit_test_expconf_merge_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/common
tests_unit_test_expconf_merge_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_expconf_merge_LDADD = common/libdetcommon.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
