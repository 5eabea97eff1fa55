/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Downsampled metrics straight from the store (store_metrics_each +
 * metrics_ds_add_text, the max_points path) against the JSON rows path
 * (store_metrics pages + metrics_ds_add) on the same real SQLite file:
 * the same series, row counts and last row id for every group, since and
 * max_points, with missing and non-number values, bodies that are not JSON
 * objects (NaN text among them), several names per row and another trial's
 * rows interleaved; and each group's reads against the rows written, with
 * the validation rows in a partial index of their own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "master/metrics_ds.h"
#include "master/store.h"
#include "store_test_util.h"

#define NROWS 5000

static char dir[256];
static char path[300];

static int setup(void **state)
{
	(void)state;
	return store_test_mkdir(dir, sizeof(dir), "/tmp/det-metrics-store-test.XXXXXX", path,
	                        sizeof(path));
}

static int teardown(void **state)
{
	(void)state;
	store_test_rmdir(dir, path);
	return 0;
}

static void put(struct store *st, const char *table, json_t *row)
{
	char err[256] = "";
	struct store_op op = {.kind = STORE_PUT, .table = table, .row = row};
	if (store_write(st, &op, 1, err, sizeof(err)))
		fail_msg("store_write %s: %s", table, err);
	json_decref(row);
}

/* The body of metric row i: a mix of everything a body can hold. */
static json_t *body_of(int i, unsigned *seed)
{
	double r = (double)rand_r(seed) / RAND_MAX;
	static const char *const texts[] = {
	    " { \"loss\" :\t1.5e-3 ,\n\"acc\":-0, \"lr\": 2E+2 }\r\n",
	    "{\"loss\": 1, \"loss\": 2}",                /* a repeated name */
	    "{\"loss\": 1, \"loss\": null, \"acc\": 3}", /* the last one wins */
	    "{\"lo\\u0073s\": 4.25, \"acc\": 1}",        /* an escaped name */
	    "{\"loss\": 12345678901234567890}",          /* too big an integer */
	    "{\"loss\": -9223372036854775807, \"acc\": 123456789012345678}",
	    "{\"loss\": 1e400}", /* real overflow */
	    "{\"loss\": 1e-400, \"acc\": 0.1000000000000000055511151231257827}",
	    "{\"loss\": 01}",
	    "{\"loss\": 1.}",
	    "{\"loss\": .5}",
	    "{\"loss\": 2, \"nested\": {\"acc\": 1}}",
	    "{\"loss\": 2, \"list\": [1, 2], \"acc\": 5}",
	    "{\"loss\": 3, \"acc\": \"caf\\u00e9\", \"lr\": true, \"zeta\": false}",
	    "{\"loss\": 3,}",
	    "{\"loss\": 3} x",
	    "{}",
	    ("{\"a1\":1,\"a2\":2,\"a3\":3,\"a4\":4,\"a5\":5,\"a6\":6,\"a7\":7,\"a8\":8,\"a9\":9,"
	     "\"b1\":1,\"b2\":2,\"b3\":3,\"b4\":4,\"b5\":5,\"b6\":6,\"b7\":7,\"b8\":8}"),
	    "{\"loss\": 7, \"caf\xc3\xa9\": 8}", /* UTF-8 in a name */
	    "{\"loss\": 0.30000000000000004, \"acc\": 4.9406564584124654e-324}",
	};
	if (i % 13 == 1) {
		char name[1002];
		memset(name, 'n', 1001);
		name[1001] = 0;
		return json_pack("{s:f, s:f}", "loss", r, name, r);
	}
	if (i % 3 == 0)
		return json_string_nocheck(texts[(i / 3) % (sizeof(texts) / sizeof(texts[0]))]);
	switch (i % 11) {
	case 0:
		return json_string("NaN"); /* not JSON: the whole row adds nothing */
	case 1:
		return json_string("{\"loss\": NaN, \"acc\": 0.5}");
	case 2:
		return json_pack("[f]", r); /* JSON, not an object */
	case 3:
		return json_pack("{s:n, s:s, s:f}", "loss", "acc", "high", "lr", r);
	case 4:
		return json_pack("{s:I}", "big", (json_int_t)9007199254740993LL);
	case 5:
		return json_pack("{s:f, s:f, s:f}", "acc", r * 3, "loss", r, "zeta", -r);
	default:
		return json_pack("{s:f, s:f}", "loss", 2.0 / (1 + i) + r * 1e-3, "lr", r * 1e-7);
	}
}

/* Trials 1 and 2 with NROWS metric rows between them, interleaved. */
static struct store *fill(void)
{
	char err[256] = "";
	struct store *st = store_open(path, err, sizeof(err));
	unsigned seed = 7;
	if (!st)
		fail_msg("store_open: %s", err);
	put(st, "users", json_pack("{s:i, s:s, s:f}", "id", 1, "name", "alice", "created_at", 1.0));
	put(st, "experiments",
	    json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:i, s:i, s:f}", "id", 1, "owner_id", 1,
	              "name", "e", "state", "ACTIVE", "config", "{}", "config_yaml", "",
	              "num_tasks", 2, "max_concurrent", 2, "created_at", 1.0));
	for (int t = 1; t <= 2; t++)
		put(st, "trials",
		    json_pack("{s:i, s:i, s:i, s:i, s:s, s:s, s:i, s:f}", "id", t, "experiment_id",
		              1, "trial_index", t - 1, "array_task", t - 1, "state", "ACTIVE",
		              "hparams", "{}", "seed", t, "created_at", 1.0));
	static struct store_op ops[NROWS];
	for (int i = 1; i <= NROWS; i++)
		ops[i - 1] = (struct store_op){
		    .kind = STORE_PUT,
		    .table = "metrics",
		    .row = json_pack("{s:i, s:i, s:s, s:i, s:o, s:f}", "id", i, "trial_id",
		                     i % 7 ? 1 : 2, "grp", i % 5 ? "training" : "validation",
		                     "steps_completed", i * 3, "body", body_of(i, &seed),
		                     "created_at", 1.7e9 + i * 0.37)};
	if (store_write(st, ops, NROWS, err, sizeof(err)))
		fail_msg("store_write metrics: %s", err);
	for (int i = 0; i < NROWS; i++)
		json_decref(ops[i].row);
	return st;
}

struct answer {
	json_t *series;
	int64_t last_id;
	size_t nrows;
};

/* The JSON rows path, a page of 700 rows at a time. */
static struct answer old_path(struct store *st, const char *group, int64_t since, size_t max)
{
	char err[256] = "";
	struct answer a = {.last_id = since};
	struct metrics_ds *ds = metrics_ds_new();
	assert_non_null(ds);
	for (;;) {
		json_t *rows = store_metrics(st, 1, group, a.last_id, 700, err, sizeof(err));
		assert_non_null(rows);
		size_t n = json_array_size(rows);
		if (n)
			a.last_id =
			    json_integer_value(json_object_get(json_array_get(rows, n - 1), "id"));
		a.nrows += n;
		assert_int_equal(metrics_ds_add(ds, rows, err, sizeof(err)), 0);
		json_decref(rows);
		if (n < 700)
			break;
	}
	a.series = metrics_ds_finish(ds, max, err, sizeof(err));
	metrics_ds_free(ds);
	return a;
}

struct each_arg {
	struct metrics_ds *ds;
	size_t nrows, stop_after;
};

static int each_row(void *arg, const char *group, int64_t steps, double created_at,
                    const char *body, size_t len, char *err, size_t errlen)
{
	struct each_arg *e = arg;
	if (metrics_ds_add_text(e->ds, group, steps, created_at, body, len, err, errlen))
		return -1;
	e->nrows++;
	return e->stop_after && e->nrows == e->stop_after;
}

/* The streamed path, stopping after stop_after rows (0: never). */
static struct answer new_path(struct store *st, const char *group, int64_t since, size_t max,
                              size_t stop_after)
{
	char err[256] = "";
	struct answer a = {0};
	struct each_arg e = {.ds = metrics_ds_new(), .stop_after = stop_after};
	assert_non_null(e.ds);
	assert_int_equal(
	    store_metrics_each(st, 1, group, since, each_row, &e, &a.last_id, err, sizeof(err)), 0);
	a.nrows = e.nrows;
	a.series = metrics_ds_finish(e.ds, max, err, sizeof(err));
	metrics_ds_free(e.ds);
	return a;
}

/* Fail naming the first series where o and n differ. */
static void fail_series(const struct answer *o, const struct answer *n, const char *group,
                        int64_t since, size_t max)
{
	size_t k = 0;
	while (json_equal(json_array_get(o->series, k), json_array_get(n->series, k)))
		k++;
	char *a = json_dumps(json_array_get(o->series, k), JSON_ENCODE_ANY);
	char *b = json_dumps(json_array_get(n->series, k), JSON_ENCODE_ANY);
	fail_msg("group %s since %lld max %zu, series %zu:\nold %.2000s\nnew %.2000s",
	         group ? group : "(all)", (long long)since, max, k, a ? a : "none", b ? b : "none");
}

static void test_streamed_answer_equals_json_rows_answer(void **state)
{
	(void)state;
	struct store *st = fill();
	const char *groups[] = {NULL, "training", "validation"};
	const int64_t sinces[] = {0, 1, NROWS / 2, NROWS - 3, NROWS};
	const size_t maxes[] = {METRICS_DS_MIN_POINTS, 5, 37, 1000, 100000};
	int nonempty = 0;

	for (size_t g = 0; g < 3; g++)
		for (size_t s = 0; s < sizeof(sinces) / sizeof(sinces[0]); s++)
			for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
				struct answer o = old_path(st, groups[g], sinces[s], maxes[m]);
				struct answer n = new_path(st, groups[g], sinces[s], maxes[m], 0);
				assert_non_null(o.series);
				assert_non_null(n.series);
				if (!json_equal(o.series, n.series))
					fail_series(&o, &n, groups[g], sinces[s], maxes[m]);
				assert_int_equal(o.last_id, n.last_id);
				assert_int_equal(o.nrows, n.nrows);
				nonempty += json_array_size(n.series) > 0;
				json_decref(o.series);
				json_decref(n.series);
			}
	/* the data did reach the comparison: every name of trial 1 in one answer */
	struct answer all = new_path(st, NULL, 0, 1000, 0);
	/* training: acc big loss lr zeta, a1..b8 of the long text, the name of
	 * 1001 bytes (lo\u0073s is loss); validation: at least the first five */
	assert_true(json_array_size(all.series) >= 23 + 5);
	json_decref(all.series);
	assert_true(nonempty > 30);
	store_close(st);
}

static void test_stop_keeps_the_last_row_passed(void **state)
{
	(void)state;
	struct store *st = fill();
	struct answer a = new_path(st, "training", 0, 100, 10);
	assert_int_equal(a.nrows, 10);
	/* trial 1's training rows: i % 7 != 0 and i % 5 != 0; the 10th is 13 */
	assert_int_equal(a.last_id, 13);
	json_decref(a.series);
	struct answer none = new_path(st, NULL, NROWS, 100, 0);
	assert_int_equal(none.nrows, 0);
	assert_int_equal(none.last_id, NROWS);
	assert_int_equal(json_array_size(none.series), 0);
	json_decref(none.series);
	store_close(st);
}

/* Whether row i of fill() belongs to trial t and group g (NULL: any). */
static int row_of(int i, int t, const char *g)
{
	int trial = i % 7 ? 1 : 2;
	const char *grp = i % 5 ? "training" : "validation";
	return trial == t && (!g || !strcmp(g, grp));
}

/* Each group's reads, paged and streamed, return exactly that group's rows
 * of the trial in id order, whichever index serves them. */
static void test_group_reads_return_exactly_the_group(void **state)
{
	(void)state;
	char err[256] = "";
	struct store *st = fill();
	const char *groups[] = {NULL, "training", "validation"};
	const int64_t sinces[] = {0, 1, 77, NROWS / 2, NROWS - 3, NROWS};
	size_t total = 0;

	for (int t = 1; t <= 2; t++)
		for (size_t g = 0; g < 3; g++)
			for (size_t s = 0; s < sizeof(sinces) / sizeof(sinces[0]); s++) {
				json_t *rows = store_metrics(st, t, groups[g], sinces[s], NROWS,
				                             err, sizeof(err));
				assert_non_null(rows);
				size_t k = 0;
				for (int i = (int)sinces[s] + 1; i <= NROWS; i++) {
					if (!row_of(i, t, groups[g]))
						continue;
					json_t *r = json_array_get(rows, k++);
					assert_non_null(r);
					assert_int_equal(
					    json_integer_value(json_object_get(r, "id")), i);
					assert_int_equal(json_integer_value(
					                     json_object_get(r, "steps_completed")),
					                 i * 3);
				}
				assert_int_equal(json_array_size(rows), k);
				total += k;
				json_decref(rows);
			}
	/* both groups of both trials were there to read */
	assert_true(total > NROWS);
	store_close(st);
}

/* A training report writes no index entry of the validation rows' index, and
 * the index by (trial, group, step) that every report also wrote is gone. */
static void test_training_rows_stay_out_of_the_validation_index(void **state)
{
	(void)state;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	struct store *st = fill();
	store_close(st);

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT (SELECT count(*) FROM sqlite_master"
	                                    " WHERE type = 'index' AND name = 'metrics_trial'),"
	                                    " (SELECT sql FROM sqlite_master WHERE name ="
	                                    " 'metrics_validation'),"
	                                    " (SELECT count(*) FROM metrics INDEXED BY"
	                                    " metrics_validation WHERE grp = 'validation'"
	                                    " AND trial_id IN (1, 2))",
	                                    -1, &q, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 0);
	const char *sql = (const char *)sqlite3_column_text(q, 1);
	assert_non_null(sql);
	assert_non_null(strstr(sql, "WHERE grp = 'validation'"));
	/* every fifth row is a validation row: all of them are found through it */
	assert_int_equal(sqlite3_column_int(q, 2), NROWS / 5);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_streamed_answer_equals_json_rows_answer, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_stop_keeps_the_last_row_passed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_group_reads_return_exactly_the_group, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_training_rows_stay_out_of_the_validation_index,
	                                    setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
