# SPDX-License-Identifier: GPL-2.0-or-later
# master: det-master, the REST API, store, state machines and resource managers.
# Everything but main.c goes into a convenience library that the unit tests link.
noinst_LTLIBRARIES += master/libdetmaster.la
master_libdetmaster_la_SOURCES = \
	master/master_config.c master/master_config.h \
	master/http_server.c master/http_server.h \
	master/store.c master/store.h master/store_internal.h \
	master/store_rows.c master/store_read.c \
	master/fsm.c master/fsm.h master/auth.c master/auth.h \
	master/rm.h master/rm_local.c master/app.h master/exp.c master/exp.h \
	master/api.c master/api.h master/api_internal.h master/api_exp.c master/api_trial.c
nodist_master_libdetmaster_la_SOURCES = master/store_schema.h
master_libdetmaster_la_CPPFLAGS = $(AM_CPPFLAGS) -DBINDIR='"$(bindir)"'
master_libdetmaster_la_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(JANSSON_CFLAGS) \
	$(SQLITE_CFLAGS) $(MHD_CFLAGS) $(CRYPT_CFLAGS)
master_libdetmaster_la_LIBADD = common/libdetcommon.la $(YAML_LIBS) $(JANSSON_LIBS) \
	$(SQLITE_LIBS) $(MHD_LIBS) $(CRYPT_LIBS) $(PTHREAD_LIBS) $(LIBM)

# Migrations are SQL files, compiled into the binary as C strings.
MASTER_SCHEMA = master/schema/001_init.sql
EXTRA_DIST += $(MASTER_SCHEMA) master/schema/embed.awk
CLEANFILES += master/store_schema.h
BUILT_SOURCES += master/store_schema.h
master/store_schema.h: $(MASTER_SCHEMA) master/schema/embed.awk
	$(AM_V_GEN)$(MKDIR_P) master && \
	$(AWK) -f $(srcdir)/master/schema/embed.awk \
		$(srcdir)/master/schema/001_init.sql > $@.tmp && mv $@.tmp $@

sbin_PROGRAMS += master/det-master
master_det_master_SOURCES = master/main.c
master_det_master_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
master_det_master_LDADD = master/libdetmaster.la
