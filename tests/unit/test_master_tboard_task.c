/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A TensorBoard task's argv: the logdir spec of its trials, refused names, the fixed flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "master/tboard_task.h"

static void test_one_trial(void **state)
{
	char err[512];
	struct tboard_task_run r = {3, 7, "/ckpt/alice"};
	(void)state;
	char **argv = tboard_task_argv(&r, 1, 12, 0, err, sizeof(err));
	assert_non_null(argv);
	const char *want[] = {
	    "tensorboard", "--logdir_spec", "trial-7:/ckpt/alice/tensorboard/experiment_3/trial_7",
	    "--host",      "127.0.0.1",     "--port",
	    "0",           "--path_prefix", "/proxy/12",
	    NULL};
	for (int i = 0; want[i]; i++)
		assert_string_equal(argv[i], want[i]);
	assert_null(argv[9]);
	assert_string_equal(argv[TBOARD_TASK_PREFIX_ARG], "/proxy/12");
	tboard_task_argv_free(argv);
}

/* Trials of several experiments, each under its own checkpoint directory, in order. */
static void test_several_experiments(void **state)
{
	char err[512];
	struct tboard_task_run r[] = {{1, 1, "/data/a"}, {1, 2, "/data/a"}, {4, 9, "/other/b"}};
	(void)state;
	char **argv = tboard_task_argv(r, 3, 5, 6006, err, sizeof(err));
	assert_non_null(argv);
	assert_string_equal(argv[2], "trial-1:/data/a/tensorboard/experiment_1/trial_1,"
	                             "trial-2:/data/a/tensorboard/experiment_1/trial_2,"
	                             "trial-9:/other/b/tensorboard/experiment_4/trial_9");
	assert_string_equal(argv[6], "6006");
	assert_string_equal(argv[8], "/proxy/5");
	tboard_task_argv_free(argv);
}

/* A trial that has written no event file yet is served all the same: TensorBoard
 * watches its directory and shows the run once files appear. */
static void test_no_event_files_yet(void **state)
{
	char err[512];
	struct tboard_task_run r = {2, 3, "/nonexistent/dir"};
	(void)state;
	char **argv = tboard_task_argv(&r, 1, 1, 0, err, sizeof(err));
	assert_non_null(argv);
	assert_string_equal(argv[2], "trial-3:/nonexistent/dir/tensorboard/experiment_2/trial_3");
	tboard_task_argv_free(argv);
}

/* ',' and ':' would split the spec elsewhere: refused, naming the trial. */
static void test_refused_dirs(void **state)
{
	char err[512];
	struct tboard_task_run comma[] = {{1, 1, "/ok"}, {1, 2, "/a,b"}};
	struct tboard_task_run colon = {1, 3, "/x:/etc"};
	struct tboard_task_run rel = {1, 4, "relative"};
	(void)state;
	assert_null(tboard_task_argv(comma, 2, 1, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "trial 2"));
	assert_non_null(strstr(err, "','"));
	assert_null(tboard_task_argv(&colon, 1, 1, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "trial 3"));
	assert_null(tboard_task_argv(&rel, 1, 1, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "absolute"));
}

/* No trials at all (an experiment with none yet), too many, or a bad port. */
static void test_bounds(void **state)
{
	char err[512];
	static struct tboard_task_run many[TBOARD_TASK_MAX_RUNS + 1];
	(void)state;
	for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
		many[i] = (struct tboard_task_run){1, (int64_t)i + 1, "/d"};
	assert_null(tboard_task_argv(many, 0, 1, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "have 0"));
	assert_null(tboard_task_argv(many, TBOARD_TASK_MAX_RUNS + 1, 1, 0, err, sizeof(err)));
	assert_null(tboard_task_argv(many, 1, 1, 65536, err, sizeof(err)));
	char **argv = tboard_task_argv(many, TBOARD_TASK_MAX_RUNS, 1, 0, err, sizeof(err));
	assert_non_null(argv);
	assert_non_null(strstr(argv[2], ",trial-1024:/d/tensorboard/experiment_1/trial_1024"));
	tboard_task_argv_free(argv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_trial),
	    cmocka_unit_test(test_several_experiments),
	    cmocka_unit_test(test_no_event_files_yet),
	    cmocka_unit_test(test_refused_dirs),
	    cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
