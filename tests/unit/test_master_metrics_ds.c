/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Downsampled metric series (master/metrics_ds.c): bounded size, extremes,
 * first and last kept, order, grouping, short series whole. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/metrics_ds.h"

/* n training rows of {"loss": f(i)} with steps 10 + i, one validation row every 10. */
static json_t *rows_of(int n, double (*f)(int))
{
	json_t *rows = json_array();
	for (int i = 0; i < n; i++) {
		json_array_append_new(
		    rows, json_pack("{s:I, s:s, s:I, s:{s:f}, s:f}", "id", (json_int_t)i + 1,
		                    "group", "training", "steps_completed", (json_int_t)10 + i,
		                    "metrics", "loss", f(i), "created_at", 1000.0 + i));
		if (i % 10 == 0)
			json_array_append_new(rows, json_pack("{s:I, s:s, s:I, s:{s:f, s:s}, s:f}",
			                                      "id", (json_int_t)i + 100000, "group",
			                                      "validation", "steps_completed",
			                                      (json_int_t)10 + i, "metrics", "acc",
			                                      i * 0.001, "note", "text is skipped",
			                                      "created_at", 1.0));
	}
	return rows;
}

static double wavy(int i)
{
	return i == 4321 ? 1e9 : i == 777 ? -1e9 : sin(i * 0.01);
}

static json_t *series_named(json_t *out, const char *group, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach (out, i, s) {
		if (!strcmp(json_string_value(json_object_get(s, "group")), group) &&
		    !strcmp(json_string_value(json_object_get(s, "name")), name))
			return s;
	}
	return NULL;
}

static void test_bounded_with_extremes(void **state)
{
	(void)state;
	char err[64];
	json_t *rows = rows_of(10000, wavy);
	for (size_t max = METRICS_DS_MIN_POINTS; max <= 1001; max = max * 3 + 1) {
		json_t *out = metrics_ds_series(rows, max, err, sizeof(err));
		assert_non_null(out);
		assert_int_equal(json_array_size(out), 2);
		json_t *s = series_named(out, "training", "loss");
		json_t *steps = json_object_get(s, "steps"), *values = json_object_get(s, "values");
		size_t n = json_array_size(values);
		assert_true(n <= max);
		assert_int_equal(json_array_size(steps), n);
		assert_int_equal(json_array_size(json_object_get(s, "times")), n);
		assert_int_equal(json_integer_value(json_object_get(s, "rows")), 10000);
		assert_int_equal(json_integer_value(json_array_get(steps, 0)), 10);
		assert_int_equal(json_integer_value(json_array_get(steps, n - 1)), 10009);
		double lo = 0, hi = 0;
		for (size_t i = 0; i < n; i++) {
			double v = json_real_value(json_array_get(values, i));
			lo = i == 0 || v < lo ? v : lo;
			hi = i == 0 || v > hi ? v : hi;
			if (i)
				assert_true(json_integer_value(json_array_get(steps, i)) >
				            json_integer_value(json_array_get(steps, i - 1)));
		}
		assert_true(lo == -1e9 && hi == 1e9);
		json_decref(out);
	}
	json_decref(rows);
}

static void test_short_series_whole(void **state)
{
	(void)state;
	char err[64];
	json_t *rows = rows_of(50, wavy);
	json_t *out = metrics_ds_series(rows, 1000, err, sizeof(err));
	assert_non_null(out);
	json_t *acc = series_named(out, "validation", "acc");
	assert_non_null(acc);
	assert_int_equal(json_array_size(json_object_get(acc, "values")), 5);
	assert_null(series_named(out, "validation", "note")); /* not a number */
	assert_int_equal(
	    json_array_size(json_object_get(series_named(out, "training", "loss"), "values")), 50);
	json_decref(out);
	json_decref(rows);
}

static void test_too_small_and_empty(void **state)
{
	(void)state;
	char err[64] = "";
	json_t *rows = rows_of(10, wavy), *empty = json_array();
	assert_null(metrics_ds_series(rows, METRICS_DS_MIN_POINTS - 1, err, sizeof(err)));
	assert_true(err[0] != '\0');
	json_t *out = metrics_ds_series(empty, 100, err, sizeof(err));
	assert_non_null(out);
	assert_int_equal(json_array_size(out), 0);
	json_decref(out);
	json_decref(rows);
	json_decref(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bounded_with_extremes),
	    cmocka_unit_test(test_short_series_whole),
	    cmocka_unit_test(test_too_small_and_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
