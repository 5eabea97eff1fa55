/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the store_*.c files only: the store's innards. */
#ifndef DET_STORE_INTERNAL_H
#define DET_STORE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>

#include "store.h"

#define STORE_MAX_READERS 32
#define STORE_STMT_CACHE 64

struct write_job;

struct store {
	char *path;
	sqlite3 *wdb; /* the writer's connection: only the writer thread uses it */
	int version;
	pthread_mutex_t lock;
	pthread_cond_t queue_cond, done_cond; /* done_cond: wakes the checkpointer to stop */
	struct write_job *queue_head, *queue_tail;
	int stopping;
	pthread_t writer;
	int writer_started;
	sqlite3 *cdb; /* the checkpoint thread's connection */
	pthread_t checkpointer;
	int checkpointer_started;
	uint64_t batches, ops_total;
	uint64_t write_failures; /* jobs that failed, for the engine's retries */
	double commit_seconds;
	pthread_mutex_t readers_lock;
	sqlite3 *readers[STORE_MAX_READERS];
	size_t nreaders;
	struct {
		char *sql;
		sqlite3_stmt *stmt;
	} cache[STORE_STMT_CACHE]; /* writer-side prepared statements */
	size_t ncache;
};

/* Open one connection (readonly for readers). NULL with err. */
sqlite3 *store_connect(const char *path, int readonly, char *err, size_t errlen);

/* Apply ops on the writer connection inside the current transaction. */
int store_apply_ops(struct store *st, struct store_op *ops, size_t n, char *err, size_t errlen);

/* Free the writer's statement cache. */
void store_stmt_cache_free(struct store *st);

/* Borrow / return a read connection. */
sqlite3 *store_reader_get(struct store *st, char *err, size_t errlen);
void store_reader_put(struct store *st, sqlite3 *db);

/* Prepare sql (one parameter: id) on db into *q and step it: 1 at the row, 0 when there
 * is none, -1 with err. The caller finalizes *q, also on failure. */
int store_step_id(sqlite3 *db, const char *sql, int64_t id, sqlite3_stmt **q, char *err,
                  size_t errlen);

/* The current row of a stepped statement as a JSON object. */
json_t *store_row_json(sqlite3_stmt *q);

#endif
