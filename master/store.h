/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The master's database (SQLite, WAL). Writes are batches of operations
 * applied by one writer thread in one transaction each; a call returns only
 * after its batch committed. Reads use their own connections. Rows travel as
 * JSON objects whose keys are column names.
 */
#ifndef DET_STORE_H
#define DET_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct store;

enum store_op_kind {
	STORE_PUT,    /* upsert row into table by primary key */
	STORE_INSERT, /* insert row; id_out gets the new rowid */
	STORE_DELETE, /* delete from table where row's keys match */
	STORE_UPDATE, /* update the row's non-key columns where its key columns match */
};

/* One operation of a write. */
struct store_op {
	enum store_op_kind kind;
	const char *table; /* one of the schema's tables */
	json_t *row;       /* borrowed; objects/arrays are stored as JSON text */
	const void *blob;  /* optional BLOB column value */
	size_t blob_len;
	const char *blob_col;
	int64_t id_out; /* STORE_INSERT: new rowid */
};

/* Start of the error of a write that failed because the database cannot be
 * written now (disk full, I/O error, read-only): nothing was written, and the
 * same write may succeed later. HTTP answers it with 503. */
#define STORE_ERR_UNAVAILABLE "database unavailable"

/* Open (creating and migrating) the database at path. NULL with err. */
struct store *store_open(const char *path, char *err, size_t errlen);

/* Copy the database at path to dest, a new file (never overwritten), with
 * SQLite's online backup API: consistent while a master writes to path. The
 * copy must pass PRAGMA quick_check. 0, or -1 with err (dest removed). */
int store_backup(const char *path, const char *dest, char *err, size_t errlen);

/* Finish queued writes, stop the writer, close (NULL is fine). */
void store_close(struct store *st);

/* Apply ops atomically (all or none); returns after commit. 0 or -1 with err. */
int store_write(struct store *st, struct store_op *ops, size_t n, char *err, size_t errlen);

/* Called on the writer thread after an async write's commit: rv 0, or -1 with err.
 * It must be quick (it delays the next commit) and not call back into the store. */
typedef void (*store_done_fn)(void *arg, int rv, const char *err);

/* Queue ops and return at once; done(arg, ...) runs after their commit. ops and
 * their rows must live until then. 0, or -1 with err (then done never runs). */
int store_write_async(struct store *st, struct store_op *ops, size_t n, store_done_fn done,
                      void *arg, char *err, size_t errlen);

/* Schema version after migrations. */
int store_schema_version(struct store *st);

/* Every row of a table ("users", "tokens", "experiments" without model_def,
 * "trials", "allocations", "workspaces", "projects", "workspace_roles",
 * "templates", "models", "model_versions") as
 * a JSON array (new reference), or NULL with err. */
json_t *store_load_table(struct store *st, const char *table, char *err, size_t errlen);

/* Metrics of a trial (group NULL = all) after row id after_id, at most limit rows. */
json_t *store_metrics(struct store *st, int64_t trial_id, const char *group, int64_t after_id,
                      int limit, char *err, size_t errlen);

/* One metric row for store_metrics_each: its group, steps_completed,
 * created_at and body (JSON text of len bytes, valid only during the call);
 * 0 to go on, 1 to stop after this row, -1 to fail with err. */
typedef int (*store_metric_fn)(void *arg, const char *group, int64_t steps, double created_at,
                               const char *body, size_t len, char *err, size_t errlen);

/* The metrics of a trial (group NULL = all) after row id after_id, in id
 * order, passed to fn one at a time in one read (no JSON rows built) until
 * fn stops or the rows end; *last_id is the id of the last row passed
 * (after_id when none). 0, or -1 with err. */
int store_metrics_each(struct store *st, int64_t trial_id, const char *group, int64_t after_id,
                       store_metric_fn fn, void *arg, int64_t *last_id, char *err, size_t errlen);

/* Log lines of a trial with id > after_id, at most limit. */
json_t *store_logs(struct store *st, int64_t trial_id, int64_t after_id, int limit, char *err,
                   size_t errlen);

/* The last limit log lines of a trial with id < before_id, in id order. */
json_t *store_logs_before(struct store *st, int64_t trial_id, int64_t before_id, int limit,
                          char *err, size_t errlen);

/* Checkpoints of an experiment (trial_id 0) or of one trial. */
json_t *store_checkpoints(struct store *st, int64_t experiment_id, int64_t trial_id, char *err,
                          size_t errlen);

/* Checkpoints of an experiment, each with "metrics": the validation metrics its trial
 * reported at its steps_completed (the last such report; null when none). */
json_t *store_checkpoints_metrics(struct store *st, int64_t experiment_id, char *err,
                                  size_t errlen);

/* One checkpoint by uuid (new reference), NULL when absent (err empty) or on error. */
json_t *store_checkpoint(struct store *st, const char *uuid, char *err, size_t errlen);

/* The model definition of an experiment (malloc'd) in *data; 0, or -1 (err empty: none). */
int store_model_def(struct store *st, int64_t experiment_id, void **data, size_t *len, char *err,
                    size_t errlen);

/* Writes that failed since the store was opened (any reason). */
uint64_t store_write_failures(struct store *st);

/* Commit statistics: batches, operations, total commit seconds. */
void store_stats(struct store *st, uint64_t *batches, uint64_t *ops, double *commit_seconds);

/* A row of the tasks table (migration 5): resources held for a trial, command,
 * notebook, shell or TensorBoard. Strings are as stored; 0 times are "not yet". */
struct store_task {
	int64_t id;
	char kind[16]; /* "trial", "command", "notebook", "shell", "tensorboard" */
	int64_t owner_uid;
	int64_t slots;
	char pool[128];
	char state[16]; /* "QUEUED", "STARTING", "RUNNING", "TERMINATED" */
	int has_exit_status;
	int exit_status;
	char end_reason[256];
	double created_at, started_at, ended_at;
	char description[1025]; /* the user's text (migration 8); "" = none */
	int64_t pid, pid_start; /* a command's process (local manager); 0 = none or unknown */
	char job_id[160];       /* the resource manager's id for it (submit_array's); "" none */
};

/* Insert t (its id is ignored); *id gets the new row's. 0, or -1 with err (a kind,
 * state or uid the schema refuses included). */
int store_task_insert(struct store *st, const struct store_task *t, int64_t *id, char *err,
                      size_t errlen);

/* Read task id into *t: 1, 0 when there is none, -1 with err. */
int store_task_get(struct store *st, int64_t id, struct store_task *t, char *err, size_t errlen);

/* Write t's state, exit status, end reason, times and pid (by t->id). 0, or -1 with err. */
int store_task_update(struct store *st, const struct store_task *t, char *err, size_t errlen);

/* Tasks and trial allocations (kind 'trial', task_id "trial-E-I") of one kind (NULL:
 * all) as a JSON array of rows (new reference), or NULL with err. */
json_t *store_task_list(struct store *st, const char *kind, char *err, size_t errlen);

#endif
