/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The master's store on a real SQLite file: migrations, upsert/update/delete,
 * all-or-nothing writes, group commit under concurrent writers, reopening,
 * online backups, and the refusal to open a damaged file.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <fcntl.h>

#include "master/store.h"
#include "store_test_util.h"

static char dir[256];
static char path[300];

static int setup(void **state)
{
	return store_test_mkdir(dir, sizeof(dir), "/tmp/det-store-test.XXXXXX", path, sizeof(path));
}

static int teardown(void **state)
{
	char p[400];
	snprintf(p, sizeof(p), "%s/copy.db", dir);
	unlink(p);
	store_test_rmdir(dir, path);
	return 0;
}

static struct store *open_ok(void)
{
	char err[256] = "";
	struct store *st = store_open(path, err, sizeof(err));
	if (!st)
		fail_msg("store_open: %s", err);
	return st;
}

static void add_user(struct store *st, int id, const char *name)
{
	char err[256];
	json_t *u = json_pack("{s:i, s:s, s:b, s:f}", "id", id, "name", name, "admin", 0,
	                      "created_at", 1.0);
	struct store_op op = {.kind = STORE_PUT, .table = "users", .row = u};
	assert_int_equal(store_write(st, &op, 1, err, sizeof(err)), 0);
	json_decref(u);
}

static void test_migrates_and_reopens(void **state)
{
	struct store *st = open_ok();
	assert_true(store_schema_version(st) >= 1);
	add_user(st, 1, "alice");
	store_close(st);
	st = open_ok();
	char err[256];
	json_t *users = store_load_table(st, "users", err, sizeof(err));
	assert_non_null(users);
	assert_int_equal(json_array_size(users), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(users, 0), "name")),
	                    "alice");
	json_decref(users);
	store_close(st);
}

static void test_put_updates_and_update_is_partial(void **state)
{
	struct store *st = open_ok();
	char err[256];
	add_user(st, 1, "alice");
	add_user(st, 1, "alicia"); /* upsert by primary key */
	json_t *upd = json_pack("{s:i, s:i}", "id", 1, "admin", 1);
	struct store_op op = {.kind = STORE_UPDATE, .table = "users", .row = upd};
	assert_int_equal(store_write(st, &op, 1, err, sizeof(err)), 0);
	json_decref(upd);
	json_t *users = store_load_table(st, "users", err, sizeof(err));
	json_t *u = json_array_get(users, 0);
	assert_int_equal(json_array_size(users), 1);
	assert_string_equal(json_string_value(json_object_get(u, "name")), "alicia");
	assert_int_equal(json_integer_value(json_object_get(u, "admin")), 1);
	json_decref(users);
	store_close(st);
}

static void test_write_is_all_or_nothing(void **state)
{
	struct store *st = open_ok();
	char err[256] = "";
	json_t *good = json_pack("{s:i, s:s, s:b, s:f}", "id", 2, "name", "bob", "admin", 0,
	                         "created_at", 1.0);
	json_t *bad = json_pack("{s:i}", "id", 3); /* name is NOT NULL */
	struct store_op ops[] = {{.kind = STORE_PUT, .table = "users", .row = good},
	                         {.kind = STORE_PUT, .table = "users", .row = bad}};
	assert_int_equal(store_write(st, ops, 2, err, sizeof(err)), -1);
	assert_true(strlen(err) > 0);
	json_t *users = store_load_table(st, "users", err, sizeof(err));
	assert_int_equal(json_array_size(users), 0);
	json_decref(users);
	json_decref(good);
	json_decref(bad);
	store_close(st);
}

static void test_rejects_unknown_table_and_column(void **state)
{
	struct store *st = open_ok();
	char err[256];
	json_t *r = json_pack("{s:i}", "id", 1);
	struct store_op op = {.kind = STORE_PUT, .table = "nope", .row = r};
	assert_int_equal(store_write(st, &op, 1, err, sizeof(err)), -1);
	json_t *r2 = json_pack("{s:i, s:s}", "id", 1, "name; DROP TABLE users", "x");
	struct store_op op2 = {.kind = STORE_PUT, .table = "users", .row = r2};
	assert_int_equal(store_write(st, &op2, 1, err, sizeof(err)), -1);
	json_decref(r);
	json_decref(r2);
	store_close(st);
}

struct writer_arg {
	struct store *st;
	int base;
	int n;
	int failures;
};

static void *writer(void *p)
{
	struct writer_arg *w = p;
	char err[256];
	for (int i = 0; i < w->n; i++) {
		json_t *m =
		    json_pack("{s:i, s:s, s:i, s:{s:i}, s:f}", "trial_id", 1, "grp", "training",
		              "steps_completed", w->base + i, "body", "x", i, "created_at", 1.0);
		struct store_op op = {.kind = STORE_INSERT, .table = "metrics", .row = m};
		if (store_write(w->st, &op, 1, err, sizeof(err)))
			w->failures++;
		json_decref(m);
	}
	return NULL;
}

static void test_group_commit_many_writers(void **state)
{
	struct store *st = open_ok();
	char err[256];
	pthread_t th[8];
	struct writer_arg args[8];
	uint64_t batches, ops;
	double secs;

	add_user(st, 1, "alice");
	json_t *e = json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:i, s:i, s:f}", "id", 1, "owner_id",
	                      1, "name", "e", "state", "ACTIVE", "config", "{}", "config_yaml", "",
	                      "num_tasks", 1, "max_concurrent", 1, "created_at", 1.0);
	json_t *t = json_pack("{s:i, s:i, s:i, s:i, s:s, s:s, s:i, s:f}", "id", 1, "experiment_id",
	                      1, "trial_index", 0, "array_task", 0, "state", "ACTIVE", "hparams",
	                      "{}", "seed", 1, "created_at", 1.0);
	struct store_op setup_ops[] = {{.kind = STORE_PUT, .table = "experiments", .row = e},
	                               {.kind = STORE_PUT, .table = "trials", .row = t}};
	assert_int_equal(store_write(st, setup_ops, 2, err, sizeof(err)), 0);
	json_decref(e);
	json_decref(t);
	for (int i = 0; i < 8; i++) {
		args[i] = (struct writer_arg){st, i * 1000, 200, 0};
		pthread_create(&th[i], NULL, writer, &args[i]);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(args[i].failures, 0);
	}
	json_t *rows = store_metrics(st, 1, "training", 0, 10000, err, sizeof(err));
	assert_non_null(rows);
	assert_int_equal(json_array_size(rows), 1600);
	/* Metrics come back as an object, not as the stored JSON text. */
	assert_true(json_is_object(json_object_get(json_array_get(rows, 0), "metrics")));
	json_decref(rows);
	store_stats(st, &batches, &ops, &secs);
	/* Concurrent writers share transactions. */
	assert_true(batches < ops);
	store_close(st);
}

static size_t count_users(const char *db)
{
	char err[256] = "";
	struct store *st = store_open(db, err, sizeof(err));
	if (!st)
		fail_msg("store_open %s: %s", db, err);
	json_t *users = store_load_table(st, "users", err, sizeof(err));
	assert_non_null(users);
	size_t n = json_array_size(users);
	json_decref(users);
	store_close(st);
	return n;
}

static void test_backup_copies_and_never_overwrites(void **state)
{
	char err[256] = "", copy[400], missing[400];
	struct store *st = open_ok();

	(void)state;
	for (int i = 1; i <= 50; i++) {
		char name[32];
		snprintf(name, sizeof(name), "user%d", i);
		add_user(st, i, name);
	}
	snprintf(copy, sizeof(copy), "%s/copy.db", dir);
	/* While the store is open and written to. */
	assert_int_equal(store_backup(path, copy, err, sizeof(err)), 0);
	add_user(st, 51, "after");
	store_close(st);
	assert_int_equal(count_users(copy), 50);
	/* A second backup onto the same file is refused and leaves it alone. */
	assert_int_equal(store_backup(path, copy, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "File exists"));
	assert_int_equal(count_users(copy), 50);
	/* Nothing is created from a database that is not there. */
	snprintf(missing, sizeof(missing), "%s/missing.db", dir);
	assert_int_equal(store_backup(missing, copy, err, sizeof(err)), -1);
	assert_int_equal(access(missing, F_OK), -1);
}

static void test_damaged_file_is_refused(void **state)
{
	char err[1024] = "";
	static const char zeros[4096];
	struct store *st = open_ok();

	(void)state;
	for (int i = 1; i <= 200; i++) {
		char name[32];
		snprintf(name, sizeof(name), "a-rather-long-user-name-%d", i);
		add_user(st, i, name);
	}
	store_close(st);
	/* Page 2 is the first table of the schema (users). */
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, zeros, sizeof(zeros), 4096), (ssize_t)sizeof(zeros));
	close(fd);
	st = store_open(path, err, sizeof(err));
	assert_null(st);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "the database is damaged"));
	assert_non_null(strstr(err, "PRAGMA quick_check: "));
	assert_non_null(strstr(err, "det-master --backup"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_migrates_and_reopens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_updates_and_update_is_partial, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_write_is_all_or_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejects_unknown_table_and_column, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_group_commit_many_writers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backup_copies_and_never_overwrites, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_file_is_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
