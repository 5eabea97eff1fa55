/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Trial and allocation records of the master's memory, and the index of
 * trials by id and token.
 *
 * Main structures: struct exp_trial (a trials row in fixed fields, about
 * 400 bytes with its hparams) and struct exp_alloc; struct exp_trial_index,
 * an array by trial id (ids are dense, handed out one after the other) plus
 * a chained hash table by token.
 *
 * Non-obvious: hparams stay the compact JSON text they were stored as; they
 * are only parsed for a view or a claim answer, so a trial costs one string
 * instead of a JSON tree (the tree cost about 2 KB per trial).
 */
#include "exp_trial.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exp.h"

static const char *const alloc_state_names[] = {"PENDING", "RUNNING", "ENDED"};

const char *exp_alloc_state_name(enum exp_alloc_state s)
{
	return (unsigned)s < 3 ? alloc_state_names[s] : "PENDING";
}

static json_t *str_or_null(const char *s)
{
	return *s ? json_string(s) : json_null();
}

/* The row's fields; hp is the hparams value to put (reference stolen). */
static json_t *trial_fields(const struct exp_trial *t, json_t *hp)
{
	json_t *row = json_object();
	if (!row || !hp) {
		json_decref(row);
		json_decref(hp);
		return NULL;
	}
	int bad = 0;
	bad |= json_object_set_new(row, "id", json_integer(t->id));
	bad |= json_object_set_new(row, "experiment_id", json_integer(t->exp ? t->exp->id : 0));
	bad |= json_object_set_new(row, "trial_index", json_integer(t->trial_index));
	bad |= json_object_set_new(row, "array_task", json_integer(t->array_task));
	bad |= json_object_set_new(row, "state", json_string(fsm_state_name(t->state)));
	bad |= json_object_set_new(row, "hparams", hp);
	bad |= json_object_set_new(row, "seed", json_integer(t->seed));
	bad |= json_object_set_new(row, "restarts", json_integer(t->restarts));
	bad |= json_object_set_new(row, "steps_completed", json_integer(t->steps_completed));
	bad |= json_object_set_new(row, "best_metric",
	                           t->has_best ? json_real(t->best_metric) : json_null());
	bad |= json_object_set_new(row, "latest_checkpoint", str_or_null(t->latest_checkpoint));
	bad |= json_object_set_new(row, "progress", json_real(t->progress));
	bad |= json_object_set_new(row, "end_reason", str_or_null(t->end_reason));
	bad |= json_object_set_new(row, "exit_code",
	                           t->has_exit_code ? json_integer(t->exit_code) : json_null());
	bad |= json_object_set_new(row, "preempted", json_integer(t->preempted));
	bad |= json_object_set_new(row, "created_at", json_real(t->created_at));
	bad |= json_object_set_new(row, "ended_at",
	                           t->ended_at > 0 ? json_real(t->ended_at) : json_null());
	if (bad) {
		json_decref(row);
		return NULL;
	}
	return row;
}

json_t *exp_trial_row(const struct exp_trial *t)
{
	/* A JSON string is written as the column's text: the stored JSON. */
	return trial_fields(t, json_string(t->hparams ? t->hparams : "{}"));
}

json_t *exp_trial_view(const struct exp_trial *t)
{
	json_t *hp = json_loads(t->hparams ? t->hparams : "{}", 0, NULL);
	json_t *v = trial_fields(t, hp);
	if (v)
		json_object_set_new(v, "preempted", json_boolean(t->preempted));
	return v;
}

static int64_t iget(json_t *row, const char *k)
{
	json_t *v = json_object_get(row, k);
	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static int copy_text(char *dst, size_t cap, json_t *v, const char *what, char *err, size_t errlen)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	if (strlen(s) >= cap) {
		snprintf(err, errlen, "%s: %zu bytes, at most %zu", what, strlen(s), cap - 1);
		return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

int exp_trial_from_row(json_t *row, struct exp_trial *t, char *err, size_t errlen)
{
	json_t *v;
	int st = fsm_state_parse(json_string_value(json_object_get(row, "state")));

	t->id = iget(row, "id");
	t->trial_index = (int)iget(row, "trial_index");
	t->array_task = (int)iget(row, "array_task");
	t->state = st < 0 ? FSM_ERROR : (enum fsm_state)st;
	t->seed = iget(row, "seed");
	t->restarts = iget(row, "restarts");
	t->steps_completed = iget(row, "steps_completed");
	v = json_object_get(row, "best_metric");
	t->has_best = json_is_number(v);
	t->best_metric = t->has_best ? json_number_value(v) : 0;
	t->progress = json_number_value(json_object_get(row, "progress"));
	v = json_object_get(row, "exit_code");
	t->has_exit_code = json_is_integer(v);
	t->exit_code = t->has_exit_code ? (int)json_integer_value(v) : 0;
	v = json_object_get(row, "preempted");
	t->preempted = json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
	t->created_at = json_number_value(json_object_get(row, "created_at"));
	t->ended_at = json_number_value(json_object_get(row, "ended_at"));
	if (copy_text(t->latest_checkpoint, sizeof(t->latest_checkpoint),
	              json_object_get(row, "latest_checkpoint"), "latest_checkpoint", err,
	              errlen) ||
	    copy_text(t->end_reason, sizeof(t->end_reason), json_object_get(row, "end_reason"),
	              "end_reason", err, errlen))
		return -1;
	v = json_object_get(row, "hparams");
	t->hparams = json_is_string(v) ? strdup(json_string_value(v))
	                               : json_dumps(v ? v : json_object(), JSON_COMPACT);
	if (!t->hparams) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void exp_trial_free(struct exp_trial *t)
{
	if (!t)
		return;
	free(t->hparams);
	free(t);
}

json_t *exp_alloc_row(int64_t experiment_id, int task, const struct exp_alloc *al)
{
	return json_pack("{s:I, s:i, s:o, s:o, s:s, s:o, s:I, s:I, s:I}", "experiment_id",
	                 (json_int_t)experiment_id, "array_task", task, "trial_index",
	                 al->trial_index >= 0 ? json_integer(al->trial_index) : json_null(),
	                 "next_index",
	                 al->next_index >= 0 ? json_integer(al->next_index) : json_null(), "state",
	                 exp_alloc_state_name(al->state), "exit_status",
	                 al->has_exit_status ? json_integer(al->exit_status) : json_null(),
	                 "failures", (json_int_t)al->failures, "pid", (json_int_t)al->pid,
	                 "pid_start", (json_int_t)al->pid_start);
}

void exp_alloc_from_row(json_t *row, struct exp_alloc *al)
{
	const char *s = json_string_value(json_object_get(row, "state"));
	json_t *v;

	memset(al, 0, sizeof(*al));
	al->present = 1;
	v = json_object_get(row, "trial_index");
	al->trial_index = json_is_integer(v) ? (int)json_integer_value(v) : -1;
	v = json_object_get(row, "next_index");
	al->next_index = json_is_integer(v) ? (int)json_integer_value(v) : -1;
	al->state = EXP_ALLOC_PENDING;
	for (int i = 0; s && i < 3; i++)
		if (!strcmp(s, alloc_state_names[i]))
			al->state = (enum exp_alloc_state)i;
	v = json_object_get(row, "exit_status");
	al->has_exit_status = json_is_integer(v);
	al->exit_status = al->has_exit_status ? (int)json_integer_value(v) : 0;
	al->failures = iget(row, "failures");
	al->pid = iget(row, "pid");
	al->pid_start = iget(row, "pid_start");
}

/* ---- index -------------------------------------------------------------- */

static size_t token_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int buckets_grow(struct exp_trial_index *ix)
{
	size_t n = ix->nbuckets ? ix->nbuckets * 2 : 1024;
	struct exp_trial **b = calloc(n, sizeof(*b));
	if (!b)
		return -1;
	for (size_t i = 0; i < ix->nbuckets; i++) {
		struct exp_trial *t = ix->buckets[i], *next;
		for (; t; t = next) {
			next = t->token_next;
			size_t h = token_hash(t->token) & (n - 1);
			t->token_next = b[h];
			b[h] = t;
		}
	}
	free(ix->buckets);
	ix->buckets = b;
	ix->nbuckets = n;
	return 0;
}

int exp_index_add(struct exp_trial_index *ix, struct exp_trial *t)
{
	if (t->id <= 0)
		return -1;
	if ((size_t)t->id >= ix->id_cap) {
		size_t n = ix->id_cap ? ix->id_cap : 1024;
		while (n <= (size_t)t->id)
			n *= 2;
		struct exp_trial **p = realloc(ix->by_id, n * sizeof(*p));
		if (!p)
			return -1;
		memset(p + ix->id_cap, 0, (n - ix->id_cap) * sizeof(*p));
		ix->by_id = p;
		ix->id_cap = n;
	}
	if (t->token[0]) {
		if (ix->ntokens >= ix->nbuckets && buckets_grow(ix))
			return -1;
		size_t h = token_hash(t->token) & (ix->nbuckets - 1);
		t->token_next = ix->buckets[h];
		ix->buckets[h] = t;
		ix->ntokens++;
	}
	ix->by_id[t->id] = t;
	return 0;
}

void exp_index_remove(struct exp_trial_index *ix, struct exp_trial *t)
{
	if (t->id > 0 && (size_t)t->id < ix->id_cap && ix->by_id[t->id] == t)
		ix->by_id[t->id] = NULL;
	if (!t->token[0] || !ix->nbuckets)
		return;
	struct exp_trial **pp = &ix->buckets[token_hash(t->token) & (ix->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->token_next) {
		if (*pp == t) {
			*pp = t->token_next;
			t->token_next = NULL;
			ix->ntokens--;
			return;
		}
	}
}

struct exp_trial *exp_index_by_id(const struct exp_trial_index *ix, int64_t id)
{
	return id > 0 && (size_t)id < ix->id_cap ? ix->by_id[id] : NULL;
}

struct exp_trial *exp_index_by_token(const struct exp_trial_index *ix, const char *token)
{
	if (!ix->nbuckets)
		return NULL;
	struct exp_trial *t = ix->buckets[token_hash(token) & (ix->nbuckets - 1)];
	for (; t; t = t->token_next)
		if (!strcmp(t->token, token))
			return t;
	return NULL;
}

void exp_index_free(struct exp_trial_index *ix)
{
	free(ix->by_id);
	free(ix->buckets);
	memset(ix, 0, sizeof(*ix));
}
