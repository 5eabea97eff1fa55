/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Notebook tasks' pure rules (master/task_notebook.c): idle timeouts as the
 * API and the master config take them, the launcher's argv, and the end
 * reasons its exit codes stand for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "master/task_notebook.h"

static void test_idle_parse_table(void **state)
{
	static const struct {
		const char *json;
		int rc;
		long secs;
	} rows[] = {
	    {"0", 0, 0},
	    {"20", 0, 20},
	    {"\"20\"", 0, 20},
	    {"\"45s\"", 0, 45},
	    {"\"30m\"", 0, 1800},
	    {"\"2h\"", 0, 7200},
	    {"\"30d\"", 0, 30L * 86400},
	    {"\"31d\"", -1, 0},
	    {"2592001", -1, 0},
	    {"-1", -1, 0},
	    {"\"-5m\"", -1, 0},
	    {"\"5x\"", -1, 0},
	    {"\"m\"", -1, 0},
	    {"\"\"", -1, 0},
	    {"\"5 m\"", -1, 0},
	    {"\"99999999999999999999\"", -1, 0},
	    {"1.5", -1, 0},
	    {"true", -1, 0},
	    {"null", -1, 0},
	    {"[]", -1, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char err[256] = "";
		long secs = -7;
		json_t *v = json_loads(rows[i].json, JSON_DECODE_ANY, NULL);
		assert_non_null(v);
		int rc = task_notebook_idle_parse(v, &secs, err, sizeof(err));
		json_decref(v);
		if (rc != rows[i].rc)
			fail_msg("%s: rc %d, expected %d", rows[i].json, rc, rows[i].rc);
		if (rc == 0)
			assert_int_equal(secs, rows[i].secs);
		else
			assert_non_null(strstr(err, "idle_timeout"));
	}
}

static void test_argv(void **state)
{
	const char *argv[4];
	char num[32];
	(void)state;
	task_notebook_argv("/usr/share/det-slurm/det-notebook-launch", 1800, num, sizeof(num),
	                   argv);
	assert_string_equal(argv[0], "/usr/share/det-slurm/det-notebook-launch");
	assert_string_equal(argv[1], "--idle-timeout");
	assert_string_equal(argv[2], "1800");
	assert_null(argv[3]);
}

static void test_end_reasons(void **state)
{
	(void)state;
	assert_string_equal(task_notebook_end_reason(TASK_NOTEBOOK_EXIT_IDLE << 8), "idle");
	assert_string_equal(task_notebook_end_reason(TASK_NOTEBOOK_EXIT_NO_JUPYTER << 8),
	                    "jupyter not found in PATH");
	assert_null(task_notebook_end_reason(0));
	assert_null(task_notebook_end_reason(1 << 8));
	assert_null(task_notebook_end_reason(-1));
	assert_null(task_notebook_end_reason(SIGTERM)); /* killed by a signal */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idle_parse_table),
	    cmocka_unit_test(test_argv),
	    cmocka_unit_test(test_end_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
