/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tasks as a kind, on a real SQLite file: migration 5's table, the
 * typed store_task_* rows, and the engine's exp_task_create / exp_task_event
 * (validation, the state table's refusals, times and end reasons, persistence
 * across a reopen, trial allocations listed as tasks of kind 'trial').
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

#include "master/app.h"
#include "master/exp.h"
#include "master/store.h"
#include "store_test_util.h"

static char dir[256];
static char path[300];

static int setup(void **state)
{
	(void)state;
	return store_test_mkdir(dir, sizeof(dir), "/tmp/det-task-test.XXXXXX", path, sizeof(path));
}

static int teardown(void **state)
{
	(void)state;
	store_test_rmdir(dir, path);
	return 0;
}

/* An app with nothing but a store and its lock: what the task entry points use. */
static void app_up(struct app *a)
{
	char err[256] = "";
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->store = store_open(path, err, sizeof(err));
	if (!a->store)
		fail_msg("store_open: %s", err);
}

static void app_down(struct app *a)
{
	store_close(a->store);
	pthread_mutex_destroy(&a->lock);
}

static struct store_task get_ok(struct store *st, int64_t id)
{
	char err[256] = "";
	struct store_task t;
	if (store_task_get(st, id, &t, err, sizeof(err)) != 1)
		fail_msg("task %lld: %s", (long long)id, err);
	return t;
}

static void test_schema_has_tasks(void **state)
{
	(void)state;
	struct app a;
	app_up(&a);
	assert_true(store_schema_version(a.store) >= 5);
	char err[256] = "";
	json_t *all = store_task_list(a.store, NULL, err, sizeof(err));
	assert_non_null(all);
	assert_int_equal(json_array_size(all), 0);
	json_decref(all);
	app_down(&a);
}

static void test_create_and_walk_every_kind(void **state)
{
	(void)state;
	struct app a;
	char err[256] = "";
	app_up(&a);
	for (int k = 0; k < LIFECYCLE_TASK_NKINDS; k++) {
		struct exp_task_spec s = {(enum lifecycle_task_kind)k, 1000 + k, k, "default",
		                          NULL};
		int64_t id = 0;
		assert_int_equal(exp_task_create(&a, &s, &id, err, sizeof(err)), EXP_OK);
		assert_true(id > 0);
		struct store_task t = get_ok(a.store, id);
		assert_string_equal(t.kind, lifecycle_task_kind_name((enum lifecycle_task_kind)k));
		assert_string_equal(t.state, "QUEUED");
		assert_int_equal(t.owner_uid, 1000 + k);
		assert_int_equal(t.slots, k);
		assert_string_equal(t.pool, "default");
		assert_true(t.created_at > 0 && t.started_at == 0 && t.ended_at == 0);

		assert_int_equal(
		    exp_task_event(&a, id, LIFECYCLE_TASK_EV_ALLOCATED, 0, NULL, err, sizeof(err)),
		    EXP_OK);
		assert_string_equal(get_ok(a.store, id).state, "STARTING");
		assert_int_equal(
		    exp_task_event(&a, id, LIFECYCLE_TASK_EV_STARTED, 0, NULL, err, sizeof(err)),
		    EXP_OK);
		t = get_ok(a.store, id);
		assert_string_equal(t.state, "RUNNING");
		assert_true(t.started_at > 0);
		assert_int_equal(
		    exp_task_event(&a, id, LIFECYCLE_TASK_EV_EXITED, 256, NULL, err, sizeof(err)),
		    EXP_OK);
		t = get_ok(a.store, id);
		assert_string_equal(t.state, "TERMINATED");
		assert_true(t.has_exit_status);
		assert_int_equal(t.exit_status, 256);
		assert_string_equal(t.end_reason, "exited");
		assert_true(t.ended_at >= t.started_at);
	}
	char kind_err[256] = "";
	json_t *cmds = store_task_list(a.store, "command", kind_err, sizeof(kind_err));
	assert_int_equal(json_array_size(cmds), 1);
	json_decref(cmds);
	app_down(&a);
}

/* Refused events answer EXP_CONFLICT and leave the row as it was. */
static void test_refused_events_change_nothing(void **state)
{
	(void)state;
	struct app a;
	char err[256] = "";
	int64_t id;
	struct exp_task_spec s = {LIFECYCLE_TASK_NOTEBOOK, 1000, 1, "", "a notebook"};
	app_up(&a);
	assert_int_equal(exp_task_create(&a, &s, &id, err, sizeof(err)), EXP_OK);
	assert_string_equal(get_ok(a.store, id).description, "a notebook");
	assert_int_equal(
	    exp_task_event(&a, id, LIFECYCLE_TASK_EV_STARTED, 0, NULL, err, sizeof(err)),
	    EXP_CONFLICT);
	assert_non_null(strstr(err, "QUEUED"));
	assert_int_equal(
	    exp_task_event(&a, id, LIFECYCLE_TASK_EV_EXITED, 0, NULL, err, sizeof(err)),
	    EXP_CONFLICT);
	struct store_task t = get_ok(a.store, id);
	assert_string_equal(t.state, "QUEUED");
	assert_false(t.has_exit_status);
	assert_int_equal(
	    exp_task_event(&a, id, LIFECYCLE_TASK_EV_KILLED, 0, "user canceled", err, sizeof(err)),
	    EXP_OK);
	t = get_ok(a.store, id);
	assert_string_equal(t.state, "TERMINATED");
	assert_string_equal(t.end_reason, "user canceled");
	assert_false(t.has_exit_status);
	for (int ev = 0; ev < LIFECYCLE_TASK_EV_NEVENTS; ev++)
		assert_int_equal(exp_task_event(&a, id, (enum lifecycle_task_event)ev, 0, NULL, err,
		                                sizeof(err)),
		                 EXP_CONFLICT);
	assert_int_equal(
	    exp_task_event(&a, id + 100, LIFECYCLE_TASK_EV_KILLED, 0, NULL, err, sizeof(err)),
	    EXP_NOT_FOUND);
	app_down(&a);
}

/* A requeue sends a running task back to QUEUED; it starts again later. */
static void test_requeue_and_reopen(void **state)
{
	(void)state;
	struct app a;
	char err[256] = "";
	int64_t id;
	struct exp_task_spec s = {LIFECYCLE_TASK_SHELL, 0, 2, "gpu", NULL};
	app_up(&a);
	assert_int_equal(exp_task_create(&a, &s, &id, err, sizeof(err)), EXP_OK);
	const enum lifecycle_task_event evs[] = {
	    LIFECYCLE_TASK_EV_ALLOCATED, LIFECYCLE_TASK_EV_STARTED, LIFECYCLE_TASK_EV_REQUEUED,
	    LIFECYCLE_TASK_EV_ALLOCATED, LIFECYCLE_TASK_EV_STARTED};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		assert_int_equal(exp_task_event(&a, id, evs[i], 0, NULL, err, sizeof(err)), EXP_OK);
	app_down(&a);
	app_up(&a); /* persisted */
	struct store_task t = get_ok(a.store, id);
	assert_string_equal(t.state, "RUNNING");
	assert_string_equal(t.pool, "gpu");
	assert_int_equal(t.owner_uid, 0);
	app_down(&a);
}

static void test_invalid_input_writes_nothing(void **state)
{
	(void)state;
	struct app a;
	char err[256] = "";
	int64_t id = 0;
	app_up(&a);
	const struct {
		struct exp_task_spec s;
		const char *says;
	} bad[] = {
	    {{LIFECYCLE_TASK_NKINDS, 1000, 1, "", NULL}, "kind"},
	    {{(enum lifecycle_task_kind) - 1, 1000, 1, "", NULL}, "kind"},
	    {{LIFECYCLE_TASK_COMMAND, -1, 1, "", NULL}, "uid"},
	    {{LIFECYCLE_TASK_COMMAND, 1000, -1, "", NULL}, "slots"},
	    {{LIFECYCLE_TASK_COMMAND, 1000, EXP_TASK_MAX_SLOTS + 1, "", NULL}, "slots"},
	    {{LIFECYCLE_TASK_COMMAND, 1000, 1, NULL, NULL}, "pool"},
	    {{LIFECYCLE_TASK_COMMAND, 1000, 1, "a pool", NULL}, "pool"},
	    {{LIFECYCLE_TASK_COMMAND, 1000, 1, "x;\n", NULL}, "pool"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(exp_task_create(&a, &bad[i].s, &id, err, sizeof(err)),
		                 EXP_INVALID);
		if (!strstr(err, bad[i].says))
			fail_msg("case %zu: error \"%s\" does not name %s", i, err, bad[i].says);
	}
	char longpool[200];
	memset(longpool, 'p', sizeof(longpool) - 1);
	longpool[sizeof(longpool) - 1] = '\0';
	struct exp_task_spec lp = {LIFECYCLE_TASK_COMMAND, 1000, 1, longpool, NULL};
	assert_int_equal(exp_task_create(&a, &lp, &id, err, sizeof(err)), EXP_INVALID);
	char longdesc[1100];
	memset(longdesc, 'd', sizeof(longdesc) - 1);
	longdesc[sizeof(longdesc) - 1] = '\0';
	struct exp_task_spec ld = {LIFECYCLE_TASK_COMMAND, 1000, 1, "", longdesc};
	assert_int_equal(exp_task_create(&a, &ld, &id, err, sizeof(err)), EXP_INVALID);
	assert_non_null(strstr(err, "description"));
	json_t *all = store_task_list(a.store, NULL, err, sizeof(err));
	assert_int_equal(json_array_size(all), 0);
	json_decref(all);

	/* The schema refuses what the engine would never write. */
	struct store_task t = {0};
	snprintf(t.kind, sizeof(t.kind), "bogus");
	snprintf(t.state, sizeof(t.state), "QUEUED");
	t.created_at = 1;
	assert_int_equal(store_task_insert(a.store, &t, &id, err, sizeof(err)), -1);
	snprintf(t.kind, sizeof(t.kind), "command");
	snprintf(t.state, sizeof(t.state), "DONE");
	assert_int_equal(store_task_insert(a.store, &t, &id, err, sizeof(err)), -1);
	app_down(&a);
}

/* Trial allocations (the engine's array tasks) show as tasks of kind 'trial'. */
static void test_trial_allocations_are_tasks(void **state)
{
	(void)state;
	struct app a;
	char err[256] = "";
	app_up(&a);
	json_t *u = json_pack("{s:i, s:s, s:i, s:f}", "id", 1, "name", "alice", "uid", 1234,
	                      "created_at", 1.0);
	json_t *e =
	    json_pack("{s:i, s:i, s:s, s:s, s:s, s:s, s:i, s:i, s:f}", "id", 7, "owner_id", 1,
	              "name", "x", "state", "ACTIVE", "config",
	              "{\"resources\": {\"slots_per_trial\": 2, \"resource_pool\": \"p\"}}",
	              "config_yaml", "", "num_tasks", 2, "max_concurrent", 2, "created_at", 2.0);
	json_t *al0 =
	    json_pack("{s:i, s:i, s:s}", "experiment_id", 7, "array_task", 0, "state", "RUNNING");
	json_t *al1 =
	    json_pack("{s:i, s:i, s:s}", "experiment_id", 7, "array_task", 1, "state", "ENDED");
	struct store_op ops[] = {{.kind = STORE_PUT, .table = "users", .row = u},
	                         {.kind = STORE_INSERT, .table = "experiments", .row = e},
	                         {.kind = STORE_PUT, .table = "allocations", .row = al0},
	                         {.kind = STORE_PUT, .table = "allocations", .row = al1}};
	if (store_write(a.store, ops, 4, err, sizeof(err)))
		fail_msg("write: %s", err);
	int64_t id;
	struct exp_task_spec s = {LIFECYCLE_TASK_TENSORBOARD, 1234, 0, "", NULL};
	assert_int_equal(exp_task_create(&a, &s, &id, err, sizeof(err)), EXP_OK);

	json_t *trials = store_task_list(a.store, "trial", err, sizeof(err));
	if (!trials)
		fail_msg("list: %s", err);
	assert_int_equal(json_array_size(trials), 2);
	json_t *t0 = json_array_get(trials, 0), *t1 = json_array_get(trials, 1);
	assert_string_equal(json_string_value(json_object_get(t0, "task_id")), "trial-7-0");
	assert_string_equal(json_string_value(json_object_get(t0, "state")), "RUNNING");
	assert_string_equal(json_string_value(json_object_get(t1, "state")), "TERMINATED");
	assert_int_equal(json_integer_value(json_object_get(t0, "owner_uid")), 1234);
	assert_int_equal(json_integer_value(json_object_get(t0, "slots")), 2);
	assert_string_equal(json_string_value(json_object_get(t0, "pool")), "p");
	json_t *all = store_task_list(a.store, NULL, err, sizeof(err));
	assert_int_equal(json_array_size(all), 3);
	/* The allocations table itself still loads as before. */
	json_t *allocs = store_load_table(a.store, "allocations", err, sizeof(err));
	assert_int_equal(json_array_size(allocs), 2);
	json_decref(allocs);
	json_decref(all);
	json_decref(trials);
	for (size_t i = 0; i < 4; i++)
		json_decref(ops[i].row);
	app_down(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_schema_has_tasks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_and_walk_every_kind, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_events_change_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_requeue_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_input_writes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trial_allocations_are_tasks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
