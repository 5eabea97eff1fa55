# SPDX-License-Identifier: GPL-2.0-or-later
# HTTP client for det-master (libcurl), kept apart from libdetcommon so that
# only the programs that talk to the master link libcurl.
noinst_LTLIBRARIES += common/libdethttp.la
common_libdethttp_la_SOURCES = common/http_client.c common/http_client.h \
	common/http_retry.c common/http_retry.h
common_libdethttp_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
common_libdethttp_la_LIBADD = $(CURL_LIBS) $(JANSSON_LIBS)

check_PROGRAMS += tests/unit/test_http_client
TESTS += tests/unit/test_http_client
tests_unit_test_http_client_SOURCES = tests/unit/test_http_client.c
tests_unit_test_http_client_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_http_client_LDADD = common/libdethttp.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
