/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hyperparameter values of the searchers: the generator, grid enumeration
 * (counts, rounding, spacing, nesting, order) and random sampling (ranges,
 * reproducibility), plus every class of malformed hyperparameter space.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "hparams.h"
#include "prng.h"
#include "searcher_test_util.h"

#define GRID(cnt) "{\"name\": \"grid\", \"metric\": \"loss\", \"max_concurrent_trials\": " #cnt "}"
#define RANDOM(n) "{\"name\": \"random\", \"metric\": \"loss\", \"max_trials\": " #n "}"

static void test_prng_is_pinned_and_pure(void **state)
{
	struct prng a, b, c;
	uint64_t first;

	(void)state;
	prng_init(&a, 42, 7, PRNG_STREAM_HPARAMS);
	prng_init(&b, 42, 7, PRNG_STREAM_HPARAMS);
	prng_init(&c, 42, 8, PRNG_STREAM_HPARAMS);
	first = prng_next(&a);
	/* Pinned: changing the generator would silently change every experiment's trials. */
	assert_int_equal(first, UINT64_C(0x1349a92ff67accc3));
	assert_int_equal(first, prng_next(&b));
	assert_int_not_equal(first, prng_next(&c));
	prng_init(&c, 42, 7, PRNG_STREAM_TRIAL_SEED);
	assert_int_not_equal(first, prng_next(&c));
	for (int i = 0; i < 1000; i++)
		assert_int_equal(prng_next(&a), prng_next(&b));
}

static void test_prng_matches_published_vectors(void **state)
{
	/* xoshiro256** from state {1, 2, 3, 4}, and splitmix64's first output from 0. */
	struct prng g = {{1, 2, 3, 4}};

	(void)state;
	assert_int_equal(prng_next(&g), 11520);
	assert_int_equal(prng_next(&g), 0);
	assert_int_equal(prng_next(&g), 1509978240);
	assert_int_equal(prng_next(&g), UINT64_C(1215971899390074240));
	assert_int_equal(prng_mix64(UINT64_C(0x9e3779b97f4a7c15)), UINT64_C(0xe220a8397b1dcdaf));
}

static void test_prng_below_and_unit_ranges(void **state)
{
	struct prng g;
	int seen[7] = {0};

	(void)state;
	prng_init(&g, 1, 2, 3);
	for (int i = 0; i < 7000; i++) {
		uint64_t v = prng_below(&g, 7);
		double u = prng_unit(&g);

		assert_true(v < 7);
		seen[v]++;
		assert_true(u >= 0.0 && u < 1.0);
	}
	for (int i = 0; i < 7; i++)
		assert_in_range(seen[i], 800, 1200);
	assert_int_equal(prng_below(&g, 1), 0);
}

/* All grid points of a grid searcher over hps, as one JSON array. */
static json_t *grid_points(const char *hps, int *count)
{
	struct searcher *s = test_searcher(hps, GRID(4), 3);
	json_t *all = json_array();
	char err[128];

	*count = searcher_trial_count(s);
	for (int i = 0; i < *count; i++)
		json_array_append_new(all, searcher_trial_hparams(s, i, err, sizeof(err)));
	assert_null(searcher_trial_hparams(s, *count, err, sizeof(err)));
	assert_non_null(strstr(err, "out of range"));
	searcher_free(s);
	return all;
}

static void assert_json_text(const json_t *v, const char *expected)
{
	json_t *want = json_loads(expected, JSON_DECODE_ANY, NULL);

	assert_non_null(want);
	if (!json_equal(v, want)) {
		char *got = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

		fail_msg("got %s, want %s", got, expected);
	}
	json_decref(want);
}

static void test_grid_int_count_capped_at_range(void **state)
{
	int n;
	json_t *p = grid_points(
	    "{\"x\": {\"type\": \"int\", \"minval\": 1, \"maxval\": 3, \"count\": 10}}", &n);

	(void)state;
	assert_int_equal(n, 3);
	assert_json_text(p, "[{\"x\": 1}, {\"x\": 2}, {\"x\": 3}]");
	json_decref(p);
}

static void test_grid_int_values_are_rounded(void **state)
{
	int n;
	json_t *p = grid_points(
	    "{\"x\": {\"type\": \"int\", \"minval\": 0, \"maxval\": 10, \"count\": 4}}", &n);

	(void)state;
	assert_int_equal(n, 4);
	assert_json_text(p, "[{\"x\": 0}, {\"x\": 3}, {\"x\": 7}, {\"x\": 10}]");
	json_decref(p);
	/* Half away from zero, as math.Round. */
	assert_int_equal(hparams_grid_int(0, 5, 3, 1), 3);
	assert_int_equal(hparams_grid_int(-5, 0, 3, 1), -3);
	assert_int_equal(hparams_grid_int(INT64_MIN, INT64_MAX, 3, 2), INT64_MAX);
	assert_int_equal(hparams_grid_int(INT64_MIN, INT64_MAX, 3, 0), INT64_MIN);
}

static void test_grid_count_one_is_midpoint(void **state)
{
	int n;
	json_t *p = grid_points(
	    "{\"i\": {\"type\": \"int\", \"minval\": 1, \"maxval\": 4, \"count\": 1},"
	    " \"j\": {\"type\": \"int\", \"minval\": -4, \"maxval\": -1, \"count\": 1},"
	    " \"d\": {\"type\": \"double\", \"minval\": 0, \"maxval\": 1, \"count\": 1},"
	    " \"l\": {\"type\": \"log\", \"minval\": 0, \"maxval\": 4, \"base\": 2, \"count\": 1}}",
	    &n);

	(void)state;
	assert_int_equal(n, 1);
	assert_json_text(p, "[{\"i\": 3, \"j\": -3, \"d\": 0.5, \"l\": 4.0}]");
	json_decref(p);
}

static void test_grid_double_and_log_spacing(void **state)
{
	int n;
	json_t *p = grid_points(
	    "{\"d\": {\"type\": \"double\", \"minval\": -1, \"maxval\": 1, \"count\": 5}}", &n);
	static const double want_log[] = {1e-3, 1e-2, 1e-1};

	(void)state;
	assert_int_equal(n, 5);
	assert_json_text(
	    p, "[{\"d\": -1.0}, {\"d\": -0.5}, {\"d\": 0.0}, {\"d\": 0.5}, {\"d\": 1.0}]");
	json_decref(p);
	p = grid_points("{\"l\": {\"type\": \"log\", \"minval\": -3, \"maxval\": -1, \"base\": 10, "
	                "\"count\": 3}}",
	                &n);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		double v = json_real_value(json_object_get(json_array_get(p, (size_t)i), "l"));

		assert_true(fabs(v - want_log[i]) <= 1e-12 * want_log[i]);
	}
	json_decref(p);
}

static void test_grid_nested_categorical_order(void **state)
{
	int n;
	/* Keys deliberately out of order: the grid sorts names, depth first, last varies fastest.
	 */
	json_t *p =
	    grid_points("{\"b\": {\"type\": \"int\", \"minval\": 1, \"maxval\": 2, \"count\": 2},"
	                " \"a\": {\"type\": \"object\", \"vals\": {"
	                "   \"y\": {\"type\": \"categorical\", \"vals\": [\"p\", [1, 2]]},"
	                "   \"x\": {\"type\": \"const\", \"val\": {\"k\": 5}}}}}",
	                &n);
	json_t *q;

	(void)state;
	assert_int_equal(n, 4);
	assert_json_text(p, "[{\"a\": {\"x\": {\"k\": 5}, \"y\": \"p\"}, \"b\": 1},"
	                    " {\"a\": {\"x\": {\"k\": 5}, \"y\": \"p\"}, \"b\": 2},"
	                    " {\"a\": {\"x\": {\"k\": 5}, \"y\": [1, 2]}, \"b\": 1},"
	                    " {\"a\": {\"x\": {\"k\": 5}, \"y\": [1, 2]}, \"b\": 2}]");
	q = grid_points("{\"a\": {\"type\": \"object\", \"vals\": {"
	                "   \"x\": {\"type\": \"const\", \"val\": {\"k\": 5}},"
	                "   \"y\": {\"type\": \"categorical\", \"vals\": [\"p\", [1, 2]]}}},"
	                " \"b\": {\"type\": \"int\", \"minval\": 1, \"maxval\": 2, \"count\": 2}}",
	                &n);
	assert_true(json_equal(p, q));
	json_decref(p);
	json_decref(q);
}

static void test_grid_without_hyperparameters_has_one_point(void **state)
{
	int n;
	json_t *p = grid_points("{}", &n);

	(void)state;
	assert_int_equal(n, 1);
	assert_json_text(p, "[{}]");
	json_decref(p);
}

static void test_grid_rejects_missing_count_and_explosion(void **state)
{
	char err[256];

	(void)state;
	test_reject("{\"lr\": {\"type\": \"double\", \"minval\": 0, \"maxval\": 1}}", GRID(1), err,
	            sizeof(err));
	assert_string_equal(err, "hyperparameters.lr: grid search needs a count");
	test_reject("{\"a\": {\"type\": \"int\", \"minval\": 0, \"maxval\": 999, \"count\": 100},"
	            " \"b\": {\"type\": \"int\", \"minval\": 0, \"maxval\": 999, \"count\": 100},"
	            " \"c\": {\"type\": \"int\", \"minval\": 0, \"maxval\": 999, \"count\": 100}}",
	            GRID(1), err, sizeof(err));
	assert_non_null(strstr(err, "grid has more than 100000 points"));
	/* The same space is fine for random search: counts are not multiplied there. */
	test_reject("{\"a\": {\"type\": \"int\", \"minval\": 0, \"maxval\": 999, \"count\": 100},"
	            " \"b\": {\"type\": \"int\", \"minval\": 0, \"maxval\": 999, \"count\": 100},"
	            " \"c\": {\"type\": \"int\", \"minval\": 0, \"maxval\": 999, \"count\": 100}}",
	            RANDOM(5), err, sizeof(err));
	assert_string_equal(err, "");
}

static void test_random_ranges_cover_bounds(void **state)
{
	struct searcher *s = test_searcher(
	    "{\"i\": {\"type\": \"int\", \"minval\": 3, \"maxval\": 5},"
	    " \"d\": {\"type\": \"double\", \"minval\": -1, \"maxval\": 2},"
	    " \"l\": {\"type\": \"log\", \"minval\": -4, \"maxval\": -2, \"base\": 10},"
	    " \"c\": {\"type\": \"categorical\", \"vals\": [\"x\", \"y\"]},"
	    " \"n\": {\"type\": \"object\", \"vals\": {\"k\": {\"type\": \"int\", \"minval\": -1, "
	    "\"maxval\": -1}}},"
	    " \"k\": {\"type\": \"const\", \"val\": null}}",
	    RANDOM(3000), 99);
	int seen_i[3] = {0}, seen_x = 0, seen_y = 0;
	double dmin = 9, dmax = -9;
	char err[128];

	(void)state;
	assert_int_equal(searcher_trial_count(s), 3000);
	for (int t = 0; t < 3000; t++) {
		json_t *h = searcher_trial_hparams(s, t, err, sizeof(err));
		json_int_t i = json_integer_value(json_object_get(h, "i"));
		double d = json_real_value(json_object_get(h, "d"));
		double l = json_real_value(json_object_get(h, "l"));
		const char *c = json_string_value(json_object_get(h, "c"));

		assert_int_equal(json_object_size(h), 6);
		assert_in_range(i, 3, 5);
		seen_i[i - 3]++;
		assert_true(d >= -1.0 && d < 2.0);
		dmin = fmin(dmin, d);
		dmax = fmax(dmax, d);
		assert_true(l >= 1e-4 * (1 - 1e-12) && l <= 1e-2 * (1 + 1e-12));
		seen_x += strcmp(c, "x") == 0;
		seen_y += strcmp(c, "y") == 0;
		assert_int_equal(json_integer_value(json_object_get(json_object_get(h, "n"), "k")),
		                 -1);
		assert_true(json_is_null(json_object_get(h, "k")));
		json_decref(h);
	}
	for (int i = 0; i < 3; i++)
		assert_in_range(seen_i[i], 800, 1200); /* maxval is included */
	assert_true(dmin < -0.99 && dmax > 1.99);
	assert_in_range(seen_x, 1300, 1700);
	assert_int_equal(seen_x + seen_y, 3000);
	searcher_free(s);
}

static void test_random_is_pure_in_seed_and_index(void **state)
{
	const char *hps =
	    "{\"lr\": {\"type\": \"log\", \"minval\": -5, \"maxval\": 0, \"base\": 10},"
	    " \"w\": {\"type\": \"int\", \"minval\": 0, \"maxval\": 1000000}}";
	struct searcher *a = test_searcher(hps, RANDOM(50), 7);
	struct searcher *b = test_searcher(hps, RANDOM(50), 7);
	struct searcher *c = test_searcher(hps, RANDOM(50), 8);
	int differ = 0;
	char err[128];

	(void)state;
	for (int i = 49; i >= 0; i--) { /* b asked in reverse order */
		json_t *hb = searcher_trial_hparams(b, i, err, sizeof(err));
		json_t *ha = searcher_trial_hparams(a, 49 - i, err, sizeof(err));
		json_t *ha2 = searcher_trial_hparams(a, i, err, sizeof(err));
		json_t *hc = searcher_trial_hparams(c, i, err, sizeof(err));

		assert_true(json_equal(ha2, hb));
		differ += !json_equal(hb, hc);
		assert_int_equal(searcher_trial_seed(a, i), searcher_trial_seed(b, i));
		json_decref(ha);
		json_decref(ha2);
		json_decref(hb);
		json_decref(hc);
	}
	assert_true(differ >= 49);
	assert_int_not_equal(searcher_trial_seed(a, 0), searcher_trial_seed(a, 1));
	assert_int_not_equal(searcher_trial_seed(a, 0), searcher_trial_seed(c, 0));
	searcher_free(a);
	searcher_free(b);
	searcher_free(c);
}

static void expect_bad_space(const char *hps, const char *want)
{
	char err[256];

	test_reject(hps, RANDOM(2), err, sizeof(err));
	if (!strstr(err, want))
		fail_msg("hps %s: error \"%s\" lacks \"%s\"", hps, err, want);
}

static void test_bad_hyperparameter_spaces(void **state)
{
	char deep[4096] = "", tail[4096] = "";

	(void)state;
	expect_bad_space("[1]", "hyperparameters: must be a map");
	expect_bad_space("{\"a\": 1}", "hyperparameters.a: must be an object with a type");
	expect_bad_space("{\"a\": {\"type\": 3}}", "hyperparameters.a: type must be a string");
	expect_bad_space("{\"a\": {\"type\": \"gauss\"}}", "unknown hyperparameter type");
	expect_bad_space("{\"a\": {\"type\": \"const\"}}", "hyperparameters.a: const needs val");
	expect_bad_space("{\"a\": {\"type\": \"int\", \"minval\": 1.5, \"maxval\": 3}}",
	                 "hyperparameters.a: minval must be an integer");
	expect_bad_space("{\"a\": {\"type\": \"int\", \"minval\": 4, \"maxval\": 3}}",
	                 "minval 4 is greater than maxval 3");
	expect_bad_space("{\"a\": {\"type\": \"double\", \"minval\": \"x\", \"maxval\": 3}}",
	                 "minval must be a number");
	expect_bad_space("{\"a\": {\"type\": \"double\", \"minval\": -1e308, \"maxval\": 1e308}}",
	                 "range from minval to maxval is too large");
	expect_bad_space("{\"a\": {\"type\": \"log\", \"minval\": 1, \"maxval\": 3, \"base\": 0}}",
	                 "base must be positive");
	expect_bad_space(
	    "{\"a\": {\"type\": \"log\", \"minval\": 1, \"maxval\": 400, \"base\": 10}}",
	    "not a finite number");
	expect_bad_space("{\"a\": {\"type\": \"log\", \"minval\": 1, \"maxval\": 4}}",
	                 "base must be a number");
	expect_bad_space("{\"a\": {\"type\": \"categorical\", \"vals\": []}}",
	                 "categorical vals must be a non-empty list");
	expect_bad_space("{\"a\": {\"type\": \"object\", \"vals\": [1]}}",
	                 "object vals must be a map");
	expect_bad_space("{\"a\": {\"type\": \"object\", \"vals\": {\"b\": {\"type\": \"int\","
	                 " \"minval\": 0, \"maxval\": 1, \"count\": 0}}}}",
	                 "hyperparameters.a.b: count must be an integer from 1 to 100000");
	for (int i = 0; i < 40; i++) {
		strcat(deep, "{\"n\": {\"type\": \"object\", \"vals\": ");
		strcat(tail, "}}");
	}
	strcat(deep, "{}");
	strcat(deep, tail);
	expect_bad_space(deep, "nested deeper than 32 levels");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prng_is_pinned_and_pure),
	    cmocka_unit_test(test_prng_matches_published_vectors),
	    cmocka_unit_test(test_prng_below_and_unit_ranges),
	    cmocka_unit_test(test_grid_int_count_capped_at_range),
	    cmocka_unit_test(test_grid_int_values_are_rounded),
	    cmocka_unit_test(test_grid_count_one_is_midpoint),
	    cmocka_unit_test(test_grid_double_and_log_spacing),
	    cmocka_unit_test(test_grid_nested_categorical_order),
	    cmocka_unit_test(test_grid_without_hyperparameters_has_one_point),
	    cmocka_unit_test(test_grid_rejects_missing_count_and_explosion),
	    cmocka_unit_test(test_random_ranges_cover_bounds),
	    cmocka_unit_test(test_random_is_pure_in_seed_and_index),
	    cmocka_unit_test(test_bad_hyperparameter_spaces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
