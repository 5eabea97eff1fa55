/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which checkpoints the save_* policy deletes when an experiment ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "master/ckpt_gc.h"

/* Two trials, three checkpoints each; metric falls with steps in trial 1,
 * rises in trial 2; one checkpoint without a validation. */
static json_t *sample(void)
{
	return json_pack(
	    "[{s:s, s:i, s:i, s:s, s:f}, {s:s, s:i, s:i, s:s, s:f},"
	    " {s:s, s:i, s:i, s:s, s:f}, {s:s, s:i, s:i, s:s, s:f},"
	    " {s:s, s:i, s:i, s:s, s:f}, {s:s, s:i, s:i, s:s, s:n}]",
	    "uuid", "a1", "trial_id", 1, "steps_completed", 1, "state", "COMPLETED", "metric", 3.0,
	    "uuid", "a2", "trial_id", 1, "steps_completed", 2, "state", "COMPLETED", "metric", 2.0,
	    "uuid", "a3", "trial_id", 1, "steps_completed", 3, "state", "COMPLETED", "metric", 1.0,
	    "uuid", "b1", "trial_id", 2, "steps_completed", 1, "state", "COMPLETED", "metric", 0.5,
	    "uuid", "b2", "trial_id", 2, "steps_completed", 2, "state", "COMPLETED", "metric", 4.0,
	    "uuid", "b3", "trial_id", 2, "steps_completed", 3, "state", "COMPLETED", "metric");
}

static char *deleted(const struct ckpt_gc_policy *p)
{
	static char buf[64];
	json_t *c = sample();
	json_t *d = ckpt_gc_select(c, p);
	size_t i;
	json_t *u;
	buf[0] = '\0';
	json_array_foreach (d, i, u) {
		strcat(buf, json_string_value(u));
		strcat(buf, " ");
	}
	json_decref(c);
	json_decref(d);
	return buf;
}

static void test_defaults_keep_best_and_latest_per_trial(void **state)
{
	struct ckpt_gc_policy p = {0, 1, 1, 1};
	/* trial 1: best and latest are a3; trial 2: best b1, latest b3. */
	assert_string_equal(deleted(&p), "a1 a2 b2 ");
}

static void test_experiment_best_and_direction(void **state)
{
	struct ckpt_gc_policy p = {2, 0, 0, 1};
	assert_string_equal(deleted(&p), "a1 a2 b2 b3 "); /* keeps b1 0.5, a3 1.0 */
	struct ckpt_gc_policy q = {1, 0, 0, 0};
	assert_string_equal(deleted(&q), "a1 a2 a3 b1 b3 "); /* larger is better: b2 */
}

static void test_keep_nothing_and_everything(void **state)
{
	struct ckpt_gc_policy none = {0, 0, 0, 1};
	assert_string_equal(deleted(&none), "a1 a2 a3 b1 b2 b3 ");
	struct ckpt_gc_policy all = {0, 0, 10, 1};
	assert_string_equal(deleted(&all), "");
}

static void test_deleted_rows_are_ignored(void **state)
{
	json_t *c = json_pack("[{s:s, s:i, s:i, s:s, s:f}]", "uuid", "x", "trial_id", 1,
	                      "steps_completed", 1, "state", "DELETED", "metric", 1.0);
	struct ckpt_gc_policy none = {0, 0, 0, 1};
	json_t *d = ckpt_gc_select(c, &none);
	assert_int_equal(json_array_size(d), 0);
	json_decref(c);
	json_decref(d);
}

static void test_protected_rows_are_kept(void **state)
{
	json_t *c =
	    json_pack("[{s:s, s:i, s:i, s:s, s:b}, {s:s, s:i, s:i, s:s}]", "uuid", "p", "trial_id",
	              1, "steps_completed", 1, "state", "COMPLETED", "protected", 1, "uuid", "q",
	              "trial_id", 1, "steps_completed", 2, "state", "COMPLETED");
	struct ckpt_gc_policy none = {0, 0, 0, 1};
	json_t *d = ckpt_gc_select(c, &none);
	assert_int_equal(json_array_size(d), 1);
	assert_string_equal(json_string_value(json_array_get(d, 0)), "q");
	json_decref(c);
	json_decref(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_keep_best_and_latest_per_trial),
	    cmocka_unit_test(test_experiment_best_and_direction),
	    cmocka_unit_test(test_keep_nothing_and_everything),
	    cmocka_unit_test(test_deleted_rows_are_ignored),
	    cmocka_unit_test(test_protected_rows_are_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
