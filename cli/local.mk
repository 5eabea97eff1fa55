# SPDX-License-Identifier: GPL-2.0-or-later
# cli/: the det command line. One file per command group; the command table
# is in cli/main.c. The command groups that talk to the master build into a
# convenience library.
noinst_LTLIBRARIES += cli/libdetcli.la
cli_libdetcli_la_SOURCES = cli/cli.h cli/client.h cli/client.c cli/output.c cli/pack.c \
	cli/cmd_experiment.c cli/cmd_trial.c cli/cmd_checkpoint.c cli/cmd_user.c \
	cli/cmd_cluster.c cli/cmd_submit.c cli/cmd_workspace.c cli/cmd_template.c cli/cmd_fork.c cli/cmd_model.c \
	cli/cmd_image.c cli/cmd_task.c cli/cmd_notebook.c cli/cmd_shell.c \
	cli/cmd_tensorboard.c \
	cli/munge_cred.h cli/munge_cred.c \
	cli/ckpt_download.h cli/ckpt_download.c
cli_libdetcli_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS) $(ARCHIVE_CFLAGS) \
	$(MUNGE_CFLAGS)
cli_libdetcli_la_LIBADD = common/libdethttp.la $(JANSSON_LIBS) $(ARCHIVE_LIBS) $(MUNGE_LIBS)

bin_PROGRAMS += cli/det
cli_det_SOURCES = cli/main.c cli/cmd_preview.c
cli_det_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
cli_det_LDADD = cli/libdetcli.la common/libdetcommon.la common/libdethttp.la $(JANSSON_LIBS) $(LIBM)

TESTS += tests/cli/preview-search.test
EXTRA_DIST += tests/cli/preview-search.test

check_PROGRAMS += tests/unit/test_cli_ckpt_download
TESTS += tests/unit/test_cli_ckpt_download
tests_unit_test_cli_ckpt_download_SOURCES = tests/unit/test_cli_ckpt_download.c
tests_unit_test_cli_ckpt_download_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/cli
tests_unit_test_cli_ckpt_download_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_cli_ckpt_download_LDADD = cli/libdetcli.la common/libdetcommon.la $(CMOCKA_LIBS) \
	$(JANSSON_LIBS) $(LIBM)
