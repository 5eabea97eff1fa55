/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The error line det-launch reports for a failed trial: a traceback's
 * exception line, the first error-looking line otherwise, warnings and
 * ordinary output skipped, control characters removed, long lines cut on a
 * character boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "launch_reason.h"

static void feed_all(struct launch_reason *r, const char *const *lines)
{
	for (; *lines; lines++)
		launch_reason_feed(r, *lines, strlen(*lines));
}

static void test_traceback_exception_line(void **state)
{
	(void)state;
	static const char *const lines[] = {"step 1 loss 0.3",
	                                    "Traceback (most recent call last):",
	                                    "  File \"train.py\", line 4, in <module>",
	                                    "    raise_error()",
	                                    "ZeroDivisionError: division by zero",
	                                    "Error: something later",
	                                    NULL};
	struct launch_reason r = {0};
	feed_all(&r, lines);
	assert_string_equal(r.line, "ZeroDivisionError: division by zero");
}

static void test_traceback_wins_over_earlier_line(void **state)
{
	(void)state;
	static const char *const lines[] = {
	    "could not find a GPU, using the CPU",
	    "Traceback (most recent call last):",
	    "  File \"t.py\", line 9, in save",
	    "PermissionError: [Errno 13] Permission denied: '/ckpt/x'",
	    "Traceback (most recent call last):",
	    "OSError: second",
	    NULL};
	struct launch_reason r = {0};
	feed_all(&r, lines);
	assert_string_equal(r.line, "PermissionError: [Errno 13] Permission denied: '/ckpt/x'");
}

static void test_first_error_line(void **state)
{
	(void)state;
	static const char *const lines[] = {"starting", "UserWarning: failed to load an extension",
	                                    "/bin/sh: 1: ./train.sh: not found",
	                                    "Error: a second one", NULL};
	struct launch_reason r = {0};
	feed_all(&r, lines);
	assert_string_equal(r.line, "/bin/sh: 1: ./train.sh: not found");
}

static void test_nothing_error_like(void **state)
{
	(void)state;
	static const char *const lines[] = {"epoch 1", "validation 0.5", "", NULL};
	struct launch_reason r = {0};
	feed_all(&r, lines);
	assert_string_equal(r.line, "");
	launch_reason_set(&r, "entrypoint: expected a non-empty string");
	assert_string_equal(r.line, "entrypoint: expected a non-empty string");
	launch_reason_set(&r, "another");
	assert_string_equal(r.line, "entrypoint: expected a non-empty string");
}

static void test_control_characters(void **state)
{
	(void)state;
	const char line[] = "\x1b[31mRuntimeError\x1b[0m: bad\tvalue\r\x07 ";
	struct launch_reason r = {0};
	launch_reason_feed(&r, line, sizeof(line) - 1);
	assert_string_equal(r.line, "RuntimeError: bad value");
}

static void test_long_line_cut_on_a_character(void **state)
{
	(void)state;
	char line[2000];
	size_t n = 0;
	memcpy(line, "Error: ", 7);
	n = 7;
	while (n + 2 < sizeof(line)) {
		line[n++] = (char)0xc3; /* U+00E9, two bytes */
		line[n++] = (char)0xa9;
	}
	struct launch_reason r = {0};
	launch_reason_feed(&r, line, n);
	size_t len = strlen(r.line);
	assert_true(len > 400 && len < LAUNCH_REASON_MAX);
	assert_int_equal((len - 7) % 2, 0);
	assert_int_equal((unsigned char)r.line[len - 1], 0xa9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_traceback_exception_line),
	    cmocka_unit_test(test_traceback_wins_over_earlier_line),
	    cmocka_unit_test(test_first_error_line),
	    cmocka_unit_test(test_nothing_error_like),
	    cmocka_unit_test(test_control_characters),
	    cmocka_unit_test(test_long_line_cut_on_a_character),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
