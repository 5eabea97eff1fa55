# SPDX-License-Identifier: GPL-2.0-or-later
# common/: code shared by the binaries. One fragment per module keeps the
# modules' build lines apart.
noinst_LTLIBRARIES += common/libdetcommon.la
common_libdetcommon_la_SOURCES = common/log.c common/log.h common/errmsg.c common/errmsg.h
common_libdetcommon_la_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(JANSSON_CFLAGS)
common_libdetcommon_la_LIBADD = $(YAML_LIBS) $(JANSSON_LIBS) $(LIBM)
# /proc/PID/stat (rm_local and det-launch).
common_libdetcommon_la_SOURCES += common/proc_stat.c common/proc_stat.h
# Whole writes to a descriptor (det shell proxy, the master's relays, checkpoint tars).
common_libdetcommon_la_SOURCES += common/fdio.c common/fdio.h

include common/expconf.mk
include common/searcher.mk
include common/http_client.mk
include common/tfevents.mk
include common/sha256.mk
