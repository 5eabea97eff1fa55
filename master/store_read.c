/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Read queries on borrowed reader connections. Every query is fixed SQL
 * with bound parameters; results come back as JSON arrays of row objects.
 */
#include "store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run q to the end, collecting rows. */
static json_t *collect(sqlite3 *db, sqlite3_stmt *q, char *err, size_t errlen)
{
	json_t *out = json_array();
	int rc;

	while (out && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		json_t *row = store_row_json(q);
		if (!row || json_array_append_new(out, row)) {
			snprintf(err, errlen, "out of memory");
			json_decref(out);
			return NULL;
		}
	}
	if (out && rc != SQLITE_DONE) {
		snprintf(err, errlen, "query: %s", sqlite3_errmsg(db));
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Prepare sql on a reader, bind (text|int64) parameters described by fmt ('s','i'). */
static json_t *query(struct store *st, const char *sql, const char *fmt, const void *const *args,
                     char *err, size_t errlen)
{
	sqlite3 *db = store_reader_get(st, err, errlen);
	sqlite3_stmt *q = NULL;
	json_t *out = NULL;

	if (!db)
		return NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(db));
		goto done;
	}
	for (int i = 0; fmt[i]; i++) {
		if (fmt[i] == 's')
			sqlite3_bind_text(q, i + 1, args[i], -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(q, i + 1, *(const int64_t *)args[i]);
	}
	out = collect(db, q, err, errlen);
done:
	sqlite3_finalize(q);
	store_reader_put(st, db);
	return out;
}

json_t *store_load_table(struct store *st, const char *table, char *err, size_t errlen)
{
	static const struct {
		const char *table, *sql;
	} loads[] = {
	    {"users", "SELECT * FROM users ORDER BY id"},
	    {"tokens", "SELECT * FROM tokens"},
	    {"experiments",
	     "SELECT id, owner_id, name, state, archived, config, config_yaml, alloc_token,"
	     "  searcher_snapshot,"
	     " labels, num_tasks, max_concurrent, rm_job_id, progress, created_at, ended_at,"
	     " project_id, parent_id, description, notes"
	     " FROM experiments ORDER BY id"},
	    {"trials", "SELECT * FROM trials ORDER BY id"},
	    {"allocations", "SELECT * FROM allocations ORDER BY experiment_id, array_task"},
	    {"workspaces", "SELECT * FROM workspaces ORDER BY id"},
	    {"projects", "SELECT * FROM projects ORDER BY id"},
	    {"workspace_roles", "SELECT * FROM workspace_roles ORDER BY id"},
	    {"templates", "SELECT * FROM templates ORDER BY id"},
	    {"models", "SELECT * FROM models ORDER BY id"},
	    {"model_versions", "SELECT * FROM model_versions ORDER BY id"},
	    {"images", "SELECT * FROM images ORDER BY name"},
	};
	for (size_t i = 0; i < sizeof(loads) / sizeof(loads[0]); i++)
		if (!strcmp(loads[i].table, table))
			return query(st, loads[i].sql, "", NULL, err, errlen);
	snprintf(err, errlen, "no such table %s", table);
	return NULL;
}

json_t *store_metrics(struct store *st, int64_t trial_id, const char *group, int64_t after_id,
                      int limit, char *err, size_t errlen)
{
	int64_t lim = limit;
	const void *args[] = {&trial_id, &after_id, &lim};
	/* Validation rows through their partial index (a literal, or SQLite
	 * cannot know that the query stays inside it); all others through
	 * metrics_trial_id, the training rows being nearly all of a trial's. */
	if (group && !strcmp(group, "validation"))
		return query(
		    st,
		    "SELECT id, trial_id, grp AS \"group\", steps_completed, body AS metrics,"
		    " created_at FROM metrics WHERE trial_id = ? AND grp = 'validation'"
		    " AND id > ? ORDER BY id LIMIT ?",
		    "iii", args, err, errlen);
	if (group) {
		const void *gargs[] = {&trial_id, group, &after_id, &lim};
		return query(
		    st,
		    "SELECT id, trial_id, grp AS \"group\", steps_completed, body AS metrics,"
		    " created_at FROM metrics WHERE trial_id = ? AND grp = ? AND id > ?"
		    " ORDER BY id LIMIT ?",
		    "isii", gargs, err, errlen);
	}
	return query(st,
	             "SELECT id, trial_id, grp AS \"group\", steps_completed, body AS metrics,"
	             " created_at FROM metrics WHERE trial_id = ? AND id > ? ORDER BY id LIMIT ?",
	             "iii", args, err, errlen);
}

int store_metrics_each(struct store *st, int64_t trial_id, const char *group, int64_t after_id,
                       store_metric_fn fn, void *arg, int64_t *last_id, char *err, size_t errlen)
{
	sqlite3 *db = store_reader_get(st, err, errlen);
	sqlite3_stmt *q = NULL;
	int rv = -1, rc, stop = 0;

	*last_id = after_id;
	if (!db)
		return -1;
	/* "? IS NULL" keeps the plan on the (trial_id, id) index, in id order
	 * without a sort, group or not; validation rows alone through theirs. */
	int validation = group && !strcmp(group, "validation");
	if (sqlite3_prepare_v2(db,
	                       validation ? "SELECT id, grp, steps_completed, created_at, body"
	                                    " FROM metrics WHERE trial_id = ?1 AND id > ?2"
	                                    " AND grp = 'validation' ORDER BY id"
	                                  : "SELECT id, grp, steps_completed, created_at, body"
	                                    " FROM metrics WHERE trial_id = ?1 AND id > ?2"
	                                    " AND (?3 IS NULL OR grp = ?3) ORDER BY id",
	                       -1, &q, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(db));
		goto fail;
	}
	sqlite3_bind_int64(q, 1, trial_id);
	sqlite3_bind_int64(q, 2, after_id);
	if (group && !validation)
		sqlite3_bind_text(q, 3, group, -1, SQLITE_STATIC);
	while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *grp = (const char *)sqlite3_column_text(q, 1);
		const char *body = (const char *)sqlite3_column_text(q, 4);
		size_t len = (size_t)sqlite3_column_bytes(q, 4);
		*last_id = sqlite3_column_int64(q, 0);
		stop = fn(arg, grp ? grp : "", sqlite3_column_int64(q, 2),
		          sqlite3_column_double(q, 3), body ? body : "", len, err, errlen);
		if (stop < 0)
			goto fail;
	}
	if (!stop && rc != SQLITE_DONE) {
		snprintf(err, errlen, "query: %s", sqlite3_errmsg(db));
		goto fail;
	}
	rv = 0;
fail:
	sqlite3_finalize(q);
	store_reader_put(st, db);
	return rv;
}

json_t *store_logs(struct store *st, int64_t trial_id, int64_t after_id, int limit, char *err,
                   size_t errlen)
{
	int64_t lim = limit;
	const void *args[] = {&trial_id, &after_id, &lim};
	return query(st,
	             "SELECT id, trial_id, rank, stream, ts AS timestamp, line FROM logs"
	             " WHERE trial_id = ? AND id > ? ORDER BY id LIMIT ?",
	             "iii", args, err, errlen);
}

json_t *store_logs_before(struct store *st, int64_t trial_id, int64_t before_id, int limit,
                          char *err, size_t errlen)
{
	int64_t lim = limit;
	const void *args[] = {&trial_id, &before_id, &lim};
	return query(st,
	             "SELECT * FROM (SELECT id, trial_id, rank, stream, ts AS timestamp, line"
	             " FROM logs WHERE trial_id = ? AND id < ? ORDER BY id DESC LIMIT ?)"
	             " ORDER BY id",
	             "iii", args, err, errlen);
}

json_t *store_checkpoints(struct store *st, int64_t experiment_id, int64_t trial_id, char *err,
                          size_t errlen)
{
	if (trial_id) {
		const void *args[] = {&trial_id};
		return query(st,
		             "SELECT * FROM checkpoints WHERE trial_id = ?"
		             " ORDER BY steps_completed, created_at",
		             "i", args, err, errlen);
	}
	const void *args[] = {&experiment_id};
	return query(st,
	             "SELECT * FROM checkpoints WHERE experiment_id = ?"
	             " ORDER BY trial_id, steps_completed",
	             "i", args, err, errlen);
}

json_t *store_checkpoints_metrics(struct store *st, int64_t experiment_id, char *err, size_t errlen)
{
	const void *args[] = {&experiment_id};
	return query(st,
	             "SELECT c.*, (SELECT m.body FROM metrics m WHERE m.trial_id = c.trial_id"
	             " AND m.grp = 'validation' AND m.steps_completed = c.steps_completed"
	             " ORDER BY m.id DESC LIMIT 1) AS metrics"
	             " FROM checkpoints c WHERE c.experiment_id = ?"
	             " ORDER BY c.trial_id, c.steps_completed",
	             "i", args, err, errlen);
}

json_t *store_checkpoint(struct store *st, const char *uuid, char *err, size_t errlen)
{
	const void *args[] = {uuid};
	json_t *rows =
	    query(st, "SELECT * FROM checkpoints WHERE uuid = ?", "s", args, err, errlen);
	json_t *row;

	if (!rows)
		return NULL;
	err[0] = '\0';
	row = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return row;
}

int store_model_def(struct store *st, int64_t experiment_id, void **data, size_t *len, char *err,
                    size_t errlen)
{
	sqlite3 *db = store_reader_get(st, err, errlen);
	sqlite3_stmt *q = NULL;
	int rv = -1;

	*data = NULL;
	*len = 0;
	if (!db)
		return -1;
	err[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT model_def FROM experiments WHERE id = ?", -1, &q,
	                       NULL) != SQLITE_OK) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(db));
		goto done;
	}
	sqlite3_bind_int64(q, 1, experiment_id);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) == SQLITE_BLOB) {
		int n = sqlite3_column_bytes(q, 0);
		*data = malloc(n > 0 ? (size_t)n : 1);
		if (!*data) {
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		memcpy(*data, sqlite3_column_blob(q, 0), (size_t)n);
		*len = (size_t)n;
		rv = 0;
	}
done:
	sqlite3_finalize(q);
	store_reader_put(st, db);
	return rv;
}
