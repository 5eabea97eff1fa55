# SPDX-License-Identifier: GPL-2.0-or-later
# cli/: the det command line. One file per command group; the command table
# is in cli/main.c.
# (The program is enabled once common/expconf.c and common/searcher.c exist.)
#bin_PROGRAMS += cli/det
#cli_det_SOURCES = cli/main.c cli/cli.h cli/output.c cli/cmd_preview.c
#cli_det_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS)
#cli_det_LDADD = common/libdetcommon.la common/libdethttp.la $(JANSSON_LIBS) $(LIBM)
