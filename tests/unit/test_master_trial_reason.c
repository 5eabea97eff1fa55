/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one-line reason of a failed trial: signals by name, exit statuses of
 * a missing entrypoint, the error line appended, max_restarts named when
 * they ran out, cut on a character boundary; the exit report's error line
 * checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "master/trial_reason.h"

/* The reason trial_reason_of_exit gives for these inputs is want. */
static void expect(int code, int sig, const char *error, int64_t restarts, int64_t max,
                   const char *want)
{
	char b[256];
	trial_reason_of_exit(b, sizeof(b), code, sig, error, restarts, max);
	assert_string_equal(b, want);
}

static void test_signal(void **state)
{
	(void)state;
	expect(137, 9, NULL, 0, 0, "killed by signal 9 (SIGKILL)");
	expect(0, 63, "", 0, 5, "killed by signal 63");
	expect(139, 0, NULL, 0, 0, "exit status 139 (signal 11, SIGSEGV)");
}

static void test_exit_status_and_error(void **state)
{
	(void)state;
	expect(127, 0, "/bin/sh: 1: ./t.sh: not found", 0, 0,
	       "entrypoint not found (exit status 127): /bin/sh: 1: ./t.sh: not found");
	expect(1, 0, "ZeroDivisionError: division by zero", 1, 5,
	       "exit status 1: ZeroDivisionError: division by zero");
	expect(126, 0, NULL, 0, 0, "entrypoint not executable (exit status 126)");
}

static void test_max_restarts(void **state)
{
	(void)state;
	expect(3, 0, "Error: x", 2, 2, "max_restarts (2) exceeded: exit status 3: Error: x");
}

static void test_cut_on_character(void **state)
{
	(void)state;
	char err[1024], b[32];
	size_t n = 0;
	while (n + 3 < sizeof(err)) {
		err[n++] = (char)0xe2; /* U+20AC, three bytes */
		err[n++] = (char)0x82;
		err[n++] = (char)0xac;
	}
	err[n] = '\0';
	trial_reason_of_exit(b, sizeof(b), 1, 0, err, 0, 0);
	size_t len = strlen(b);
	assert_true(len > 16);
	assert_int_equal((len - strlen("exit status 1: ")) % 3, 0);
}

static void test_check_error(void **state)
{
	(void)state;
	char err[128], big[TRIAL_REASON_ERROR_MAX + 2];
	assert_int_equal(trial_reason_check_error("OSError: x", err, sizeof(err)), 0);
	assert_int_equal(trial_reason_check_error("two\nlines", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "control character"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(trial_reason_check_error(big, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signal),       cmocka_unit_test(test_exit_status_and_error),
	    cmocka_unit_test(test_max_restarts), cmocka_unit_test(test_cut_on_character),
	    cmocka_unit_test(test_check_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
