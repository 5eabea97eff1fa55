/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The in-memory records of trials and array-task allocations (fixed C
 * fields, not JSON trees: a master holds tens of thousands of them), their
 * conversion to and from store rows, and the master-wide index of trials by
 * id and by trial token.
 */
#ifndef DET_EXP_TRIAL_H
#define DET_EXP_TRIAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "fsm.h"

#define EXP_TRIAL_CKPT_MAX 65    /* checkpoint uuid bytes (API: at most 64), NUL included */
#define EXP_TRIAL_REASON_MAX 256 /* end reason bytes, NUL included */

struct exp_rt;

/* One trial: a trials row. A working copy is a plain struct copy; hparams is
 * owned by the record in the experiment's table and never changes. */
struct exp_trial {
	int64_t id;
	struct exp_rt *exp;
	int trial_index, array_task;
	enum fsm_state state;
	int has_best, has_exit_code, preempted;
	int exit_code;
	int64_t seed, restarts, steps_completed;
	double best_metric, progress, created_at;
	double ended_at;                            /* 0 = not ended */
	char *hparams;                              /* compact JSON text */
	char latest_checkpoint[EXP_TRIAL_CKPT_MAX]; /* "" = none */
	char end_reason[EXP_TRIAL_REASON_MAX];      /* "" = none */
	char token[AUTH_TOKEN_CHARS + 1];           /* SHA-256 hex of its token, "" = none */
	char secret[AUTH_TOKEN_CHARS + 1];          /* the token, in memory only; "" = unknown */
	struct exp_trial *token_next;               /* chain of the token index */
};

enum exp_alloc_state { EXP_ALLOC_PENDING, EXP_ALLOC_RUNNING, EXP_ALLOC_ENDED };

/* One array task's allocation: an allocations row. */
struct exp_alloc {
	int present;     /* a row exists */
	int trial_index; /* the task's current trial, -1 = none */
	int next_index;  /* replacement owed to the task, -1 = none */
	enum exp_alloc_state state;
	int has_exit_status, exit_status;
	int64_t failures, pid;
	int64_t pid_start; /* the pid's start time (/proc/PID/stat field 22), 0 unknown */
};

/* Trials of the whole master by id and by token (lock held). */
struct exp_trial_index {
	struct exp_trial **by_id; /* slot = trial id */
	size_t id_cap;
	struct exp_trial **buckets; /* token hash chains */
	size_t nbuckets, ntokens;
};

/* A trials row (new reference) for the store; NULL when out of memory. */
json_t *exp_trial_row(const struct exp_trial *t);

/* The API's view of a trial (hparams parsed, preempted a boolean); new reference. */
json_t *exp_trial_view(const struct exp_trial *t);

/* Fill t from a loaded trials row (t->exp and t->token untouched). 0 or -1 with err. */
int exp_trial_from_row(json_t *row, struct exp_trial *t, char *err, size_t errlen);

/* Free a trial record with its hparams (NULL is fine). */
void exp_trial_free(struct exp_trial *t);

/* An allocations row (new reference) for the store. */
json_t *exp_alloc_row(int64_t experiment_id, int task, const struct exp_alloc *al);

/* Fill al from a loaded allocations row. */
void exp_alloc_from_row(json_t *row, struct exp_alloc *al);

/* Name of an allocation state ("PENDING", "RUNNING", "ENDED"). */
const char *exp_alloc_state_name(enum exp_alloc_state s);

/* Add t under its id (and its token when set). 0 or -1 when out of memory. */
int exp_index_add(struct exp_trial_index *ix, struct exp_trial *t);

/* Remove t from the index. */
void exp_index_remove(struct exp_trial_index *ix, struct exp_trial *t);

/* The trial of an id or of a token; NULL when unknown. */
struct exp_trial *exp_index_by_id(const struct exp_trial_index *ix, int64_t id);
struct exp_trial *exp_index_by_token(const struct exp_trial_index *ix, const char *token);

/* Free the index's tables (not the trials). */
void exp_index_free(struct exp_trial_index *ix);

#endif
