/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Searcher bookkeeping shared by every method: config checking, single/grid/
 * random plans, arrival-order independence, replacements for invalid
 * hyperparameters, best/progress/done, metric errors, previews and
 * snapshot/restore of the non-ASHA searchers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "searcher_test_util.h"

#define HPS_MIX                                                                                    \
	"{\"lr\": {\"type\": \"log\", \"minval\": -4, \"maxval\": -1, \"base\": 10, \"count\": "   \
	"3},"                                                                                      \
	" \"layers\": {\"type\": \"int\", \"minval\": 1, \"maxval\": 4, \"count\": 2},"            \
	" \"opt\": {\"type\": \"categorical\", \"vals\": [\"sgd\", \"adam\"]},"                    \
	" \"bs\": {\"type\": \"const\", \"val\": 32}}"

static json_t *metrics(double loss, double batches)
{
	return json_pack("{s:f, s:f}", "loss", loss, "batches", batches);
}

static void test_single_plan_and_lengths(void **state)
{
	struct searcher *s = test_searcher(
	    "{\"bs\": {\"type\": \"const\", \"val\": 8}, \"d\": {\"type\": \"double\", \"minval\": "
	    "1,"
	    " \"maxval\": 2}}",
	    "{\"name\": \"single\", \"metric\": \"loss\", \"max_length\": {\"epochs\": 3},"
	    " \"max_concurrent_trials\": 9}",
	    5);
	char err[128];
	json_t *h;

	(void)state;
	assert_int_equal(searcher_trial_count(s), 1);
	assert_int_equal(searcher_max_concurrent(s), 1);
	assert_int_equal(searcher_trial_length(s, 0), 3);
	assert_string_equal(searcher_time_unit(s), "epochs");
	h = searcher_trial_hparams(s, 0, err, sizeof(err));
	assert_int_equal(json_integer_value(json_object_get(h, "bs")), 8);
	assert_true(json_real_value(json_object_get(h, "d")) >= 1.0);
	json_decref(h);
	searcher_free(s);

	s = test_searcher("{}", "{\"name\": \"random\", \"metric\": \"loss\", \"max_trials\": 2}",
	                  5);
	assert_int_equal(searcher_trial_length(s, 0), 0);
	assert_string_equal(searcher_time_unit(s), "");
	assert_int_equal(searcher_max_concurrent(s), 16);
	searcher_free(s);
	s = test_searcher(
	    "{}",
	    "{\"name\": \"random\", \"metric\": \"loss\", \"max_trials\": 2,"
	    " \"time_metric\": \"steps\", \"max_time\": 40, \"max_concurrent_trials\": 0}",
	    5);
	assert_int_equal(searcher_trial_length(s, 1), 40);
	assert_string_equal(searcher_time_unit(s), "steps");
	assert_int_equal(searcher_max_concurrent(s), 0);
	searcher_free(s);
}

static void expect_bad_config(const char *config_text, const char *want)
{
	json_t *cfg = json_loads(config_text, JSON_DECODE_ANY, NULL);
	char err[256] = "x";
	struct searcher *s;

	assert_non_null(cfg);
	s = searcher_new(cfg, err, sizeof(err));
	if (s || !strstr(err, want))
		fail_msg("config %s: got \"%s\", want \"%s\"", config_text, s ? "(accepted)" : err,
		         want);
	json_decref(cfg);
}

#define SEED "\"reproducibility\": {\"experiment_seed\": 3}"

static void test_bad_searcher_configs(void **state)
{
	(void)state;
	expect_bad_config("[]", "searcher: the config needs a searcher map");
	expect_bad_config("{" SEED "}", "searcher: the config needs a searcher map");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"pbt\", \"metric\": \"l\"}}",
	                  "searcher.name: must be one of");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"single\"}}",
	                  "searcher.metric: must be a non-empty string");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"single\", \"metric\": \"\"}}",
	                  "searcher.metric");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"single\", \"metric\": \"l\","
	                  " \"smaller_is_better\": 1}}",
	                  "searcher.smaller_is_better: must be true or false");
	expect_bad_config("{\"searcher\": {\"name\": \"single\", \"metric\": \"l\"}}",
	                  "reproducibility.experiment_seed: must be an integer");
	expect_bad_config("{\"reproducibility\": {\"experiment_seed\": \"1\"},"
	                  " \"searcher\": {\"name\": \"single\", \"metric\": \"l\"}}",
	                  "reproducibility.experiment_seed");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"random\", \"metric\": \"l\"}}",
	                  "searcher.max_trials: required for random");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"random\", \"metric\": \"l\","
	                  " \"max_trials\": 0}}",
	                  "searcher.max_trials: must be an integer from 1 to 1000000");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"random\", \"metric\": \"l\","
	                  " \"max_trials\": 1000001}}",
	                  "searcher.max_trials");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"random\", \"metric\": \"l\","
	                  " \"max_trials\": 1, \"max_concurrent_trials\": -1}}",
	                  "searcher.max_concurrent_trials");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"single\", \"metric\": \"l\","
	                  " \"max_length\": {}}}",
	                  "searcher.max_length: must be a map with one of");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"single\", \"metric\": \"l\","
	                  " \"max_length\": {\"steps\": 4}}}",
	                  "searcher.max_length");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"single\", \"metric\": \"l\","
	                  " \"max_length\": {\"batches\": 0}}}",
	                  "searcher.max_length.batches: must be a positive integer");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"single\", \"metric\": \"l\","
	                  " \"max_length\": {\"batches\": 1, \"epochs\": 1}}}",
	                  "searcher.max_length");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"single\", \"metric\": \"l\","
	                  " \"time_metric\": \"b\"}}",
	                  "searcher.max_time: needed with time_metric");
	expect_bad_config("{" SEED ", \"searcher\": {\"name\": \"single\", \"metric\": \"l\","
	                  " \"time_metric\": 5, \"max_time\": 3}}",
	                  "searcher.time_metric");
	expect_bad_config("{" SEED
	                  ", \"searcher\": {\"name\": \"adaptive_asha\", \"metric\": \"l\","
	                  " \"max_trials\": 4}}",
	                  "adaptive_asha needs time_metric and max_time");
	expect_bad_config("{" SEED
	                  ", \"searcher\": {\"name\": \"adaptive_asha\", \"metric\": \"l\","
	                  " \"max_trials\": 4, \"time_metric\": \"b\", \"max_time\": 0}}",
	                  "searcher.max_time");
	expect_bad_config(
	    "{" SEED ", \"searcher\": {\"name\": \"adaptive_asha\", \"metric\": \"l\","
	    " \"max_trials\": 4, \"time_metric\": \"b\", \"max_time\": 9, \"divisor\": 1}}",
	    "searcher.divisor");
	expect_bad_config(
	    "{" SEED ", \"searcher\": {\"name\": \"adaptive_asha\", \"metric\": \"l\","
	    " \"max_trials\": 4, \"time_metric\": \"b\", \"max_time\": 9, \"divisor\": 2.5}}",
	    "searcher.divisor");
	expect_bad_config(
	    "{" SEED ", \"searcher\": {\"name\": \"adaptive_asha\", \"metric\": \"l\","
	    " \"max_trials\": 4, \"time_metric\": \"b\", \"max_time\": 9, \"max_rungs\": 0}}",
	    "searcher.max_rungs");
	expect_bad_config(
	    "{" SEED ", \"searcher\": {\"name\": \"adaptive_asha\", \"metric\": \"l\","
	    " \"max_trials\": 4, \"time_metric\": \"b\", \"max_time\": 9, \"mode\": \"wild\"}}",
	    "searcher.mode");
	expect_bad_config("{" SEED ", \"hyperparameters\": 3, \"searcher\": {\"name\": \"single\","
	                  " \"metric\": \"l\"}}",
	                  "hyperparameters: must be a map");
}

/* Drive two searchers through the same trials, claims and validations in two
 * different orders; every trial's values and every decision must agree. */
static void run_in_order(struct searcher *s, const int *order, int n, enum searcher_decision *dec)
{
	char err[128];

	for (int k = 0; k < n; k++)
		assert_int_equal(searcher_on_claim(s, order[k], err, sizeof(err)), 0);
	for (int k = 0; k < n; k++) {
		int i = order[k];
		json_t *m = metrics(1.0 / (1 + i % 7), 50.0 * (1 + i % 3));

		assert_int_equal(searcher_on_validation(s, i, m, &dec[i], err, sizeof(err)), 0);
		json_decref(m);
	}
	for (int k = n - 1; k >= 0; k--)
		assert_int_equal(
		    searcher_on_exit(s, order[k], SEARCHER_EXIT_COMPLETED, NULL, err, sizeof(err)),
		    0);
}

static void check_order_independent(const char *searcher_cfg)
{
	struct searcher *a = test_searcher(HPS_MIX, searcher_cfg, 11);
	struct searcher *b = test_searcher(HPS_MIX, searcher_cfg, 11);
	int n = searcher_trial_count(a), order_a[64], order_b[64], ia, ib;
	enum searcher_decision da[64], db[64];
	unsigned long long rs = 5;
	double va, vb;
	char err[128];

	assert_true(n <= 64);
	for (int i = 0; i < n; i++)
		order_a[i] = order_b[i] = i;
	test_shuffle(order_a, n, &rs);
	test_shuffle(order_b, n, &rs);
	for (int k = 0; k < n; k++) { /* values asked in different orders, before any claim */
		json_t *x = searcher_trial_hparams(a, order_a[k], err, sizeof(err));

		json_decref(x);
	}
	run_in_order(a, order_a, n, da);
	run_in_order(b, order_b, n, db);
	for (int i = 0; i < n; i++) {
		json_t *ha = searcher_trial_hparams(a, i, err, sizeof(err));
		json_t *hb = searcher_trial_hparams(b, i, err, sizeof(err));

		assert_true(json_equal(ha, hb));
		assert_int_equal(da[i], db[i]);
		/* length 100: trials validated at 100 or 150 batches are told to stop */
		assert_int_equal(da[i], (i % 3) ? SEARCHER_STOP : SEARCHER_CONTINUE);
		json_decref(ha);
		json_decref(hb);
	}
	assert_int_equal(searcher_best(a, &va, &ia), 0);
	assert_int_equal(searcher_best(b, &vb, &ib), 0);
	assert_true(va == vb && ia == ib);
	assert_int_equal(ia, 0); /* larger is better: 1.0 at i % 7 == 0, lowest index on ties */
	assert_true(searcher_is_done(a) && searcher_is_done(b));
	searcher_free(a);
	searcher_free(b);
}

static void test_order_independence_random_and_grid(void **state)
{
	(void)state;
	check_order_independent(
	    "{\"name\": \"grid\", \"metric\": \"loss\", \"smaller_is_better\": false,"
	    " \"max_length\": {\"batches\": 100}}");
	check_order_independent(
	    "{\"name\": \"random\", \"metric\": \"loss\", \"max_trials\": 40,"
	    " \"smaller_is_better\": false, \"max_length\": {\"batches\": 100}}");
}

static void test_grid_plan_size_and_concurrency(void **state)
{
	struct searcher *s = test_searcher(HPS_MIX,
	                                   "{\"name\": \"grid\", \"metric\": \"loss\","
	                                   " \"max_concurrent_trials\": 5}",
	                                   1);
	char err[128];
	int rep = 7;

	(void)state;
	assert_int_equal(searcher_trial_count(s), 3 * 2 * 2 * 1);
	assert_int_equal(searcher_max_concurrent(s), 5);
	/* A grid point with invalid values has no replacement: it would be the same point. */
	assert_int_equal(searcher_on_exit(s, 3, SEARCHER_EXIT_INVALID_HP, &rep, err, sizeof(err)),
	                 0);
	assert_int_equal(rep, -1);
	searcher_free(s);
}

static void test_invalid_hp_replacement_random(void **state)
{
	struct searcher *s = test_searcher(
	    HPS_MIX, "{\"name\": \"random\", \"metric\": \"loss\", \"max_trials\": 3}", 2);
	enum searcher_decision d;
	char err[128];
	int rep, rep2, idx;
	double v;
	json_t *m = metrics(0.1, 10), *h3, *h0;

	(void)state;
	assert_int_equal(searcher_on_validation(s, 1, m, &d, err, sizeof(err)), 0);
	json_decref(m);
	assert_int_equal(searcher_best(s, &v, &idx), 0);
	assert_int_equal(idx, 1);
	assert_int_equal(searcher_on_exit(s, 1, SEARCHER_EXIT_INVALID_HP, &rep, err, sizeof(err)),
	                 0);
	assert_int_equal(rep, 3);
	/* The same report again (a retry) names the same replacement. */
	assert_int_equal(searcher_on_exit(s, 1, SEARCHER_EXIT_INVALID_HP, &rep2, err, sizeof(err)),
	                 0);
	assert_int_equal(rep2, 3);
	assert_int_equal(searcher_on_exit(s, 1, SEARCHER_EXIT_COMPLETED, NULL, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "already exited as invalid_hp"));
	assert_int_equal(searcher_best(s, &v, &idx), -1); /* invalid trials do not count */
	assert_int_equal(searcher_trial_count(s), 3);
	h3 = searcher_trial_hparams(s, 3, err, sizeof(err));
	h0 = searcher_trial_hparams(s, 0, err, sizeof(err));
	assert_non_null(h3);
	assert_false(json_equal(h3, h0));
	json_decref(h3);
	json_decref(h0);
	assert_null(searcher_trial_hparams(s, 4, err, sizeof(err)));
	assert_int_equal(searcher_on_claim(s, 3, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++)
		if (i != 1)
			assert_int_equal(
			    searcher_on_exit(s, i, SEARCHER_EXIT_ERRORED, NULL, err, sizeof(err)),
			    0);
	assert_false(searcher_is_done(s)); /* the replacement still runs */
	assert_true(searcher_progress(s) < 1.0);
	assert_int_equal(searcher_on_exit(s, 3, SEARCHER_EXIT_CANCELED, &rep, err, sizeof(err)), 0);
	assert_int_equal(rep, -1);
	assert_true(searcher_is_done(s));
	assert_true(searcher_progress(s) == 1.0);
	searcher_free(s);
}

static void test_replacements_are_bounded(void **state)
{
	struct searcher *s = test_searcher("{}", "{\"name\": \"single\", \"metric\": \"loss\"}", 2);
	char err[128];
	int rep = 0, issued = 0, cur = 0;

	(void)state;
	while (rep >= 0) {
		assert_int_equal(
		    searcher_on_exit(s, cur, SEARCHER_EXIT_INVALID_HP, &rep, err, sizeof(err)), 0);
		if (rep >= 0) {
			assert_int_equal(rep, cur + 1);
			issued++;
			cur = rep;
		}
	}
	assert_int_equal(issued, 100);
	assert_true(searcher_is_done(s));
	searcher_free(s);
}

static void test_missing_or_bad_metric_is_an_error(void **state)
{
	struct searcher *s =
	    test_searcher("{}",
	                  "{\"name\": \"random\", \"metric\": \"loss\", \"max_trials\": 2,"
	                  " \"max_length\": {\"batches\": 10}}",
	                  2);
	enum searcher_decision d;
	char err[160];
	json_t *m;

	(void)state;
	m = json_pack("{s:f}", "acc", 0.5); /* without the searcher metric: fine outside ASHA */
	assert_int_equal(searcher_on_validation(s, 0, m, &d, err, sizeof(err)), 0);
	assert_int_equal(d, SEARCHER_CONTINUE);
	json_decref(m);
	m = json_pack("{s:s}", "loss", "0.5");
	assert_int_equal(searcher_on_validation(s, 0, m, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "validation of trial 0: searcher metric \"loss\" is not a number");
	json_decref(m);
	m = json_pack("{s:f, s:s}", "loss", 0.5, "batches", "ten");
	assert_int_equal(searcher_on_validation(s, 0, m, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "time metric \"batches\" is not a number"));
	json_decref(m);
	m = json_pack("[f]", 0.5);
	assert_int_equal(searcher_on_validation(s, 0, m, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "metrics must be a map"));
	json_decref(m);
	m = json_pack("{s:f}", "loss", 0.5); /* no time metric: fine outside ASHA */
	assert_int_equal(searcher_on_validation(s, 0, m, &d, err, sizeof(err)), 0);
	assert_int_equal(d, SEARCHER_CONTINUE);
	assert_int_equal(searcher_on_validation(s, 2, m, &d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "out of range"));
	assert_int_equal(searcher_on_validation(s, -1, m, &d, err, sizeof(err)), -1);
	json_decref(m);
	assert_int_equal(searcher_on_claim(s, 5, err, sizeof(err)), -1);
	assert_int_equal(searcher_on_exit(s, 0, (enum searcher_exit)42, NULL, err, sizeof(err)),
	                 -1);
	searcher_free(s);
}

static void test_best_progress_and_late_reports(void **state)
{
	struct searcher *s =
	    test_searcher("{}",
	                  "{\"name\": \"random\", \"metric\": \"acc\", \"max_trials\": 4,"
	                  " \"smaller_is_better\": false, \"max_length\": {\"batches\": 100}}",
	                  2);
	enum searcher_decision d;
	char err[128];
	double v;
	int idx;
	json_t *m;

	(void)state;
	assert_int_equal(searcher_best(s, &v, &idx), -1);
	assert_true(searcher_progress(s) == 0.0);
	m = json_pack("{s:f, s:i}", "acc", 0.5, "batches", 50);
	assert_int_equal(searcher_on_validation(s, 2, m, &d, err, sizeof(err)), 0);
	json_decref(m);
	assert_true(fabs(searcher_progress(s) - 0.125) < 1e-12);
	m = json_pack("{s:f, s:i}", "acc", 0.9, "batches", 100);
	assert_int_equal(searcher_on_validation(s, 1, m, &d, err, sizeof(err)), 0);
	assert_int_equal(d, SEARCHER_STOP);
	json_decref(m);
	m = json_pack("{s:f, s:i}", "acc", 0.9, "batches", 60);
	assert_int_equal(searcher_on_validation(s, 3, m, &d, err, sizeof(err)), 0);
	json_decref(m);
	assert_int_equal(searcher_best(s, &v, &idx), 0);
	assert_true(v == 0.9 && idx == 1); /* ties: lowest index */
	assert_int_equal(searcher_on_exit(s, 2, SEARCHER_EXIT_COMPLETED, NULL, err, sizeof(err)),
	                 0);
	m = json_pack("{s:f, s:i}", "acc", 0.99, "batches", 70);
	assert_int_equal(searcher_on_validation(s, 2, m, &d, err, sizeof(err)), 0);
	assert_int_equal(d, SEARCHER_STOP); /* a late report of a finished trial changes nothing */
	json_decref(m);
	assert_int_equal(searcher_best(s, &v, &idx), 0);
	assert_true(v == 0.9 && idx == 1);
	assert_true(fabs(searcher_progress(s) - (1 + 1 + 0.6) / 4) < 1e-12);
	searcher_free(s);
}

static void test_preview_single_grid_random(void **state)
{
	struct searcher *s = test_searcher(HPS_MIX,
	                                   "{\"name\": \"grid\", \"metric\": \"loss\","
	                                   " \"max_length\": {\"records\": 640}}",
	                                   1);
	char err[128];
	json_t *p = searcher_preview(s, err, sizeof(err)), *h;

	(void)state;
	assert_non_null(p);
	assert_string_equal(json_string_value(json_object_get(p, "name")), "grid");
	assert_int_equal(json_integer_value(json_object_get(p, "trial_count")), 12);
	assert_int_equal(json_integer_value(json_object_get(p, "max_concurrent_trials")), 16);
	assert_string_equal(json_string_value(json_object_get(p, "time_unit")), "records");
	assert_int_equal(json_integer_value(json_object_get(p, "max_length")), 640);
	assert_int_equal(json_array_size(json_object_get(p, "points")), 12);
	h = searcher_trial_hparams(s, 11, err, sizeof(err));
	assert_true(json_equal(json_array_get(json_object_get(p, "points"), 11), h));
	json_decref(h);
	json_decref(p);
	searcher_free(s);

	s = test_searcher(HPS_MIX,
	                  "{\"name\": \"random\", \"metric\": \"loss\", \"max_trials\": 500}", 1);
	p = searcher_preview(s, err, sizeof(err));
	assert_int_equal(json_integer_value(json_object_get(p, "trial_count")), 500);
	assert_int_equal(json_array_size(json_object_get(p, "trials")), 100);
	assert_true(json_is_null(json_object_get(p, "time_unit")));
	assert_int_equal(json_integer_value(json_object_get(p, "max_length")), 0);
	json_decref(p);
	searcher_free(s);

	s = test_searcher(HPS_MIX, "{\"name\": \"single\", \"metric\": \"loss\"}", 1);
	p = searcher_preview(s, err, sizeof(err));
	assert_int_equal(json_array_size(json_object_get(p, "trials")), 1);
	assert_string_equal(json_string_value(json_object_get(p, "name")), "single");
	json_decref(p);
	searcher_free(s);
}

static void test_snapshot_restore_random(void **state)
{
	const char *sc = "{\"name\": \"random\", \"metric\": \"loss\", \"max_trials\": 6,"
	                 " \"max_length\": {\"batches\": 100}}";
	json_t *cfg = test_config(HPS_MIX, sc, 4);
	struct searcher *a = searcher_new(cfg, NULL, 0), *b;
	enum searcher_decision da, db;
	char err[128], *text;
	json_t *snap, *snap2, *loaded;
	int ra, rb;

	(void)state;
	searcher_on_claim(a, 0, err, sizeof(err));
	json_t *m = metrics(0.3, 40);
	searcher_on_validation(a, 0, m, &da, err, sizeof(err));
	searcher_on_exit(a, 2, SEARCHER_EXIT_INVALID_HP, &ra, err, sizeof(err));
	searcher_on_exit(a, 4, SEARCHER_EXIT_ERRORED, NULL, err, sizeof(err));
	snap = searcher_snapshot(a);
	text = json_dumps(snap, JSON_COMPACT);
	loaded = json_loads(text, 0, NULL);
	b = searcher_restore(cfg, loaded, err, sizeof(err));
	assert_non_null(b);
	snap2 = searcher_snapshot(b);
	assert_true(json_equal(snap, snap2));
	/* Both go on identically. */
	assert_int_equal(searcher_on_validation(a, 0, m, &da, err, sizeof(err)), 0);
	assert_int_equal(searcher_on_validation(b, 0, m, &db, err, sizeof(err)), 0);
	assert_int_equal(da, db);
	assert_int_equal(searcher_on_exit(a, ra, SEARCHER_EXIT_INVALID_HP, &ra, err, sizeof(err)),
	                 0);
	assert_int_equal(searcher_on_exit(b, 6, SEARCHER_EXIT_INVALID_HP, &rb, err, sizeof(err)),
	                 0);
	assert_int_equal(ra, rb);
	assert_int_equal(ra, 7);
	assert_true(fabs(searcher_progress(a) - searcher_progress(b)) < 1e-15);
	json_decref(m);
	json_decref(snap);
	json_decref(snap2);
	json_decref(loaded);
	free(text);
	searcher_free(a);
	searcher_free(b);
	json_decref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_single_plan_and_lengths),
	    cmocka_unit_test(test_bad_searcher_configs),
	    cmocka_unit_test(test_order_independence_random_and_grid),
	    cmocka_unit_test(test_grid_plan_size_and_concurrency),
	    cmocka_unit_test(test_invalid_hp_replacement_random),
	    cmocka_unit_test(test_replacements_are_bounded),
	    cmocka_unit_test(test_missing_or_bad_metric_is_an_error),
	    cmocka_unit_test(test_best_progress_and_late_reports),
	    cmocka_unit_test(test_preview_single_grid_random),
	    cmocka_unit_test(test_snapshot_restore_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
