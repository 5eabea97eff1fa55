/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tasks table as typed rows (struct store_task). Writes go through the
 * writer thread like every other write (store_write); reads use a reader
 * connection with fixed SQL. The schema's CHECK constraints are the last
 * word on kinds, states and uids: a row they refuse is not written.
 */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

/* The columns a write sets, as a JSON row (new reference; NULL when out of memory). */
static json_t *task_row(const struct store_task *t, int with_id)
{
	json_t *row = json_pack("{s:s, s:s?, s:s, s:f}", "state", t->state, "end_reason",
	                        t->end_reason[0] ? t->end_reason : NULL, "pool", t->pool,
	                        "created_at", t->created_at);
	if (!row)
		return NULL;
	int bad = json_object_set_new(
	    row, "exit_status", t->has_exit_status ? json_integer(t->exit_status) : json_null());
	bad |= json_object_set_new(row, "started_at",
	                           t->started_at > 0 ? json_real(t->started_at) : json_null());
	bad |= json_object_set_new(row, "ended_at",
	                           t->ended_at > 0 ? json_real(t->ended_at) : json_null());
	bad |= json_object_set_new(row, "pid", t->pid > 0 ? json_integer(t->pid) : json_null());
	bad |= json_object_set_new(row, "pid_start",
	                           t->pid_start > 0 ? json_integer(t->pid_start) : json_null());
	bad |= json_object_set_new(row, "job_id", json_string(t->job_id));
	if (with_id)
		bad |= json_object_set_new(row, "id", json_integer(t->id));
	if (bad) {
		json_decref(row);
		return NULL;
	}
	return row;
}

/* Write row (consumed; NULL when it could not be made) to tasks as kind; an insert's new
 * id into *id. 0, or -1 with err. */
static int write_row(struct store *st, enum store_op_kind kind, json_t *row, int64_t *id, char *err,
                     size_t errlen)
{
	int rv = -1;

	if (!row) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	struct store_op op = {.kind = kind, .table = "tasks", .row = row};
	if (store_write(st, &op, 1, err, errlen))
		goto fail;
	if (id)
		*id = op.id_out;
	rv = 0;
fail:
	json_decref(row);
	return rv;
}

int store_task_insert(struct store *st, const struct store_task *t, int64_t *id, char *err,
                      size_t errlen)
{
	json_t *row = task_row(t, 0);

	if (row && (json_object_set_new(row, "kind", json_string(t->kind)) ||
	            json_object_set_new(row, "owner_uid", json_integer(t->owner_uid)) ||
	            json_object_set_new(row, "slots", json_integer(t->slots)) ||
	            json_object_set_new(row, "description", json_string(t->description)))) {
		json_decref(row);
		row = NULL;
	}
	return write_row(st, STORE_INSERT, row, id, err, errlen);
}

int store_task_update(struct store *st, const struct store_task *t, char *err, size_t errlen)
{
	json_t *row = task_row(t, 1);

	/* what a task's row keeps from its creation */
	json_object_del(row, "created_at");
	json_object_del(row, "pool");
	return write_row(st, STORE_UPDATE, row, NULL, err, errlen);
}

/* Tasks and trial allocations (as tasks of kind 'trial') in one listing. */
#define ALL_TASKS                                                                                  \
	"SELECT 'task-' || t.id AS task_id, t.kind, t.owner_uid, t.slots, t.pool, t.state,"        \
	" t.exit_status, t.end_reason, t.created_at, t.started_at, t.ended_at,"                    \
	" NULL AS experiment_id, NULL AS array_task, t.description,"                               \
	" CASE WHEN t.state = 'RUNNING' AND t.proxy_port IS NOT NULL"                              \
	" THEN '/proxy/' || t.id || '/' END AS proxy_url FROM tasks t"                             \
	" UNION ALL"                                                                               \
	" SELECT 'trial-' || a.experiment_id || '-' || a.array_task, 'trial', u.uid,"              \
	" json_extract(e.config, '$.resources.slots_per_trial'),"                                  \
	" json_extract(e.config, '$.resources.resource_pool'),"                                    \
	" CASE a.state WHEN 'PENDING' THEN 'QUEUED' WHEN 'RUNNING' THEN 'RUNNING'"                 \
	" ELSE 'TERMINATED' END, a.exit_status, NULL, e.created_at, NULL, e.ended_at,"             \
	" a.experiment_id, a.array_task, '', NULL"                                                 \
	" FROM allocations a JOIN experiments e ON e.id = a.experiment_id"                         \
	" LEFT JOIN users u ON u.id = e.owner_id"

/* Copy column i of q (text) into buf. */
static void text_col(sqlite3_stmt *q, int i, char *buf, size_t len)
{
	const unsigned char *v = sqlite3_column_text(q, i);
	snprintf(buf, len, "%s", v ? (const char *)v : "");
}

int store_task_get(struct store *st, int64_t id, struct store_task *t, char *err, size_t errlen)
{
	int rv;
	sqlite3 *db = store_reader_get(st, err, errlen);
	sqlite3_stmt *q = NULL;

	if (!db)
		return -1;
	rv = store_step_id(
	    db,
	    "SELECT id, kind, owner_uid, slots, pool, state, exit_status,"
	    " end_reason, created_at, started_at, ended_at, description, pid, pid_start, job_id"
	    " FROM tasks WHERE id = ?",
	    id, &q, err, errlen);
	if (rv != 1)
		goto fail;
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(q, 0);
	text_col(q, 1, t->kind, sizeof(t->kind));
	t->owner_uid = sqlite3_column_int64(q, 2);
	t->slots = sqlite3_column_int64(q, 3);
	text_col(q, 4, t->pool, sizeof(t->pool));
	text_col(q, 5, t->state, sizeof(t->state));
	t->has_exit_status = sqlite3_column_type(q, 6) != SQLITE_NULL;
	t->exit_status = sqlite3_column_int(q, 6);
	text_col(q, 7, t->end_reason, sizeof(t->end_reason));
	t->created_at = sqlite3_column_double(q, 8);
	t->started_at = sqlite3_column_double(q, 9);
	t->ended_at = sqlite3_column_double(q, 10);
	text_col(q, 11, t->description, sizeof(t->description));
	t->pid = sqlite3_column_int64(q, 12);
	t->pid_start = sqlite3_column_int64(q, 13);
	text_col(q, 14, t->job_id, sizeof(t->job_id));
	rv = 1;
fail:
	sqlite3_finalize(q);
	store_reader_put(st, db);
	return rv;
}

json_t *store_task_list(struct store *st, const char *kind, char *err, size_t errlen)
{
	sqlite3 *db = store_reader_get(st, err, errlen);
	sqlite3_stmt *q = NULL;
	json_t *out = NULL, *all = NULL;
	int rc = SQLITE_DONE;

	if (!db)
		return NULL;
	if (sqlite3_prepare_v2(db,
	                       "SELECT * FROM (" ALL_TASKS ") WHERE ?1 IS NULL OR kind = ?1"
	                       " ORDER BY created_at, task_id",
	                       -1, &q, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(db));
		goto fail;
	}
	if (kind)
		sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	all = json_array();
	while (all && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		json_t *row = store_row_json(q);
		if (!row || json_array_append_new(all, row)) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (!all) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "query: %s", sqlite3_errmsg(db));
		goto fail;
	}
	out = all;
	all = NULL;
fail:
	json_decref(all);
	sqlite3_finalize(q);
	store_reader_put(st, db);
	return out;
}
