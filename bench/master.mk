# SPDX-License-Identifier: GPL-2.0-or-later
# bench-master: trial-side load on a real det-master (make bench-master runs it).
noinst_PROGRAMS += bench/master/bench-master
bench_master_bench_master_SOURCES = bench/master/bench_master.c bench/master/rawload.c
noinst_HEADERS += bench/master/rawload.h
bench_master_bench_master_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
bench_master_bench_master_LDADD = common/libdethttp.la $(JANSSON_LIBS) $(PTHREAD_LIBS)
bench_master_bench_master_CFLAGS += $(PTHREAD_CFLAGS)

bench-master: bench/master/bench-master master/det-master
	bench/master/bench-master --master-bin master/det-master $(BENCH_MASTER_ARGS)
.PHONY: bench-master

# bench-report-p99: p99 of metric reports from 100 clients without and with a
# checkpoint GC deleting a 10,000-file directory in the same run, and the
# ingest rate against GET /health (not part of make check).
bench-report-p99: bench/master/bench-master master/det-master
	bench/master/bench-master --master-bin master/det-master --clients 100 --gc-files 10000 \
		$(BENCH_MASTER_ARGS)
.PHONY: bench-report-p99
