/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tasks table's proxy columns (migrations 9 and 16): the hash of a task's
 * registration token, the address it registered and its server's own token. Kept apart from
 * store_task.c so that a task row's lifecycle writes never touch them; writes
 * go through the writer thread like every other write.
 */
#include "store_internal.h"
#include "task_proxy.h"

#include <stdio.h>
#include <string.h>

/* UPDATE tasks SET row WHERE id (row borrowed). 0, or -1 with err. */
static int proxy_update(struct store *st, int64_t id, json_t *row, char *err, size_t errlen)
{
	if (!row || json_object_set_new(row, "id", json_integer(id))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct store_op op = {.kind = STORE_UPDATE, .table = "tasks", .row = row};
	return store_write(st, &op, 1, err, errlen);
}

int store_task_token_set(struct store *st, int64_t id, const char *token_hash, char *err,
                         size_t errlen)
{
	json_t *row = json_pack("{s:s}", "token_hash", token_hash);
	int rv = proxy_update(st, id, row, err, errlen);
	json_decref(row);
	return rv;
}

int store_task_address_set(struct store *st, int64_t id, const char *host, int port, char *err,
                           size_t errlen)
{
	json_t *row = host ? json_pack("{s:s, s:i}", "proxy_host", host, "proxy_port", port)
	                   : json_pack("{s:n, s:n, s:n}", "proxy_host", "proxy_port", "proxy_auth");
	int rv = proxy_update(st, id, row, err, errlen);
	json_decref(row);
	return rv;
}

int store_task_proxy_auth_set(struct store *st, int64_t id, const char *auth, char *err,
                              size_t errlen)
{
	json_t *row =
	    auth ? json_pack("{s:s}", "proxy_auth", auth) : json_pack("{s:n}", "proxy_auth");
	int rv = proxy_update(st, id, row, err, errlen);
	json_decref(row);
	return rv;
}

int store_task_proxy_get(struct store *st, int64_t id, struct task_proxy_row *r, char *err,
                         size_t errlen)
{
	int rv;
	sqlite3 *db = store_reader_get(st, err, errlen);
	sqlite3_stmt *q = NULL;

	if (!db)
		return -1;
	rv = store_step_id(db,
	                   "SELECT token_hash, proxy_host, proxy_port, proxy_auth FROM tasks "
	                   "WHERE id = ?",
	                   id, &q, err, errlen);
	if (rv != 1)
		goto fail;
	memset(r, 0, sizeof(*r));
	const unsigned char *h = sqlite3_column_text(q, 0), *host = sqlite3_column_text(q, 1);
	snprintf(r->token_hash, sizeof(r->token_hash), "%s", h ? (const char *)h : "");
	snprintf(r->host, sizeof(r->host), "%s", host ? (const char *)host : "");
	r->port = host ? sqlite3_column_int(q, 2) : 0;
	const unsigned char *auth = sqlite3_column_text(q, 3);
	snprintf(r->auth, sizeof(r->auth), "%s", auth ? (const char *)auth : "");
	rv = 1;
fail:
	sqlite3_finalize(q);
	store_reader_put(st, db);
	return rv;
}
