# SPDX-License-Identifier: GPL-2.0-or-later
# slurm-plugin: spank_det.so (SPANK) and job_submit_det.so (slurmctld), built
# out of tree and not linked with libslurm: the Slurm processes that load them
# provide its symbols. spank_det needs libslurm-dev's public headers only;
# job_submit_det also slurmctld's, from the Slurm source tree of the installed
# release (configure --with-slurm-src; without it, it is not built). Installed
# in $(pkglibdir) (e.g. /usr/local/lib/det-slurm); doc/admin.md says how
# Slurm finds them there.
detslurmplugindir = $(pkglibdir)
detslurmplugin_LTLIBRARIES = slurm-plugin/spank_det.la
if HAVE_SLURM_SRC
detslurmplugin_LTLIBRARIES += slurm-plugin/job_submit_det.la
# distcheck's own build gets the same Slurm tree.
AM_DISTCHECK_CONFIGURE_FLAGS = --with-slurm-src=$(SLURM_SRC_DIR)
endif

# Where job_submit_det reads its policy unless DET_SLURM_CONF says otherwise:
# where make install puts det.conf (etc/master.mk).
detslurmconf = $(sysconfdir)/det-slurm/det.conf

DET_PLUGIN_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared

slurm_plugin_spank_det_la_SOURCES = slurm-plugin/spank_det.c slurm-plugin/spank_det.h \
	slurm-plugin/spank_det_options.c slurm-plugin/spank_det_submit.c \
	slurm-plugin/spank_det_remote.c \
	slurm-plugin/spank_det_report.c slurm-plugin/spank_det_event.c \
	slurm-plugin/spank_det_event.h slurm-plugin/spank_det_args.c slurm-plugin/spank_det_args.h \
	slurm-plugin/spank_det_step.c slurm-plugin/spank_det_step.h
slurm_plugin_spank_det_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(MUNGE_CFLAGS) $(CURL_CFLAGS)
slurm_plugin_spank_det_la_LDFLAGS = $(DET_PLUGIN_LDFLAGS) \
	-Wl,--version-script=$(srcdir)/slurm-plugin/spank_det.map
slurm_plugin_spank_det_la_LIBADD = common/libdethttp.la $(CURL_LIBS) $(JANSSON_LIBS) $(MUNGE_LIBS)
EXTRA_slurm_plugin_spank_det_la_DEPENDENCIES = slurm-plugin/spank_det.map

# The pure policy, compiled into job_submit_det.so, its unit tests and the bench.
DET_POLICY_SOURCES = slurm-plugin/det_policy.c slurm-plugin/det_policy.h \
	slurm-plugin/det_policy_modify.c slurm-plugin/det_policy_internal.h \
	common/errmsg.c common/errmsg.h

slurm_plugin_job_submit_det_la_SOURCES = slurm-plugin/job_submit_det.c slurm-plugin/det_slurmctld.h \
	$(DET_POLICY_SOURCES)
slurm_plugin_job_submit_det_la_CPPFLAGS = $(AM_CPPFLAGS) $(SLURM_SRC_CPPFLAGS) \
	-DDET_SLURM_CONF_DEFAULT='"$(detslurmconf)"'
slurm_plugin_job_submit_det_la_LDFLAGS = $(DET_PLUGIN_LDFLAGS) \
	-Wl,--version-script=$(srcdir)/slurm-plugin/job_submit_det.map
EXTRA_slurm_plugin_job_submit_det_la_DEPENDENCIES = slurm-plugin/job_submit_det.map

EXTRA_DIST += slurm-plugin/spank_det.map slurm-plugin/job_submit_det.map

# Unit tests of the pure parts (no Slurm needed).
check_PROGRAMS += tests/unit/test_det_policy tests/unit/test_spank_det
TESTS += tests/unit/test_det_policy tests/unit/test_spank_det
tests_unit_test_det_policy_SOURCES = tests/unit/test_det_policy.c $(DET_POLICY_SOURCES)
tests_unit_test_det_policy_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/slurm-plugin
tests_unit_test_det_policy_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_det_policy_LDADD = $(CMOCKA_LIBS)
tests_unit_test_spank_det_SOURCES = tests/unit/test_spank_det.c slurm-plugin/spank_det_args.c \
	slurm-plugin/spank_det_args.h slurm-plugin/spank_det_event.c slurm-plugin/spank_det_event.h \
	slurm-plugin/spank_det_step.c slurm-plugin/spank_det_step.h
tests_unit_test_spank_det_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/slurm-plugin
tests_unit_test_spank_det_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_spank_det_LDADD = $(CMOCKA_LIBS) $(JANSSON_LIBS)

check_PROGRAMS += tests/unit/test_det_policy_modify
TESTS += tests/unit/test_det_policy_modify
tests_unit_test_det_policy_modify_SOURCES = tests/unit/test_det_policy_modify.c \
	$(DET_POLICY_SOURCES)
tests_unit_test_det_policy_modify_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/slurm-plugin
tests_unit_test_det_policy_modify_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_det_policy_modify_LDADD = $(CMOCKA_LIBS)

if HAVE_SLURM_SRC
check_PROGRAMS += tests/unit/test_job_submit_det
TESTS += tests/unit/test_job_submit_det
else
TESTS += tests/unit/job_submit_det_skip.sh
endif
EXTRA_DIST += tests/unit/job_submit_det_skip.sh
tests_unit_test_job_submit_det_SOURCES = tests/unit/test_job_submit_det.c \
	slurm-plugin/job_submit_det.c slurm-plugin/det_slurmctld.h $(DET_POLICY_SOURCES) \
	tests/unit/slurmctld_host.c tests/unit/slurmctld_host.h
tests_unit_test_job_submit_det_CPPFLAGS = $(AM_CPPFLAGS) $(SLURM_SRC_CPPFLAGS) \
	-I$(top_srcdir)/slurm-plugin -I$(top_srcdir)/tests/unit
tests_unit_test_job_submit_det_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_job_submit_det_LDADD = $(CMOCKA_LIBS)
