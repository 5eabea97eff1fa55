/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-launch's log queue: batching in order, spilling when full and when
 * the master is unreachable, sending the spill later (before newer lines),
 * the spill-size bound, line cleanup, and that pushing never waits for a
 * slow send.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "launch_logq.h"
#include "unit_tmpdir.h"

struct sink {
	json_t *lines; /* every line received, in order */
	size_t batches;
	size_t max_seen; /* largest batch */
	int fail;        /* refuse every send */
	int fail_after;  /* >0: refuse every send after this many batches */
	int sleep_ms;
};

static int sink_send(void *ctx, const json_t *body, char *err, size_t errlen)
{
	struct sink *s = ctx;
	if (s->sleep_ms) {
		struct timespec ts = {0, s->sleep_ms * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (s->fail || (s->fail_after && (int)s->batches >= s->fail_after)) {
		snprintf(err, errlen, "master unreachable");
		return -1;
	}
	json_t *logs = json_object_get(body, "logs");
	size_t i;
	json_t *e;
	s->batches++;
	if (json_array_size(logs) > s->max_seen)
		s->max_seen = json_array_size(logs);
	for (i = 0; i < json_array_size(logs); i++) {
		e = json_array_get(logs, i);
		json_array_append(s->lines, e);
	}
	return 0;
}

struct fixture {
	char dir[64];
	char spill[96];
	struct sink sink;
};

static int setup(void **state)
{
	struct fixture *f = unit_dir_fixture_new(sizeof(*f), sizeof(f->dir), "test_logq_");
	if (!f)
		return -1;
	snprintf(f->spill, sizeof(f->spill), "%s/spill.jsonl", f->dir);
	f->sink.lines = json_array();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->spill);
	rmdir(f->dir);
	json_decref(f->sink.lines);
	free(f);
	return 0;
}

static void push_n(struct launch_logq *q, int from, int to)
{
	char line[32];
	for (int i = from; i < to; i++) {
		int n = snprintf(line, sizeof(line), "line %d", i);
		launch_logq_push(q, i % 2 ? "stderr" : "stdout", line, (size_t)n);
	}
}

static void expect_lines(struct sink *s, int from, int to)
{
	assert_int_equal(json_array_size(s->lines), to - from);
	for (int i = from; i < to; i++) {
		char want[32];
		snprintf(want, sizeof(want), "line %d", i);
		json_t *e = json_array_get(s->lines, (size_t)(i - from));
		assert_string_equal(json_string_value(json_object_get(e, "line")), want);
	}
}

static void test_lines_sent_in_order_in_bounded_batches(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct launch_logq *q = launch_logq_new(3, 100, f->spill, 1 << 20, err, sizeof(err));
	assert_non_null(q);
	push_n(q, 0, 25);
	assert_int_equal(launch_logq_pending(q), 25);
	assert_int_equal(launch_logq_ship(q, 10, sink_send, &f->sink, err, sizeof(err)), 25);
	assert_int_equal(f->sink.batches, 3);
	assert_int_equal(f->sink.max_seen, 10);
	expect_lines(&f->sink, 0, 25);
	json_t *e = json_array_get(f->sink.lines, 1);
	assert_int_equal(json_integer_value(json_object_get(e, "rank")), 3);
	assert_string_equal(json_string_value(json_object_get(e, "stream")), "stderr");
	const char *ts = json_string_value(json_object_get(e, "timestamp"));
	assert_non_null(ts);
	assert_int_equal(strlen(ts), strlen("2026-01-02T03:04:05.123456Z"));
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[strlen(ts) - 1], 'Z');
	assert_int_equal(launch_logq_pending(q), 0);
	launch_logq_free(q);
}

static void test_full_queue_spills_and_spill_goes_first(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct launch_logq *q = launch_logq_new(0, 5, f->spill, 1 << 20, err, sizeof(err));
	push_n(q, 0, 12); /* 0-4 queued, 5-11 spilled */
	assert_int_equal(launch_logq_pending(q), 12);
	assert_int_equal(access(f->spill, F_OK), 0);
	assert_int_equal(launch_logq_ship(q, 4, sink_send, &f->sink, err, sizeof(err)), 12);
	assert_int_equal(json_array_size(f->sink.lines), 12);
	assert_int_equal(f->sink.max_seen, 4); /* the spill goes a batch at a time too */
	/* spilled lines first, then the queue */
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(f->sink.lines, 0), "line")), "line 5");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(f->sink.lines, 7), "line")), "line 0");
	assert_int_equal(access(f->spill, F_OK), -1);
	launch_logq_free(q);
}

static void test_unreachable_master_spills_and_later_sends_everything(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct launch_logq *q = launch_logq_new(1, 100, f->spill, 1 << 20, err, sizeof(err));
	push_n(q, 0, 10);
	f->sink.fail = 1;
	assert_int_equal(launch_logq_ship(q, 4, sink_send, &f->sink, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unreachable"));
	assert_int_equal(launch_logq_pending(q), 10);
	push_n(q, 10, 15);
	assert_int_equal(launch_logq_ship(q, 4, sink_send, &f->sink, err, sizeof(err)), -1);
	assert_int_equal(launch_logq_pending(q), 15);
	f->sink.fail = 0;
	push_n(q, 15, 20);
	assert_int_equal(launch_logq_ship(q, 4, sink_send, &f->sink, err, sizeof(err)), 20);
	expect_lines(&f->sink, 0, 20);
	assert_int_equal(launch_logq_pending(q), 0);
	assert_int_equal(launch_logq_dropped(q), 0);
	launch_logq_free(q);
}

static void test_outage_in_the_middle_of_the_spill_resumes_where_it_stopped(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct launch_logq *q = launch_logq_new(0, 1, f->spill, 1 << 20, err, sizeof(err));
	push_n(q, 0, 11); /* 0 queued, 1-10 spilled */
	f->sink.fail_after = 2;
	assert_int_equal(launch_logq_ship(q, 3, sink_send, &f->sink, err, sizeof(err)), -1);
	assert_int_equal(json_array_size(f->sink.lines), 6); /* two batches of 3 got through */
	assert_int_equal(launch_logq_pending(q), 5);
	f->sink.fail_after = 0;
	assert_int_equal(launch_logq_ship(q, 3, sink_send, &f->sink, err, sizeof(err)), 5);
	/* nothing lost, nothing twice: 1..10 from the spill, then 0 from the queue */
	assert_int_equal(json_array_size(f->sink.lines), 11);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(f->sink.lines, 5), "line")), "line 6");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(f->sink.lines, 9), "line")),
	    "line 10");
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(f->sink.lines, 10), "line")),
	    "line 0");
	assert_int_equal(access(f->spill, F_OK), -1);
	launch_logq_free(q);
}

static void test_spill_left_by_an_earlier_run_is_sent(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct launch_logq *q = launch_logq_new(0, 2, f->spill, 1 << 20, err, sizeof(err));
	push_n(q, 0, 6);     /* 2 queued, 4 spilled */
	launch_logq_free(q); /* queued lines are lost with the process; the spill stays */
	q = launch_logq_new(0, 2, f->spill, 1 << 20, err, sizeof(err));
	assert_int_equal(launch_logq_pending(q), 4);
	assert_int_equal(launch_logq_ship(q, 100, sink_send, &f->sink, err, sizeof(err)), 4);
	expect_lines(&f->sink, 2, 6);
	launch_logq_free(q);
}

static void test_spill_is_bounded_and_drops_are_counted(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct launch_logq *q = launch_logq_new(0, 1, f->spill, 300, err, sizeof(err));
	push_n(q, 0, 50);
	assert_true(launch_logq_dropped(q) > 40);
	assert_true(launch_logq_pending(q) < 10);
	launch_logq_free(q);
}

static void test_long_and_binary_lines_are_cleaned(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct launch_logq *q = launch_logq_new(0, 10, f->spill, 1 << 20, err, sizeof(err));
	char *big = malloc(LAUNCH_LOGQ_MAX_LINE * 2);
	assert_non_null(big);
	memset(big, 'x', LAUNCH_LOGQ_MAX_LINE * 2);
	launch_logq_push(q, "stdout", big, LAUNCH_LOGQ_MAX_LINE * 2);
	free(big);
	launch_logq_push(q, "stdout", "ok\xff\xfe!", 5);
	assert_int_equal(launch_logq_ship(q, 10, sink_send, &f->sink, err, sizeof(err)), 2);
	const char *l0 =
	    json_string_value(json_object_get(json_array_get(f->sink.lines, 0), "line"));
	const char *l1 =
	    json_string_value(json_object_get(json_array_get(f->sink.lines, 1), "line"));
	assert_int_equal(strlen(l0), LAUNCH_LOGQ_MAX_LINE);
	assert_string_equal(l1, "ok\\xff\\xfe!");
	launch_logq_free(q);
}

/* A send as the master takes it: the body must parse back as JSON without
 * JSON_ALLOW_NUL, or the master answers 400 and the batch is refused. */
static int strict_send(void *ctx, const json_t *body, char *err, size_t errlen)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_t *back = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (!back) {
		snprintf(err, errlen, "400 invalid JSON");
		return -1;
	}
	int rc = sink_send(ctx, back, err, errlen);
	json_decref(back);
	return rc;
}

static void test_lines_after_binary_output_all_arrive(void **state)
{
	struct fixture *f = *state;
	char err[256];
	static const char nul[] = "before\0after";
	static const char bad[] = "x\xc3\x28\xed\xa0\x80\xf4\x90\x80\x80y";
	struct launch_logq *q = launch_logq_new(0, 100, f->spill, 1 << 20, err, sizeof(err));
	assert_non_null(q);
	push_n(q, 0, 3);
	launch_logq_push(q, "stdout", nul, sizeof(nul) - 1);
	launch_logq_push(q, "stdout", bad, sizeof(bad) - 1);
	launch_logq_push(q, "stdout", "caf\xc3\xa9 \xe2\x82\xac", 9);
	assert_int_equal(launch_logq_ship(q, 100, strict_send, &f->sink, err, sizeof(err)), 6);
	push_n(q, 3, 6);
	assert_int_equal(launch_logq_ship(q, 100, strict_send, &f->sink, err, sizeof(err)), 3);
	assert_int_equal(launch_logq_pending(q), 0);
	assert_int_equal(json_array_size(f->sink.lines), 9);
	const char *want[] = {"before\\x00after", "x\\xc3(\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80y",
	                      "caf\xc3\xa9 \xe2\x82\xac"};
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(json_string_value(json_object_get(
		                        json_array_get(f->sink.lines, 3 + i), "line")),
		                    want[i]);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(f->sink.lines, 8), "line")), "line 5");
	launch_logq_free(q);
}

struct shipper {
	struct launch_logq *q;
	struct sink *sink;
};

static void *ship_thread(void *arg)
{
	struct shipper *s = arg;
	char err[256];
	launch_logq_ship(s->q, 1, sink_send, s->sink, err, sizeof(err));
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_push_never_waits_for_a_slow_master(void **state)
{
	struct fixture *f = *state;
	char err[256];
	struct launch_logq *q = launch_logq_new(0, 1000, f->spill, 1 << 20, err, sizeof(err));
	push_n(q, 0, 3);
	f->sink.sleep_ms = 300; /* each batch of one line takes 300 ms: 0.9 s in all */
	struct shipper s = {q, &f->sink};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, ship_thread, &s), 0);
	usleep(50000);
	double t0 = now_s();
	push_n(q, 3, 503);
	double took = now_s() - t0;
	pthread_join(t, NULL);
	assert_true(took < 0.25);
	f->sink.sleep_ms = 0;
	assert_int_equal(launch_logq_ship(q, 100, sink_send, &f->sink, err, sizeof(err)), 500);
	expect_lines(&f->sink, 0, 503);
	launch_logq_free(q);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_lines_sent_in_order_in_bounded_batches),
	    T(test_full_queue_spills_and_spill_goes_first),
	    T(test_unreachable_master_spills_and_later_sends_everything),
	    T(test_outage_in_the_middle_of_the_spill_resumes_where_it_stopped),
	    T(test_spill_left_by_an_earlier_run_is_sent),
	    T(test_spill_is_bounded_and_drops_are_counted),
	    T(test_long_and_binary_lines_are_cleaned),
	    T(test_lines_after_binary_output_all_arrive),
	    T(test_push_never_waits_for_a_slow_master),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
