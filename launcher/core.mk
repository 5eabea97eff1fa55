# SPDX-License-Identifier: GPL-2.0-or-later
# libdetcore: the C Core API (installed, header det/core.h).
lib_LTLIBRARIES += launcher/libdetcore.la
detincludedir = $(includedir)/det
detinclude_HEADERS = launcher/det/core.h
launcher_libdetcore_la_SOURCES = launcher/core.c launcher/core_report.c launcher/core_ckpt.c \
	launcher/core_remote.c launcher/core_internal.h common/sha256.c common/sha256.h
launcher_libdetcore_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/launcher
launcher_libdetcore_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
launcher_libdetcore_la_LIBADD = common/libdethttp.la $(JANSSON_LIBS) $(CURL_LIBS) $(LIBM)
launcher_libdetcore_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 -no-undefined

check_PROGRAMS += tests/unit/test_core
TESTS += tests/unit/test_core
tests_unit_test_core_SOURCES = tests/unit/test_core.c
tests_unit_test_core_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/launcher
tests_unit_test_core_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_core_LDADD = launcher/libdetcore.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
