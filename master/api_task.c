/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Task endpoints (doc/tasks.md): run a command (POST /tasks), list, describe,
 * kill, and read its output (GET /tasks/{id}/logs, follow=1 parks the request
 * like trial logs). A command's output is the file the local resource manager
 * writes for it (task-logs/task-ID.log in the state directory), read by byte
 * offset. Non-obvious decision: a task that is not the principal's own is
 * "not found" (404) for every action, so ids cannot be probed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "api_internal.h"
#include "api_list.h"
#include "authz.h"
#include "exp.h"
#include "rm_slurm_util.h"
#include "store.h"
#include "tboard_task.h"
#include "task_notebook.h"
#include "task_proxy.h"

#define TASK_MAX_ARGS 256
#define TASK_MAX_ENV 256
#define TASK_MAX_ARG_BYTES 4096
#define TASK_MAX_DESCRIPTION 1024
#define TASK_LOGS_FOLLOW_WAIT_S 30
#define TASK_LOGS_CHUNK 65536

/* A string field of at most max bytes without NUL: its text, else NULL. */
static const char *plain_string(json_t *v, size_t max)
{
	if (!json_is_string(v))
		return NULL;
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	return n <= max && strlen(s) == n ? s : NULL;
}

/* An environment variable's name: a letter or '_', then letters, digits, '_'. */
static int env_name_ok(const char *s, size_t n)
{
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* body.argv as a NULL-terminated vector (strings borrowed from body), or NULL with err. */
static const char **task_argv(json_t *body, char *err, size_t errlen)
{
	json_t *argv = json_object_get(body, "argv"), *v;
	size_t i, n = json_array_size(argv);
	const char **out = NULL;

	if (!json_is_array(argv) || n == 0 || n > TASK_MAX_ARGS) {
		snprintf(err, errlen, "argv: expected a list of 1..%d strings", TASK_MAX_ARGS);
		return NULL;
	}
	out = calloc(n + 1, sizeof(*out));
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_array_foreach (argv, i, v) {
		out[i] = plain_string(v, TASK_MAX_ARG_BYTES);
		if (!out[i] || (i == 0 && !*out[i])) {
			snprintf(err, errlen,
			         "argv[%zu]: expected a string of at most %d bytes without NUL%s",
			         i, TASK_MAX_ARG_BYTES, i == 0 ? ", not empty" : "");
			free(out);
			return NULL;
		}
	}
	return out;
}

/* body.environment.environment_variables (a list of "KEY=VALUE") as a NULL-terminated
 * vector (borrowed), an empty one when absent, or NULL with err. */
static const char **task_env(json_t *body, char *err, size_t errlen)
{
	json_t *envr = json_object_get(body, "environment");
	json_t *vars = json_object_get(envr, "environment_variables"), *v;
	size_t i, n = json_array_size(vars);
	const char **out = NULL;

	if ((envr && !json_is_object(envr)) || (vars && !json_is_array(vars)) || n > TASK_MAX_ENV) {
		snprintf(err, errlen,
		         "environment.environment_variables: expected a list of at most %d "
		         "\"KEY=VALUE\" strings",
		         TASK_MAX_ENV);
		return NULL;
	}
	out = calloc(n + 1, sizeof(*out));
	if (!out) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_array_foreach (vars, i, v) {
		const char *s = plain_string(v, TASK_MAX_ARG_BYTES);
		const char *eq = s ? strchr(s, '=') : NULL;
		if (!eq || !env_name_ok(s, (size_t)(eq - s))) {
			snprintf(err, errlen,
			         "environment.environment_variables[%zu]: expected \"KEY=VALUE\" "
			         "(KEY of letters, digits and _), at most %d bytes, no NUL",
			         i, TASK_MAX_ARG_BYTES);
			free(out);
			return NULL;
		}
		out[i] = s;
	}
	return out;
}

/* The request's keys and resources: 0, or -1 with err naming the field. */
static int task_fields(json_t *body, struct exp_task_spec *s, char *err, size_t errlen)
{
	static const char *const known[] = {
	    "kind",    "argv",  "resources",      "environment", "description",
	    "context", "slurm", "experiment_ids", "trial_ids",   "idle_timeout"};
	const char *key, *kind;
	json_t *v, *res = json_object_get(body, "resources");

	json_object_foreach (body, key, v) {
		size_t i = 0;
		while (i < sizeof(known) / sizeof(known[0]) && strcmp(key, known[i]))
			i++;
		if (i == sizeof(known) / sizeof(known[0])) {
			snprintf(err, errlen, "%.64s: unknown field", key);
			return -1;
		}
	}
	kind = json_string_value(json_object_get(body, "kind"));
	if (json_object_get(body, "kind") &&
	    (!kind || (strcmp(kind, "command") && strcmp(kind, "tensorboard") &&
	               strcmp(kind, "notebook") && strcmp(kind, "shell")))) {
		snprintf(err, errlen,
		         "kind: only \"command\", \"notebook\", \"shell\" and \"tensorboard\" run "
		         "in this version");
		return -1;
	}
	if (kind && !strcmp(kind, "tensorboard"))
		s->kind = LIFECYCLE_TASK_TENSORBOARD;
	if (kind && !strcmp(kind, "notebook")) {
		s->kind = LIFECYCLE_TASK_NOTEBOOK;
		/* A notebook runs the master's launcher: nothing of the user's to run. */
		if (json_object_get(body, "argv") || json_object_get(body, "context")) {
			snprintf(err, errlen, "%s: not for a notebook (it runs Jupyter)",
			         json_object_get(body, "argv") ? "argv" : "context");
			return -1;
		}
	} else if (json_object_get(body, "idle_timeout")) {
		snprintf(err, errlen, "idle_timeout: only for a notebook");
		return -1;
	}
	if (s->kind != LIFECYCLE_TASK_TENSORBOARD &&
	    (json_object_get(body, "experiment_ids") || json_object_get(body, "trial_ids"))) {
		snprintf(err, errlen, "experiment_ids, trial_ids: only for kind \"tensorboard\"");
		return -1;
	}
	if (kind && !strcmp(kind, "shell"))
		s->kind = LIFECYCLE_TASK_SHELL;
	s->description = plain_string(json_object_get(body, "description"), TASK_MAX_DESCRIPTION);
	if (json_object_get(body, "description") && !s->description) {
		snprintf(err, errlen, "description: expected a string of at most %d bytes",
		         TASK_MAX_DESCRIPTION);
		return -1;
	}
	if (res && !json_is_object(res)) {
		snprintf(err, errlen, "resources: expected an object");
		return -1;
	}
	json_t *sl = json_object_get(res, "slots");
	s->slots = sl ? json_integer_value(sl) : 1;
	if (sl && (!json_is_integer(sl) || s->slots < 0 || s->slots > EXP_TASK_MAX_SLOTS)) {
		snprintf(err, errlen, "resources.slots: expected an integer 0..%d",
		         EXP_TASK_MAX_SLOTS);
		return -1;
	}
	json_t *p = json_object_get(res, "resource_pool");
	s->pool = p ? plain_string(p, 127) : "";
	if (!s->pool) {
		snprintf(err, errlen, "resources.resource_pool: expected a pool name");
		return -1;
	}
	return 0;
}

/* The task as JSON (new reference; NULL when out of memory); proxy_url when it has a
 * registered address (read from store). */
static json_t *task_view(struct store *store, const struct store_task *t)
{
	char err[256];
	struct task_proxy_row r;
	json_t *v = json_pack("{s:I, s:s, s:I, s:I, s:s, s:s, s:f, s:s}", "id", (json_int_t)t->id,
	                      "kind", t->kind, "owner_uid", (json_int_t)t->owner_uid, "slots",
	                      (json_int_t)t->slots, "resource_pool", t->pool, "state", t->state,
	                      "created_at", t->created_at, "description", t->description);
	if (!v)
		return NULL;
	int bad = 0, st = t->exit_status;
	if (t->has_exit_status) {
		bad |= json_object_set_new(v, "exit_status", json_integer(st));
		/* As a shell reports it: the code, or 128 + the signal. */
		int code = WIFEXITED(st)     ? WEXITSTATUS(st)
		           : WIFSIGNALED(st) ? 128 + WTERMSIG(st)
		                             : 1;
		bad |= json_object_set_new(v, "exit_code", json_integer(st < 0 ? 1 : code));
	}
	if (t->end_reason[0])
		bad |= json_object_set_new(v, "end_reason", json_string(t->end_reason));
	if (t->started_at > 0)
		bad |= json_object_set_new(v, "started_at", json_real(t->started_at));
	if (t->ended_at > 0)
		bad |= json_object_set_new(v, "ended_at", json_real(t->ended_at));
	if (!strcmp(t->state, "RUNNING") &&
	    store_task_proxy_get(store, t->id, &r, err, sizeof(err)) == 1 && r.port) {
		char url[64];
		snprintf(url, sizeof(url), "/proxy/%lld/", (long long)t->id);
		bad |= json_object_set_new(v, "proxy_url", json_string(url));
	}
	if (bad) {
		json_decref(v);
		return NULL;
	}
	return v;
}

json_t *api_task_view(struct store *store, const struct store_task *t)
{
	return task_view(store, t);
}

/* Read task c->id into *t when the principal may do action to it: 1; 0 after a 404
 * (none, or not theirs) or a 500 in rep. */
static int task_for(struct app *a, struct api_call *c, enum authz_action action,
                    struct store_task *t, struct http_reply *rep)
{
	char err[256];
	int found = store_task_get(a->store, c->id, t, err, sizeof(err));
	if (found < 0) {
		api_error(rep, 500, "%s", err);
		return 0;
	}
	/* A task's owner is a Unix uid: the principal owns it when bound to that uid. */
	int64_t owner = c->who.uid >= 0 && c->who.uid == t->owner_uid ? c->who.user_id : -1;
	if (!found || !authz_allowed(&c->who, action, owner)) {
		api_error(rep, 404, "task %lld not found", (long long)c->id);
		return 0;
	}
	return 1;
}

/* body.context (base64 of a tar.gz, as a model definition) into s: 0, or -1 after an error
 * reply (400 not base64, 413 over the model definition limit). Absent: nothing. */
static int task_context(json_t *body, unsigned char **context, size_t *len, struct http_reply *rep)
{
	json_t *v = json_object_get(body, "context");
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		api_error(rep, 400, "context: expected base64 text (a tar.gz of the directory)");
		return -1;
	}
	/* Decoded like a model definition, under the same limit; det-master --run-command
	 * unpacks it as the owner with the model definition's checks (launch_unpack). */
	*context = api_base64_decode(json_string_value(v), json_string_length(v), len);
	if (!*context) {
		api_error(rep, 400, "context: not valid base64");
		return -1;
	}
	if (*len > API_MAX_MODEL_BYTES) {
		api_error(rep, 413, "context: %zu bytes, over the %ld byte limit", *len,
		          API_MAX_MODEL_BYTES);
		return -1;
	}
	return 0;
}

/* body.slurm: {"sbatch_args": [...]} as an experiment's slurm.sbatch_args (the options the
 * master applies: time, partition, account, qos, constraint). 0, or -1 with err. */
static int task_slurm(json_t *body, char *err, size_t errlen)
{
	json_t *sl = json_object_get(body, "slurm"), *args, *v;
	const char *key, *list[TASK_MAX_ARGS];
	struct rm_slurm_opts o;
	size_t i;

	if (!sl)
		return 0;
	json_object_foreach (sl, key, v) {
		if (strcmp(key, "sbatch_args")) {
			snprintf(err, errlen, "slurm.%.64s: unknown field (expected sbatch_args)",
			         key);
			return -1;
		}
	}
	args = json_object_get(sl, "sbatch_args");
	if (!json_is_object(sl) || (args && !json_is_array(args)) ||
	    json_array_size(args) > TASK_MAX_ARGS) {
		snprintf(err, errlen, "slurm.sbatch_args: expected a list of at most %d strings",
		         TASK_MAX_ARGS);
		return -1;
	}
	json_array_foreach (args, i, v) {
		if (!(list[i] = plain_string(v, TASK_MAX_ARG_BYTES))) {
			snprintf(err, errlen, "slurm.sbatch_args[%zu]: expected a string", i);
			return -1;
		}
	}
	/* The experiments' parser: its errors name slurm.sbatch_args. */
	return rm_slurm_parse_sbatch_args(list, (int)json_array_size(args), &o, err, errlen);
}

void api_task_create(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[512];
	const char **argv = NULL, **env = NULL;
	char **tb_argv = NULL;
	unsigned char *context = NULL;
	size_t context_len = 0;
	struct exp_task_spec s = {.kind = LIFECYCLE_TASK_COMMAND, .owner_uid = c->who.uid};
	int64_t id = 0;
	struct store_task t;

	const char *nb_argv[4];
	char nb_idle[32];
	long idle = a->cfg->notebook_idle_s;
	json_t *idle_v = json_object_get(c->body, "idle_timeout");

	if (task_fields(c->body, &s, err, sizeof(err))) {
		api_error(rep, 400, "%s", err);
		return;
	}
	if (s.kind == LIFECYCLE_TASK_SHELL) {
		if (task_slurm(c->body, err, sizeof(err)))
			api_error(rep, 400, "%s", err);
		else
			api_shell_create(a, c, &s, rep);
		return;
	}
	if ((s.kind == LIFECYCLE_TASK_NOTEBOOK && idle_v &&
	     task_notebook_idle_parse(idle_v, &idle, err, sizeof(err))) ||
	    (s.kind == LIFECYCLE_TASK_COMMAND && !(argv = task_argv(c->body, err, sizeof(err)))) ||
	    !(env = task_env(c->body, err, sizeof(err)))) {
		api_error(rep, 400, "%s", err);
		goto fail;
	}
	if (s.kind == LIFECYCLE_TASK_NOTEBOOK)
		task_notebook_argv(a->cfg->notebook_launcher, idle, nb_idle, sizeof(nb_idle),
		                   nb_argv);
	if (task_context(c->body, &context, &context_len, rep))
		goto fail;
	if (task_slurm(c->body, err, sizeof(err))) {
		api_error(rep, 400, "%s", err);
		goto fail;
	}
	if (c->who.uid < 0) {
		api_error(rep, 403, "%s has no Unix uid: a command runs as its owner's uid",
		          c->who.name);
		goto fail;
	}
	if (s.kind == LIFECYCLE_TASK_TENSORBOARD && !(tb_argv = api_tboard_argv(a, c, rep)))
		goto fail;
	struct exp_task_command cmd = {
	    s.kind == LIFECYCLE_TASK_NOTEBOOK ? (const char *const *)nb_argv
	    : tb_argv                         ? (const char *const *)tb_argv
	                                      : argv,
	    env,
	    context,
	    context_len,
	    json_object_get(json_object_get(c->body, "slurm"), "sbatch_args"),
	    tb_argv ? TBOARD_TASK_PREFIX_ARG : 0};
	enum exp_status st = exp_task_run(a, &s, &cmd, &id, err, sizeof(err));
	if (st != EXP_OK) {
		api_exp_error(rep, st, err);
		goto fail;
	}
	if (store_task_get(a->store, id, &t, err, sizeof(err)) != 1) {
		api_error(rep, 500, "task %lld: %s", (long long)id, err);
		goto fail;
	}
	api_json(rep, 201, json_pack("{s:o}", "task", task_view(a->store, &t)));
fail:
	free(argv);
	tboard_task_argv_free(tb_argv);
	free(env);
	free(context);
}

/* The columns GET /tasks sorts by, and the row key each names. */
static const char *task_order_key(const char *name)
{
	static const char *const cols[] = {"kind",       "state",    "owner_uid",
	                                   "created_at", "ended_at", "description"};
	if (!strcmp(name, "id"))
		return "task_id";
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if (!strcmp(name, cols[i]))
			return cols[i];
	return NULL;
}

/* Row's text value of key ("" when absent). */
static const char *task_str(json_t *row, const char *key)
{
	const char *v = json_string_value(json_object_get(row, key));
	return v ? v : "";
}

/* Does row match search (case-insensitive) in description, kind, state or end_reason? */
static int task_matches(json_t *row, const char *search)
{
	static const char *const keys[] = {"description", "kind", "state", "end_reason"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = json_string_value(json_object_get(row, keys[i]));
		if (v && strcasestr(v, search))
			return 1;
	}
	return 0;
}

/* qsort_r order of two task rows by task_id in number order ("task-9" before
 * "task-10"); arg points to an int, nonzero for descending. */
static int task_id_cmp(const void *pa, const void *pb, void *arg)
{
	int r = strverscmp(task_str(*(json_t *const *)pa, "task_id"),
	                   task_str(*(json_t *const *)pb, "task_id"));
	return *(const int *)arg ? -r : r;
}

/* Sort rows (an array of task rows) by task_id in number order: 0, or -1 when
 * memory ran out. */
static int task_sort_by_id(json_t *rows, int desc)
{
	size_t n = json_array_size(rows);
	json_t **items = calloc(n ? n : 1, sizeof(*items));
	int rv = -1;

	if (!items)
		goto fail;
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(rows, i));
	qsort_r(items, n, sizeof(*items), task_id_cmp, &desc);
	json_array_clear(rows);
	rv = 0;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(rows, items[i]))
			rv = -1;
fail:
	free(items);
	return rv;
}

/* Check the paging, sorting and filter arguments of GET /tasks: 0, or -1 with err. */
static int task_list_args(const char *limit, const char *order_by, const char *state,
                          const char *search, char *err, size_t errlen)
{
	char *end;
	if (limit) {
		errno = 0;
		long n = strtol(limit, &end, 10);
		if (errno || end == limit || *end || n < 1 || n > 1000) {
			snprintf(err, errlen, "limit: expected an integer from 1 to 1000");
			return -1;
		}
	}
	if (order_by && !task_order_key(order_by)) {
		snprintf(err, errlen,
		         "order_by: expected id, kind, state, owner_uid, created_at,"
		         " ended_at or description");
		return -1;
	}
	if (state && lifecycle_task_state_parse(state) < 0) {
		snprintf(err, errlen, "state: not a task state");
		return -1;
	}
	if (search) {
		if (strlen(search) > 256) {
			snprintf(err, errlen, "search: at most 256 bytes");
			return -1;
		}
		for (const unsigned char *p = (const unsigned char *)search; *p; p++)
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(err, errlen, "search: control characters are not allowed");
				return -1;
			}
	}
	return 0;
}

void api_task_list(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[256], *end;
	const char *kind = http_request_arg(c->req, "kind");
	const char *owner = http_request_arg(c->req, "owner_uid");
	const char *limit = http_request_arg(c->req, "limit");
	const char *order_by = http_request_arg(c->req, "order_by");
	const char *state = http_request_arg(c->req, "state");
	const char *search = http_request_arg(c->req, "search");
	struct api_list_query q;
	long long want = -1;
	json_t *rows = NULL, *kept = NULL, *page = NULL, *row;
	size_t i, total = 0;

	if (kind && lifecycle_task_kind_parse(kind) < 0) {
		api_error(rep, 400,
		          "kind: expected trial, command, notebook, shell or tensorboard");
		goto out;
	}
	if (owner) {
		errno = 0;
		want = strtoll(owner, &end, 10);
		if (errno || end == owner || *end || want < 0) {
			api_error(rep, 400, "owner_uid: expected a Unix uid");
			goto out;
		}
	}
	if (task_list_args(limit, order_by, state, search, err, sizeof(err)) ||
	    api_list_parse(limit, http_request_arg(c->req, "offset"), NULL,
	                   http_request_arg(c->req, "order"), &q, err, sizeof(err))) {
		api_error(rep, 400, "%s", err);
		goto out;
	}
	/* id sorts in number order here; other columns in api_list_page. */
	if (order_by && strcmp(order_by, "id"))
		snprintf(q.order_by, sizeof(q.order_by), "%s", task_order_key(order_by));
	/* Users see their own tasks (none without a Unix uid); admins everyone's. */
	if (!c->who.admin)
		want = c->who.uid < 0 || (want >= 0 && want != c->who.uid) ? -2 : c->who.uid;
	rows = store_task_list(a->store, kind, err, sizeof(err));
	kept = json_array();
	if (!rows || !kept) {
		api_error(rep, 500, "%s", rows ? "out of memory" : err);
		goto out;
	}
	json_array_foreach (rows, i, row) {
		json_int_t uid = json_integer_value(json_object_get(row, "owner_uid"));
		if (want != -1 && (want < 0 || uid != want))
			continue;
		if (state && strcmp(task_str(row, "state"), state))
			continue;
		if (search && !task_matches(row, search))
			continue;
		if (json_array_append(kept, row)) {
			api_error(rep, 500, "out of memory");
			goto out;
		}
	}
	if (order_by && !strcmp(order_by, "id") && task_sort_by_id(kept, q.desc)) {
		api_error(rep, 500, "out of memory");
		goto out;
	}
	page = api_list_page(kept, &q, "task_id", &total, err, sizeof(err));
	if (!page) {
		api_error(rep, strcmp(err, "out of memory") ? 400 : 500, "%s", err);
		goto out;
	}
	if (limit)
		api_json(rep, 200,
		         json_pack("{s:o, s:{s:I, s:I, s:I}}", "tasks", page, "pagination", "total",
		                   (json_int_t)total, "offset", (json_int_t)q.offset, "limit",
		                   (json_int_t)q.limit));
	else
		api_json(rep, 200, json_pack("{s:o}", "tasks", page));
	page = NULL;
out:
	json_decref(rows);
	json_decref(kept);
	json_decref(page);
}

void api_task_get(struct app *a, struct api_call *c, struct http_reply *rep)
{
	struct store_task t;
	if (task_for(a, c, AUTHZ_TASK_READ, &t, rep))
		api_json(rep, 200, json_pack("{s:o}", "task", task_view(a->store, &t)));
}

void api_task_kill(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[256];
	struct store_task t;
	if (!task_for(a, c, AUTHZ_TASK_KILL, &t, rep))
		return;
	enum exp_status st = exp_task_kill(a, c->id, err, sizeof(err));
	if (st != EXP_OK) {
		api_exp_error(rep, st, err);
		return;
	}
	if (store_task_get(a->store, c->id, &t, err, sizeof(err)) != 1)
		api_error(rep, 500, "task %lld: %s", (long long)c->id, err);
	else
		api_json(rep, 200, json_pack("{s:o}", "task", task_view(a->store, &t)));
}

/* n bytes of buf without a UTF-8 sequence cut at its end. */
static size_t utf8_whole(const char *buf, size_t n)
{
	for (size_t back = 1; back <= 3 && back <= n; back++) {
		unsigned char b = (unsigned char)buf[n - back];
		if ((b & 0xC0) == 0x80)
			continue; /* a continuation byte: look further back */
		size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
		return need > back ? n - back : n;
	}
	return n;
}

/* text as a JSON string; bytes that are not UTF-8 become '?' (new reference). */
static json_t *log_text(char *buf, size_t n)
{
	json_t *s = json_stringn(buf, n);
	if (s)
		return s;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] >= 0x80 || buf[i] == 0)
			buf[i] = '?';
	return json_stringn(buf, n);
}

void api_task_logs(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *off_s = http_request_arg(c->req, "offset");
	const char *follow_s = http_request_arg(c->req, "follow");
	char err[4200], *end = NULL, *buf = NULL;
	long long offset = 0;
	struct store_task t;
	int fd = -1;
	ssize_t n = 0;

	if (off_s) {
		errno = 0;
		offset = strtoll(off_s, &end, 10);
	}
	if ((off_s && (errno || end == off_s || *end || offset < 0)) ||
	    (follow_s && strcmp(follow_s, "0") && strcmp(follow_s, "1"))) {
		api_error(rep, 400, "offset: a byte offset (integer >= 0); follow: 0 or 1");
		return;
	}
	if (!task_for(a, c, AUTHZ_TASK_READ, &t, rep))
		return;
	int over = !strcmp(t.state, "TERMINATED"); /* read before the file: no line lost */
	buf = malloc(TASK_LOGS_CHUNK);
	if (!buf) {
		api_error(rep, 500, "out of memory");
		return;
	}
	fd = exp_task_log_open(a, &t, err, sizeof(err));
	if (fd < 0 && errno == EPERM) /* not the owner's file: no output to show */
		log_msg(&a->log, LOG_LEVEL_WARN, "task %lld: %s", (long long)t.id, err);
	if (fd >= 0 && (n = pread(fd, buf, TASK_LOGS_CHUNK, (off_t)offset)) < 0)
		snprintf(err, sizeof(err), "%s", strerror(errno));
	if ((fd < 0 && errno != ENOENT && errno != EPERM) || n < 0) {
		api_error(rep, 500, "task %lld: its log cannot be read: %s", (long long)t.id, err);
		goto out;
	}
	if (n == 0 && !over && follow_s && !strcmp(follow_s, "1") && !c->req->shutting_down &&
	    http_now_ms() - c->req->first_call_ms < TASK_LOGS_FOLLOW_WAIT_S * 1000) {
		rep->again = 1;
		goto out;
	}
	size_t whole = utf8_whole(buf, (size_t)n);
	if (whole == 0)
		whole = (size_t)n; /* not UTF-8 at all: sent as '?' */
	api_json(rep, 200,
	         json_pack("{s:o, s:I, s:b, s:s}", "text", log_text(buf, whole), "offset",
	                   (json_int_t)(offset + (long long)whole), "done", over && n == 0, "state",
	                   t.state));
out:
	if (fd >= 0)
		close(fd);
	free(buf);
}

void api_task_context(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *auth = c->req->authorization;
	const char *tok = auth && !strncmp(auth, "Bearer ", 7) ? auth + 7 : NULL;
	unsigned char *data = NULL;
	size_t len = 0;
	char err[256];

	/* Only the job itself, with the token the master gave it: not even its owner. */
	enum exp_status st = exp_task_context(a, c->id, tok, &data, &len, err, sizeof(err));
	if (st != EXP_OK) {
		api_exp_error(rep, st, err);
		return;
	}
	free(rep->body);
	rep->body = (char *)data;
	rep->len = len;
	rep->status = 200;
	rep->content_type = "application/gzip";
}
