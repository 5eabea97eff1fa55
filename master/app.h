/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running master: configuration, store, HTTP server, resource manager
 * and the in-memory view of users, tokens, experiments and trials (the
 * database is written through; memory changes only after a commit).
 *
 * Lock order: app.lock first; under it only locks that are never held across
 * slow work may be taken (the store's, the resource manager's internal locks,
 * the checkpoint GC queue's, stats_lock). Nothing slow runs with app.lock
 * held: no slurmctld call (the resource manager queues cancel/hold/release/
 * requeue, and submissions run after unlocking), no file deletion (the
 * checkpoint GC worker), no sleep. An engine entry point locks, decides,
 * commits once, unlocks, performs the slow effect, then locks again to record
 * its result, finding the experiment again by id (it may have changed).
 */
#ifndef DET_MASTER_APP_H
#define DET_MASTER_APP_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>

#include "master_config.h"
#include "http_server.h"
#include "log.h"
#include "exp_trial.h"
#include "rm.h"
#include "store.h"

struct searcher;
struct tboard;
struct limits;
struct ckpt_gc_worker;

/* One experiment in memory. */
struct exp_rt {
	/* id, next and the list's filter and sort keys come first, in one or two
	 * cache lines: a list of 100,000 walks them all (api_exp_list). */
	int64_t id;
	struct exp_rt *next;
	json_t *row;          /* experiments row without model_def */
	enum fsm_state state; /* row's "state", typed (exp_swap_row keeps them equal) */
	int archived;         /* row's "archived" (true or non-zero); exp_set_archived too */
	int64_t owner_id;     /* row's "owner_id", typed (exp_swap_row) */
	int64_t project_id;   /* row's "project_id", typed (exp_swap_row, a move) */
	/* The list's sort keys, typed (exp_type_row): name points into row (NULL when
	 * not a string); times and progress are 0 when null. */
	const char *name;
	double created_at, ended_at, progress;
	/* What search looks in besides name and state, borrowed from row: its
	 * config's description (NULL: none) and its "labels" (api_exp_set too). */
	const char *description;
	json_t *labels;
	int64_t num_tasks;         /* row's "num_tasks": tasks in its array (trials planned) */
	int64_t max_restarts;      /* its config's max_restarts */
	struct searcher *searcher; /* NULL once the experiment is over */
	struct exp_trial **trials; /* by trial index; NULL = not claimed */
	int trials_cap;            /* slots in trials */
	struct exp_alloc *allocs;  /* by array task, num_tasks of them */
	int nallocs;
	char rm_job[160]; /* resource manager's array id; "" = none */
	/* The array's allocation token, in memory only (the store has its hash); "" = none. */
	char alloc_token[80];
	int submitting; /* the array is being handed to the manager, without the lock */
};

#define APP_MAX_GROUPS 64

enum principal_kind { PRINCIPAL_USER, PRINCIPAL_ALLOCATION, PRINCIPAL_TRIAL };

/* Who is calling. */
struct principal {
	enum principal_kind kind;
	int64_t user_id;
	long uid; /* the Unix uid the user is bound to; -1 none (a password user) */
	char name[64];
	int admin;
	int64_t experiment_id; /* allocation and trial tokens */
	int64_t trial_id;      /* trial tokens */
	char token[80];        /* bearer token used, "" on the Unix socket */
	int ngroups;           /* Unix groups of uid (getgrouplist), for workspace roles */
	unsigned int groups[APP_MAX_GROUPS];
};

#define APP_NROUTES 128
#define APP_NBUCKETS 12

struct app {
	struct master_config *cfg;
	struct log_sink log;
	struct store *store;
	struct http_server *http;
	struct rm *rm;
	struct tboard *tboard; /* TensorBoard event writer; NULL = off */
	/* Request and login rate limits (NULL = none); the hash an unknown
	 * user's password is checked against, so it costs a real hash. */
	struct limits *limits;
	char login_dummy_hash[256];
	/* Removes the directories of GC'd checkpoints; NULL = inline. */
	struct ckpt_gc_worker *ckpt_gc;
	char master_url[512];
	double started_at;
	pthread_mutex_t lock;            /* guards everything below */
	json_t *users;                   /* name -> users row */
	json_t *tokens;                  /* token -> tokens row (users and allocations) */
	json_t *workspaces;              /* id (decimal text) -> workspaces row */
	json_t *projects;                /* id (decimal text) -> projects row */
	json_t *workspace_roles;         /* id (decimal text) -> workspace_roles row */
	json_t *templates;               /* name -> templates row */
	json_t *models;                  /* name -> models row */
	json_t *model_versions;          /* array of model_versions rows */
	struct exp_trial_index trial_ix; /* trials by id and by trial token */
	struct exp_rt *exps;
	/* a->exps as an array for the experiment list (api_exp_list rebuilds it when
	 * NULL or stale): set exps_vec_stale wherever an experiment joins or leaves. */
	struct exp_rt **exps_vec;
	size_t exps_vec_n;
	int exps_vec_stale;
	int64_t next_trial_id, next_exp_id;
	int stopping;
	pthread_t ticker;
	int ticker_started;
	pthread_mutex_t stats_lock;           /* request statistics for /metrics */
	uint64_t route_count[APP_NROUTES][6]; /* by status class 1xx..5xx, [0] other */
	uint64_t route_hist[APP_NROUTES][APP_NBUCKETS + 1];
	double route_sum[APP_NROUTES];
};

/* Start everything: state dir, store, users, resource manager; with serve,
 * also the HTTP listeners, experiments' arrays and the scheduler. 0 or -1
 * with err; app_close() is needed either way. */
int app_open(struct app *a, struct master_config *cfg, int serve, char *err, size_t errlen);

/* Stop and free everything app_open() started (in reverse order). */
void app_close(struct app *a);

/* Wall clock in seconds. */
double app_now(void);

#endif
