/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Generic row writes and reads: a JSON object's keys are the column names,
 * checked against a table list and an identifier pattern, so statements are
 * built only from names this program chose. Prepared statements are cached
 * by their SQL text on the writer connection (the hot metric insert reuses
 * one statement).
 */
#include "store_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct table_info {
	const char *name;
	const char *pk; /* comma-separated primary key columns */
};

static const struct table_info tables[] = {
    {"users", "id"},
    {"tokens", "token"},
    {"experiments", "id"},
    {"trials", "id"},
    {"allocations", "experiment_id,array_task"},
    {"metrics", "id"},
    {"checkpoints", "uuid"},
    {"logs", "id"},
    {"allocation_events", "id"},
    {"tasks", "id"},
    {"workspaces", "id"},
    {"projects", "id"},
    {"workspace_roles", "id"},
    {"templates", "id"},
    {"models", "id"},
    {"model_versions", "id"},
    {"images", "name"},
};

/* Result column names holding JSON text; "metrics" is store_metrics' name for body. */
static const char *const json_columns[] = {"config", "searcher_snapshot", "labels", "hparams",
                                           "body",   "metadata",          "files",  "metrics"};

static const struct table_info *table_find(const char *name)
{
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (!strcmp(tables[i].name, name))
			return &tables[i];
	return NULL;
}

static int ident_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && *s != '_' && !isdigit((unsigned char)*s))
			return 0;
	return 1;
}

static int is_json_column(const char *col)
{
	for (size_t i = 0; i < sizeof(json_columns) / sizeof(json_columns[0]); i++)
		if (!strcmp(json_columns[i], col))
			return 1;
	return 0;
}

static int in_list(const char *list, const char *col)
{
	size_t n = strlen(col);
	for (const char *p = list; p && *p;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (len == n && !strncmp(p, col, n))
			return 1;
		p = c ? c + 1 : NULL;
	}
	return 0;
}

static sqlite3_stmt *prepare_cached(struct store *st, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	for (size_t i = 0; i < st->ncache; i++) {
		if (!strcmp(st->cache[i].sql, sql)) {
			sqlite3_reset(st->cache[i].stmt);
			sqlite3_clear_bindings(st->cache[i].stmt);
			return st->cache[i].stmt;
		}
	}
	if (sqlite3_prepare_v2(st->wdb, sql, -1, &q, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(st->wdb));
		return NULL;
	}
	if (st->ncache < STORE_STMT_CACHE) {
		st->cache[st->ncache].sql = strdup(sql);
		if (st->cache[st->ncache].sql) {
			st->cache[st->ncache++].stmt = q;
		}
	}
	return q;
}

static int is_cached(struct store *st, sqlite3_stmt *q)
{
	for (size_t i = 0; i < st->ncache; i++)
		if (st->cache[i].stmt == q)
			return 1;
	return 0;
}

void store_stmt_cache_free(struct store *st)
{
	for (size_t i = 0; i < st->ncache; i++) {
		sqlite3_finalize(st->cache[i].stmt);
		free(st->cache[i].sql);
	}
	st->ncache = 0;
}

static int bind_value(sqlite3_stmt *q, int idx, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		return sqlite3_bind_int64(q, idx, json_integer_value(v));
	case JSON_REAL:
		return sqlite3_bind_double(q, idx, json_real_value(v));
	case JSON_STRING:
		return sqlite3_bind_text(q, idx, json_string_value(v), (int)json_string_length(v),
		                         SQLITE_TRANSIENT);
	case JSON_TRUE:
		return sqlite3_bind_int(q, idx, 1);
	case JSON_FALSE:
		return sqlite3_bind_int(q, idx, 0);
	case JSON_NULL:
		return sqlite3_bind_null(q, idx);
	default: {
		char *text = json_dumps(v, JSON_COMPACT);
		if (!text)
			return SQLITE_NOMEM;
		return sqlite3_bind_text(q, idx, text, -1, free);
	}
	}
}

/* Append the NULL-terminated list of strings to buf at *off: 0, or -1 when
 * they do not fit. Plain copies: snprintf per piece was a sizeable share of
 * each metric report's cost on the writer thread. */
static int add_strs(char *buf, size_t len, size_t *off, ...)
{
	va_list ap;
	const char *s;
	int rv = 0;

	va_start(ap, off);
	while ((s = va_arg(ap, const char *))) {
		size_t n = strlen(s);
		if (n >= len - *off) {
			rv = -1;
			break;
		}
		memcpy(buf + *off, s, n);
		*off += n;
	}
	va_end(ap);
	buf[*off] = '\0';
	return rv;
}

/* Build the statement text for op into buf. */
static int build_sql(const struct store_op *op, const struct table_info *t, char *buf, size_t len,
                     char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	size_t off = 0;
	int first = 1;

#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (add_strs(buf, len, &off, __VA_ARGS__, (const char *)NULL))                     \
			goto toolong;                                                              \
	} while (0)
#define SEP(s) (first ? "" : (s))

	json_object_foreach (op->row, k, v) {
		if (!ident_ok(k)) {
			snprintf(err, errlen, "bad column name %s", k);
			return -1;
		}
	}
	if (op->kind == STORE_DELETE) {
		ADD("DELETE FROM ", t->name, " WHERE ");
		json_object_foreach (op->row, k, v) {
			ADD(SEP(" AND "), k, " = ?");
			first = 0;
		}
		return first ? -1 : 0;
	}
	if (op->kind == STORE_UPDATE) {
		/* Non-key columns first, then the key: apply_one binds in that order. */
		ADD("UPDATE ", t->name, " SET ");
		json_object_foreach (op->row, k, v) {
			if (in_list(t->pk, k))
				continue;
			ADD(SEP(", "), k, " = ?");
			first = 0;
		}
		if (first)
			return -1;
		ADD(" WHERE ");
		first = 1;
		json_object_foreach (op->row, k, v) {
			if (!in_list(t->pk, k))
				continue;
			ADD(SEP(" AND "), k, " = ?");
			first = 0;
		}
		return first ? -1 : 0;
	}
	ADD("INSERT INTO ", t->name, " (");
	json_object_foreach (op->row, k, v) {
		ADD(SEP(", "), k);
		first = 0;
	}
	if (op->blob_col)
		ADD(SEP(", "), op->blob_col);
	ADD(") VALUES (");
	first = 1;
	json_object_foreach (op->row, k, v) {
		ADD(SEP(", "), "?");
		first = 0;
	}
	if (op->blob_col)
		ADD(SEP(", "), "?");
	ADD(")");
	if (op->kind == STORE_PUT) {
		int any = op->blob_col != NULL;
		json_object_foreach (op->row, k, v) {
			any |= !in_list(t->pk, k);
		}
		if (!any) {
			ADD(" ON CONFLICT DO NOTHING");
			return 0;
		}
		ADD(" ON CONFLICT (", t->pk, ") DO UPDATE SET ");
		first = 1;
		json_object_foreach (op->row, k, v) {
			if (in_list(t->pk, k))
				continue;
			ADD(SEP(", "), k, " = excluded.", k);
			first = 0;
		}
		if (op->blob_col)
			ADD(SEP(", "), op->blob_col, " = excluded.", op->blob_col);
	}
	return 0;
toolong:
	snprintf(err, errlen, "statement too long");
	return -1;
#undef SEP
#undef ADD
}

static int apply_one(struct store *st, struct store_op *op, char *err, size_t errlen)
{
	const struct table_info *t = table_find(op->table);
	char sql[2048];
	sqlite3_stmt *q;
	const char *k;
	json_t *v;
	int idx = 1, rc;

	err[0] = '\0';
	if (!t || !json_is_object(op->row) || json_object_size(op->row) == 0) {
		snprintf(err, errlen, "bad write to %s", op->table);
		return -1;
	}
	if (build_sql(op, t, sql, sizeof(sql), err, errlen)) {
		if (!*err)
			snprintf(err, errlen, "bad write to %s", op->table);
		return -1;
	}
	q = prepare_cached(st, sql, err, errlen);
	if (!q)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		json_object_foreach (op->row, k, v) {
			/* UPDATE binds non-key columns (pass 0) before key columns (pass 1). */
			if (op->kind == STORE_UPDATE ? (pass == 0) == in_list(t->pk, k) : pass == 1)
				continue;
			if (bind_value(q, idx++, v) != SQLITE_OK) {
				snprintf(err, errlen, "bind %s: %s", k, sqlite3_errmsg(st->wdb));
				goto fail;
			}
		}
	}
	if (op->blob_col &&
	    sqlite3_bind_blob64(q, idx, op->blob, op->blob_len, SQLITE_STATIC) != SQLITE_OK) {
		snprintf(err, errlen, "bind blob: %s", sqlite3_errmsg(st->wdb));
		goto fail;
	}
	rc = sqlite3_step(q);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s: %s", op->table, sqlite3_errmsg(st->wdb));
		goto fail;
	}
	op->id_out = sqlite3_last_insert_rowid(st->wdb);
	if (is_cached(st, q))
		sqlite3_reset(q);
	else
		sqlite3_finalize(q);
	return 0;
fail:
	if (is_cached(st, q))
		sqlite3_reset(q);
	else
		sqlite3_finalize(q);
	return -1;
}

int store_apply_ops(struct store *st, struct store_op *ops, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if (apply_one(st, &ops[i], err, errlen))
			return -1;
	return 0;
}

int store_step_id(sqlite3 *db, const char *sql, int64_t id, sqlite3_stmt **q, char *err,
                  size_t errlen)
{
	int rc;

	*q = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, q, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "prepare: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(*q, 1, id);
	rc = sqlite3_step(*q);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "query: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 1;
}

/* Current row of q as a JSON object (JSON columns parsed). */
json_t *store_row_json(sqlite3_stmt *q)
{
	json_t *row = json_object();
	int n = sqlite3_column_count(q);

	for (int i = 0; row && i < n; i++) {
		const char *name = sqlite3_column_name(q, i);
		json_t *v = NULL;
		switch (sqlite3_column_type(q, i)) {
		case SQLITE_INTEGER:
			v = json_integer(sqlite3_column_int64(q, i));
			break;
		case SQLITE_FLOAT:
			v = json_real(sqlite3_column_double(q, i));
			break;
		case SQLITE_TEXT: {
			const char *s = (const char *)sqlite3_column_text(q, i);
			int len = sqlite3_column_bytes(q, i);
			if (is_json_column(name))
				v = json_loadb(s, (size_t)len, JSON_DECODE_ANY, NULL);
			if (!v)
				v = json_stringn(s, (size_t)len);
			break;
		}
		default:
			v = json_null();
		}
		if (!v || json_object_set_new(row, name, v)) {
			json_decref(row);
			return NULL;
		}
	}
	return row;
}
