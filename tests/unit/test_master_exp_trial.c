/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The master's trial and allocation records: store rows both ways, API view,
 * and the index by trial id and token (with growth and removal). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "master/app.h"
#include "master/exp_trial.h"

static void test_trial_row_round_trip(void **state)
{
	struct exp_rt e = {.id = 7};
	struct exp_trial t = {.id = 42,
	                      .exp = &e,
	                      .trial_index = 3,
	                      .array_task = 1,
	                      .state = FSM_COMPLETED,
	                      .has_best = 1,
	                      .best_metric = 0.25,
	                      .has_exit_code = 1,
	                      .exit_code = 137,
	                      .preempted = 1,
	                      .seed = 99,
	                      .restarts = 2,
	                      .steps_completed = 1000,
	                      .progress = 0.5,
	                      .created_at = 1.5,
	                      .ended_at = 2.5,
	                      .hparams = "{\"lr\":0.1,\"layers\":[1,2]}"};
	char err[128];
	snprintf(t.latest_checkpoint, sizeof(t.latest_checkpoint), "abc-123");
	snprintf(t.end_reason, sizeof(t.end_reason), "ERRORED");

	json_t *row = exp_trial_row(&t);
	assert_non_null(row);
	assert_int_equal(json_integer_value(json_object_get(row, "experiment_id")), 7);
	assert_string_equal(json_string_value(json_object_get(row, "state")), "COMPLETED");
	/* hparams go to the store as their JSON text */
	assert_string_equal(json_string_value(json_object_get(row, "hparams")), t.hparams);

	struct exp_trial back = {0};
	assert_int_equal(exp_trial_from_row(row, &back, err, sizeof(err)), 0);
	assert_int_equal(back.id, 42);
	assert_int_equal(back.trial_index, 3);
	assert_int_equal(back.array_task, 1);
	assert_int_equal(back.state, FSM_COMPLETED);
	assert_true(back.has_best);
	assert_true(back.best_metric == 0.25);
	assert_true(back.has_exit_code);
	assert_int_equal(back.exit_code, 137);
	assert_int_equal(back.preempted, 1);
	assert_int_equal(back.seed, 99);
	assert_int_equal(back.restarts, 2);
	assert_int_equal(back.steps_completed, 1000);
	assert_true(back.ended_at == 2.5);
	assert_string_equal(back.latest_checkpoint, "abc-123");
	assert_string_equal(back.end_reason, "ERRORED");
	assert_string_equal(back.hparams, t.hparams);
	free(back.hparams);
	json_decref(row);

	/* A row as loaded from the database: hparams parsed, NULL columns. */
	row = json_pack("{s:I, s:i, s:i, s:s, s:{s:f}, s:n, s:n, s:n, s:i}", "id", 5, "trial_index",
	                0, "array_task", 0, "state", "ACTIVE", "hparams", "lr", 0.5, "best_metric",
	                "latest_checkpoint", "exit_code", "preempted", 0);
	memset(&back, 0, sizeof(back));
	assert_int_equal(exp_trial_from_row(row, &back, err, sizeof(err)), 0);
	assert_false(back.has_best);
	assert_false(back.has_exit_code);
	assert_string_equal(back.latest_checkpoint, "");
	assert_string_equal(back.hparams, "{\"lr\":0.5}");
	back.exp = &e;
	json_t *v = exp_trial_view(&back);
	assert_true(json_is_object(json_object_get(v, "hparams")));
	assert_true(json_is_null(json_object_get(v, "latest_checkpoint")));
	assert_true(json_is_null(json_object_get(v, "best_metric")));
	assert_true(json_is_false(json_object_get(v, "preempted")));
	json_decref(v);
	free(back.hparams);
	json_decref(row);
}

static void test_trial_row_refuses_oversized_text(void **state)
{
	char big[200], err[128];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	json_t *row = json_pack("{s:I, s:s, s:s, s:{}}", "id", 1, "state", "ACTIVE",
	                        "latest_checkpoint", big, "hparams");
	struct exp_trial t = {0};
	assert_int_equal(exp_trial_from_row(row, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "latest_checkpoint"));
	free(t.hparams);
	json_decref(row);
}

static void test_alloc_row_round_trip(void **state)
{
	struct exp_alloc al = {.present = 1,
	                       .trial_index = 4,
	                       .next_index = -1,
	                       .state = EXP_ALLOC_ENDED,
	                       .has_exit_status = 1,
	                       .exit_status = 256,
	                       .failures = 2,
	                       .pid = 0};
	json_t *row = exp_alloc_row(9, 3, &al);
	assert_non_null(row);
	assert_int_equal(json_integer_value(json_object_get(row, "array_task")), 3);
	assert_true(json_is_null(json_object_get(row, "next_index")));
	assert_string_equal(json_string_value(json_object_get(row, "state")), "ENDED");
	struct exp_alloc back;
	exp_alloc_from_row(row, &back);
	assert_memory_equal(&back, &al, sizeof(al));
	json_decref(row);
}

static void test_index_by_id_and_token(void **state)
{
	enum { N = 3000 }; /* past the first table sizes: both grow */
	struct exp_trial_index ix = {0};
	struct exp_trial *t = calloc(N, sizeof(*t));
	assert_non_null(t);
	for (int i = 0; i < N; i++) {
		t[i].id = i + 1;
		if (i % 3)
			snprintf(t[i].token, sizeof(t[i].token), "%064x", i * 7919);
		assert_int_equal(exp_index_add(&ix, &t[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		assert_ptr_equal(exp_index_by_id(&ix, i + 1), &t[i]);
		if (t[i].token[0])
			assert_ptr_equal(exp_index_by_token(&ix, t[i].token), &t[i]);
	}
	assert_null(exp_index_by_id(&ix, 0));
	assert_null(exp_index_by_id(&ix, N + 1));
	assert_null(exp_index_by_id(&ix, 1 << 30));
	assert_null(exp_index_by_token(&ix, "nope"));
	for (int i = 0; i < N; i += 2)
		exp_index_remove(&ix, &t[i]);
	for (int i = 0; i < N; i++) {
		struct exp_trial *want = i % 2 ? &t[i] : NULL;
		assert_ptr_equal(exp_index_by_id(&ix, i + 1), want);
		if (t[i].token[0])
			assert_ptr_equal(exp_index_by_token(&ix, t[i].token), want);
	}
	exp_index_free(&ix);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trial_row_round_trip),
	    cmocka_unit_test(test_trial_row_refuses_oversized_text),
	    cmocka_unit_test(test_alloc_row_round_trip),
	    cmocka_unit_test(test_index_by_id_and_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
