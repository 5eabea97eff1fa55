# SPDX-License-Identifier: GPL-2.0-or-later
# det-launch: the trial runner, one per rank. Its pieces live in a
# convenience library so that the unit tests link exactly what ships.
noinst_LTLIBRARIES += launcher/libdetlaunch.la
launcher_libdetlaunch_la_SOURCES = launcher/launch_unpack.c launcher/launch_unpack.h \
	launcher/launch_tar.c launcher/launch_tar.h \
	launcher/launch_rank.c launcher/launch_rank.h launcher/launch_env.c launcher/launch_env.h \
	launcher/launch_logq.c launcher/launch_logq.h \
	launcher/launch_share.c launcher/launch_share.h launcher/launch_child.c launcher/launch_child.h \
	launcher/launch_net.c launcher/launch_net.h \
	launcher/launch_cpus.c launcher/launch_cpus.h \
	launcher/launch_reason.c launcher/launch_reason.h \
	launcher/launch_container.c launcher/launch_container.h \
	launcher/launch_oci.c launcher/launch_oci.h \
	launcher/launch_rtargv.c launcher/launch_rtargv.h
launcher_libdetlaunch_la_CFLAGS = $(AM_CFLAGS) $(ZLIB_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
launcher_libdetlaunch_la_LIBADD = common/libdetcommon.la common/libdethttp.la $(ZLIB_LIBS) $(JANSSON_LIBS) $(CURL_LIBS)

check_PROGRAMS += tests/unit/test_launch_unpack
TESTS += tests/unit/test_launch_unpack
tests_unit_test_launch_unpack_SOURCES = tests/unit/test_launch_unpack.c
tests_unit_test_launch_unpack_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/launcher
tests_unit_test_launch_unpack_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(ARCHIVE_CFLAGS)
tests_unit_test_launch_unpack_LDADD = launcher/libdetlaunch.la $(CMOCKA_LIBS) $(ARCHIVE_LIBS)

check_PROGRAMS += tests/unit/test_launch_rtargv
TESTS += tests/unit/test_launch_rtargv
tests_unit_test_launch_rtargv_SOURCES = tests/unit/test_launch_rtargv.c
tests_unit_test_launch_rtargv_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/launcher
tests_unit_test_launch_rtargv_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_launch_rtargv_LDADD = launcher/libdetlaunch.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_launch_env
TESTS += tests/unit/test_launch_env
tests_unit_test_launch_env_SOURCES = tests/unit/test_launch_env.c
tests_unit_test_launch_env_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/launcher
tests_unit_test_launch_env_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_launch_env_LDADD = launcher/libdetlaunch.la $(CMOCKA_LIBS) $(JANSSON_LIBS)

check_PROGRAMS += tests/unit/test_launch_logq
TESTS += tests/unit/test_launch_logq
tests_unit_test_launch_logq_SOURCES = tests/unit/test_launch_logq.c
tests_unit_test_launch_logq_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/launcher
tests_unit_test_launch_logq_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_launch_logq_LDADD = launcher/libdetlaunch.la $(CMOCKA_LIBS) $(JANSSON_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_launch_child
TESTS += tests/unit/test_launch_child
tests_unit_test_launch_child_SOURCES = tests/unit/test_launch_child.c
tests_unit_test_launch_child_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/launcher
tests_unit_test_launch_child_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_launch_child_LDADD = launcher/libdetlaunch.la $(CMOCKA_LIBS) $(JANSSON_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_launch_net
TESTS += tests/unit/test_launch_net
tests_unit_test_launch_net_SOURCES = tests/unit/test_launch_net.c
tests_unit_test_launch_net_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/launcher
tests_unit_test_launch_net_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_launch_net_LDADD = launcher/libdetlaunch.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_launch_cpus
TESTS += tests/unit/test_launch_cpus
tests_unit_test_launch_cpus_SOURCES = tests/unit/test_launch_cpus.c
tests_unit_test_launch_cpus_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/launcher
tests_unit_test_launch_cpus_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_launch_cpus_LDADD = launcher/libdetlaunch.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_launch_reason
TESTS += tests/unit/test_launch_reason
tests_unit_test_launch_reason_SOURCES = tests/unit/test_launch_reason.c
tests_unit_test_launch_reason_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/launcher
tests_unit_test_launch_reason_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_launch_reason_LDADD = launcher/libdetlaunch.la $(CMOCKA_LIBS)

bin_PROGRAMS += launcher/det-launch
launcher_det_launch_SOURCES = launcher/launch_main.c launcher/launch_master.c \
	launcher/launch_master.h launcher/launch_command.c launcher/launch_command.h
launcher_det_launch_CPPFLAGS = $(AM_CPPFLAGS) -DDET_PYTHONDIR='"$(detpythondir)"' \
	-DDET_SRC_PYTHONDIR='"$(abs_top_srcdir)/launcher/python"' -DBINDIR='"$(bindir)"' \
	-DDET_BUILD_EXAMPLES_PATH='"$(abs_top_builddir)/examples/fashion-mnist"'
launcher_det_launch_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
launcher_det_launch_LDADD = launcher/libdetlaunch.la common/libdethttp.la $(ARCHIVE_LIBS) \
	$(JANSSON_LIBS) $(CURL_LIBS) $(PTHREAD_LIBS)

# Integration tests with a real det-master (skipped where it is not built).
TESTS += tests/integration/test-fork.sh
EXTRA_DIST += tests/integration/test-fork.sh
TESTS += tests/integration/test-trial-run.sh tests/integration/test-trial-faults.sh \
	tests/integration/test-trial-asha.sh tests/integration/test-trial-pytorch.sh \
	tests/integration/test-trial-asha-rules.sh
TESTS += tests/integration/test-trial-pytorchtrial.sh
EXTRA_DIST += tests/integration/test-trial-pytorchtrial.sh
TESTS += tests/integration/test-trial-reasons.sh
EXTRA_DIST += tests/integration/test-trial-reasons.sh
TESTS += tests/integration/test-trial-startup-hook.sh
EXTRA_DIST += tests/integration/test-trial-startup-hook.sh
EXTRA_DIST += tests/integration/trial-lib.sh tests/integration/test-trial-run.sh \
	tests/integration/test-trial-faults.sh tests/integration/test-trial-asha.sh \
	tests/integration/test-trial-pytorch.sh tests/integration/test-trial-asha-rules.sh \
	tests/integration/asha_rules.py

check_PROGRAMS += tests/unit/test_launch_privdir
TESTS += tests/unit/test_launch_privdir
tests_unit_test_launch_privdir_SOURCES = tests/unit/test_launch_privdir.c
tests_unit_test_launch_privdir_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/launcher
tests_unit_test_launch_privdir_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_launch_privdir_LDADD = launcher/libdetlaunch.la $(CMOCKA_LIBS)
