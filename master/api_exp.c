/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Experiment endpoints: create (YAML + base64 model definition), list with
 * filters/paging/sorting, describe, lifecycle, children, model definition,
 * preview. Reads come from the in-memory view under the app lock; writes go
 * through the engine (exp_*.c). Ownership: everyone reads, owners and admins change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "api_internal.h"
#include "api_list.h"
#include "authz.h"
#include "exp.h"
#include "fsm.h"
#include "list_select.h"
#include "template.h"
#include "workspace.h"
#include "store.h"

unsigned char *api_base64_decode(const char *in, size_t len, size_t *out_len)
{
	unsigned char *out = malloc(len / 4 * 3 + 3);
	unsigned int acc = 0;
	int bits = 0, pad = 0;
	size_t n = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char ch = in[i];
		int v;
		if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
			continue;
		if (ch == '=') {
			pad++;
			continue;
		}
		if (pad)
			goto bad; /* data after padding */
		if (ch >= 'A' && ch <= 'Z')
			v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			v = ch - '0' + 52;
		else if (ch == '+')
			v = 62;
		else if (ch == '/')
			v = 63;
		else
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (pad > 2)
		goto bad;
	*out_len = n;
	return out;
bad:
	free(out);
	return NULL;
}

/* Whether experiment c->id exists and the caller may read it (a non-user
 * credential: exists); fills 404 when not. */
static int exp_known(struct app *a, struct api_call *c, struct http_reply *rep)
{
	int found;
	if (c->who.kind == PRINCIPAL_USER) {
		found = workspace_exp_access(a, &c->who, c->id, AUTHZ_EXP_READ) == EXP_OK;
	} else {
		pthread_mutex_lock(&a->lock);
		found = exp_find_locked(a, c->id) != NULL;
		pthread_mutex_unlock(&a->lock);
	}
	if (!found)
		api_error(rep, 404, "experiment %lld not found", (long long)c->id);
	return found;
}

/* Whether the caller may change experiment c->id (authz.c, by its workspace's
 * roles); fills 404/403. Returns 1 when allowed. */
static int may_change(struct app *a, struct api_call *c, struct http_reply *rep)
{
	enum exp_status status = workspace_exp_access(a, &c->who, c->id, AUTHZ_EXP_CHANGE);
	if (status == EXP_NOT_FOUND)
		api_error(rep, 404, "experiment %lld not found", (long long)c->id);
	else if (status != EXP_OK)
		api_error(rep, 403, "user %s may not change experiment %lld", c->who.name,
		          (long long)c->id);
	return status == EXP_OK;
}

void api_exp_create(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *cfg = json_object_get(c->body, "config");
	json_t *md = json_object_get(c->body, "model_definition");
	json_t *act = json_object_get(c->body, "activate");
	unsigned char *model = NULL;
	size_t mlen = 0;
	json_t *out = NULL;
	char err[8192];

	if (c->who.uid < 0 && geteuid() == 0 && !strcmp(a->rm->ops->name, "local")) {
		/* The local manager runs each trial as its owner's Unix user: there is none. */
		api_error(rep, 403,
		          "user %s has no Unix account on this machine, and the local resource "
		          "manager runs trials as their owner's Unix user: create experiments as "
		          "a Unix user (over the master's Unix socket, or with MUNGE)",
		          c->who.name);
		return;
	}
	if (!json_is_string(cfg)) {
		api_error(rep, 400, "config: expected the experiment YAML as a string");
		return;
	}
	if (md && !json_is_null(md)) {
		if (!json_is_string(md)) {
			api_error(rep, 400, "model_definition: expected base64 text");
			return;
		}
		model = api_base64_decode(json_string_value(md), json_string_length(md), &mlen);
		if (!model) {
			api_error(rep, 400, "model_definition: not valid base64");
			return;
		}
		if (mlen > API_MAX_MODEL_BYTES) {
			free(model);
			api_error(rep, 413, "model_definition: %zu bytes, over the %ld byte limit",
			          mlen, API_MAX_MODEL_BYTES);
			return;
		}
		/* Its base64 text is as large as the body: not kept while the model is stored. */
		json_object_del(c->body, "model_definition");
	}
	if (act && !json_is_boolean(act)) {
		free(model);
		api_error(rep, 400, "activate: expected true or false");
		return;
	}
	json_t *sub = json_object_get(c->body, "submit");
	const char *subs = json_string_value(sub);
	if (sub && (!subs || (strcmp(subs, "master") && strcmp(subs, "client")))) {
		free(model);
		api_error(rep, 400, "submit: expected \"master\" or \"client\"");
		return;
	}
	json_t *proj = json_object_get(c->body, "project");
	if (proj && !json_is_string(proj)) {
		free(model);
		api_error(rep, 400, "project: expected an id or \"WORKSPACE/PROJECT\" as a string");
		return;
	}
	json_t *tmpl = json_object_get(c->body, "template");
	char *merged = NULL;
	if (tmpl && !json_is_string(tmpl)) {
		free(model);
		api_error(rep, 400, "template: expected a template name");
		return;
	}
	if (tmpl) {
		/* The template under the config, the config winning (doc/collaboration.md). */
		enum exp_status ts =
		    template_apply(a, &c->who, json_string_value(tmpl), json_string_value(cfg),
		                   json_string_length(cfg), &merged, err, sizeof(err));
		if (ts != EXP_OK) {
			free(model);
			api_exp_error(rep, ts, err);
			return;
		}
	}
	enum exp_status status =
	    exp_create(a, &c->who, merged ? merged : json_string_value(cfg),
	               merged ? strlen(merged) : json_string_length(cfg), model, mlen,
	               act ? json_is_true(act) : 1, subs && !strcmp(subs, "client"),
	               json_string_value(proj), 0, &out, err, sizeof(err));
	free(merged);
	free(model);
	api_exp_answer(rep, status, out, err);
}

struct sort_by {
	const char *key;
	int desc;
};

/* An experiment in a list being sorted, with its key (string or number). */
struct list_item {
	struct exp_rt *e;
	const char *s;
	double d;
	int64_t id;
};

/* By key, then by id, both in the order asked for. */
static int cmp_items(const void *pa, const void *pb, void *ctx)
{
	const struct sort_by *sb = ctx;
	const struct list_item *x = pa, *y = pb;
	int r = x->s && y->s ? strcmp(x->s, y->s) : (x->d > y->d) - (x->d < y->d);
	if (!r)
		r = (x->id > y->id) - (x->id < y->id);
	return sb->desc ? -r : r;
}

/* Trials of e that have ended. */
static int trials_ended(const struct exp_rt *e)
{
	int n = 0;
	for (int i = 0; i < e->trials_cap; i++)
		n += e->trials[i] && fsm_is_terminal(e->trials[i]->state);
	return n;
}

/* A user's id and name (the name is a key of a->users: valid under the lock). */
struct user_name {
	int64_t id;
	const char *name;
};

static int cmp_user_id(const void *pa, const void *pb)
{
	const struct user_name *x = pa, *y = pb;
	return (x->id > y->id) - (x->id < y->id);
}

/* Every user, by id (malloc'd, *n of them; NULL when out of memory) (lock held). */
static struct user_name *user_names_locked(struct app *a, size_t *n)
{
	struct user_name *names = malloc((json_object_size(a->users) + 1) * sizeof(*names));
	const char *name;
	json_t *u;
	*n = 0;
	if (!names)
		return NULL;
	json_object_foreach (a->users, name, u) {
		names[*n].id = json_integer_value(json_object_get(u, "id"));
		names[(*n)++].name = name;
	}
	qsort(names, *n, sizeof(*names), cmp_user_id);
	return names;
}

/* The name of user id in names ("" when unknown). */
static const char *user_name(const struct user_name *names, size_t n, int64_t id)
{
	struct user_name key = {.id = id};
	const struct user_name *u = bsearch(&key, names, n, sizeof(*names), cmp_user_id);
	return u ? u->name : "";
}

/* The sort key of e for sort, from its typed fields (app.h): a row field,
 * "owner": the owner's name, or "trials": trials ended. */
static void list_key(struct list_item *it, const char *sort, const struct user_name *names,
                     size_t nnames)
{
	const struct exp_rt *e = it->e;
	it->id = e->id;
	it->s = NULL;
	it->d = 0;
	if (!strcmp(sort, "owner"))
		it->s = user_name(names, nnames, e->owner_id);
	else if (!strcmp(sort, "trials"))
		it->d = trials_ended(e);
	else if (!strcmp(sort, "name"))
		it->s = e->name;
	else if (!strcmp(sort, "state"))
		it->s = fsm_state_name(e->state);
	else if (!strcmp(sort, "created_at"))
		it->d = e->created_at;
	else if (!strcmp(sort, "ended_at"))
		it->d = e->ended_at;
	else if (!strcmp(sort, "progress"))
		it->d = e->progress;
	else
		it->d = (double)e->id;
}

/* Case-insensitive: does s hold needle? */
static int holds(const char *s, const char *needle)
{
	return s && strcasestr(s, needle) != NULL;
}

/* search: part of the name, description, a label, the owner's name or the state. */
static int list_matches(const struct exp_rt *e, const char *needle, const struct user_name *names,
                        size_t nnames)
{
	size_t i;
	json_t *l;
	if (holds(e->name, needle) || holds(fsm_state_name(e->state), needle) ||
	    holds(e->description, needle))
		return 1;
	json_array_foreach (e->labels, i, l) {
		if (holds(json_string_value(l), needle))
			return 1;
	}
	return holds(user_name(names, nnames, e->owner_id), needle);
}

/* a->exps as an array (lock held), rebuilt when an experiment joined or left
 * since the last list: walking 100,000 scattered list nodes one after the
 * other waits on memory at every step, an array lets the loads overlap.
 * 0, or -1 when out of memory. */
static int exps_vec_locked(struct app *a)
{
	size_t n = 0;
	if (a->exps_vec && !a->exps_vec_stale)
		return 0;
	for (struct exp_rt *e = a->exps; e; e = e->next)
		n++;
	struct exp_rt **v = realloc(a->exps_vec, (n ? n : 1) * sizeof(*v));
	if (!v)
		return -1;
	a->exps_vec = v;
	n = 0;
	for (struct exp_rt *e = a->exps; e; e = e->next)
		v[n++] = e;
	a->exps_vec_n = n;
	a->exps_vec_stale = 0;
	return 0;
}

/* Read access decided once per (project, caller owns it): what
 * workspace_exp_allowed_locked decides on (the project's workspace roles and
 * the owner), so a list of 100,000 asks it a few times, not 100,000. */
#define LIST_ACCESS_MEMO 32
struct list_access {
	int n;
	struct {
		int64_t project_id;
		int own, allowed;
	} memo[LIST_ACCESS_MEMO];
};

static int list_may_read(struct app *a, const struct principal *who, struct exp_rt *e,
                         struct list_access *acc)
{
	int own = e->owner_id == who->user_id;
	for (int i = 0; i < acc->n; i++) {
		if (acc->memo[i].project_id == e->project_id && acc->memo[i].own == own)
			return acc->memo[i].allowed;
	}
	int allowed = workspace_exp_allowed_locked(a, who, e, AUTHZ_EXP_READ);
	if (acc->n < LIST_ACCESS_MEMO) {
		acc->memo[acc->n].project_id = e->project_id;
		acc->memo[acc->n].own = own;
		acc->memo[acc->n++].allowed = allowed;
	}
	return allowed;
}

static int has_label(json_t *labels, const char *label)
{
	size_t i;
	json_t *l;
	json_array_foreach (labels, i, l) {
		if (json_is_string(l) && !strcmp(json_string_value(l), label))
			return 1;
	}
	return 0;
}

static int parse_nonneg(const char *s, long max, long *out)
{
	char *end;
	long v;
	if (!s)
		return 0;
	v = strtol(s, &end, 10);
	if (*end || end == s || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

void api_exp_list(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *state = http_request_arg(c->req, "state");
	const char *label = http_request_arg(c->req, "label");
	const char *owner = http_request_arg(c->req, "owner");
	const char *project = http_request_arg(c->req, "project");
	const char *archived = http_request_arg(c->req, "archived");
	const char *sort = http_request_arg(c->req, "sort");
	const char *order = http_request_arg(c->req, "order");
	const char *search = http_request_arg(c->req, "search");
	long limit = 100, offset = 0;
	static const char *const sortable[] = {"id",       "name",     "state", "created_at",
	                                       "progress", "ended_at", "owner", "trials"};
	int sort_ok = !sort;

	if (parse_nonneg(http_request_arg(c->req, "limit"), 1000, &limit) ||
	    parse_nonneg(http_request_arg(c->req, "offset"), 1L << 30, &offset)) {
		api_error(rep, 400, "limit (0..1000) and offset must be non-negative integers");
		return;
	}
	if (state && fsm_state_parse(state) < 0) {
		api_error(rep, 400, "state: unknown state %s", state);
		return;
	}
	if (search && strlen(search) > 256) {
		api_error(rep, 400, "search: at most 256 characters");
		return;
	}
	if (search && !*search)
		search = NULL;
	for (size_t i = 0; sort && i < sizeof(sortable) / sizeof(sortable[0]); i++)
		sort_ok |= !strcmp(sort, sortable[i]);
	if (!sort_ok || (order && strcmp(order, "asc") && strcmp(order, "desc"))) {
		api_error(rep, 400,
		          "sort: one of id, name, state, created_at, progress, ended_at, owner,"
		          " trials; order: asc or desc");
		return;
	}
	/* Filter on the experiments' typed fields (app.h) in an array of them,
	 * select the page (list_select.h), then build views for the page alone:
	 * JSON lookups in every row and a sort of all of them made a page of
	 * 100,000 experiments cost a third of a second of the master's lock. */
	pthread_mutex_lock(&a->lock);
	size_t n = 0, nnames = 0;
	struct list_item *items = NULL;
	struct user_name *names = NULL;
	json_t *page = json_array();
	int64_t owner_id = -1, project_id = 0;
	enum exp_status status = EXP_INTERNAL;
	char ferr[512] = "out of memory";
	if (!page || exps_vec_locked(a))
		goto fail;
	items = malloc((a->exps_vec_n ? a->exps_vec_n : 1) * sizeof(*items));
	names = user_names_locked(a, &nnames);
	if (!items || !names)
		goto fail;
	if (project) {
		status = EXP_NOT_FOUND;
		project_id = workspace_project_find_locked(a, project, &status, ferr, sizeof(ferr));
		if (!project_id)
			goto fail;
	}
	if (owner) {
		json_t *u = json_object_get(a->users, owner);
		owner_id = u ? json_integer_value(json_object_get(u, "id")) : 0;
	}
	int hide_archived = !archived || !strcmp(archived, "0") || !strcmp(archived, "false");
	int want_state = state ? fsm_state_parse(state) : -1;
	struct list_access acc = {.n = 0};
	for (size_t i = 0; i < a->exps_vec_n; i++) {
		struct exp_rt *e = a->exps_vec[i];
		if (i + 8 < a->exps_vec_n)
			__builtin_prefetch(a->exps_vec[i + 8]);
		if (state && (int)e->state != want_state)
			continue;
		if (owner && e->owner_id != owner_id)
			continue;
		if (project && e->project_id != project_id)
			continue;
		if (hide_archived && e->archived)
			continue;
		if (!list_may_read(a, &c->who, e, &acc))
			continue;
		if (label && !has_label(e->labels, label))
			continue;
		if (search && !list_matches(e, search, names, nnames))
			continue;
		items[n].e = e;
		list_key(&items[n++], sort ? sort : "id", names, nnames);
	}
	struct sort_by sb = {sort ? sort : "id", order ? !strcmp(order, "desc") : !sort};
	size_t got = list_select_first(items, n, sizeof(*items), (size_t)offset + (size_t)limit,
	                               cmp_items, &sb);
	for (size_t i = (size_t)offset; i < got; i++)
		json_array_append_new(page, exp_view_locked(items[i].e, 0));
	pthread_mutex_unlock(&a->lock);
	free(names);
	free(items);
	api_json(rep, 200,
	         json_pack("{s:o, s:{s:I, s:i, s:i}}", "experiments", page, "pagination", "total",
	                   (json_int_t)n, "offset", (int)offset, "limit", (int)limit));
	return;
fail:
	pthread_mutex_unlock(&a->lock);
	free(names);
	free(items);
	json_decref(page);
	api_exp_error(rep, status, ferr);
}

void api_exp_get(struct app *a, struct api_call *c, struct http_reply *rep)
{
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find_locked(a, c->id);
	json_t *v = e && workspace_exp_allowed_locked(a, &c->who, e, AUTHZ_EXP_READ)
	                ? exp_view_locked(e, 1)
	                : NULL;
	pthread_mutex_unlock(&a->lock);
	/* the images its trials run in, by slot type (doc/containers.md) */
	json_t *digests = json_object_get(
	    json_object_get(json_object_get(v, "config"), "environment"), "image_digest");
	if (v && json_object_size(digests)) {
		json_t *shown = json_object(), *d;
		const char *slot;
		json_object_foreach (digests, slot, d) {
			json_object_set_new(shown, slot,
			                    json_pack("s+", "sha256:", json_string_value(d) ?: ""));
		}
		json_object_set_new(v, "image_digests", shown);
	}
	if (!v)
		api_error(rep, 404, "experiment %lld not found", (long long)c->id);
	else
		api_json(rep, 200, json_pack("{s:o}", "experiment", v));
}

static void lifecycle(struct app *a, struct api_call *c, struct http_reply *rep, enum fsm_event ev)
{
	char err[512];
	if (!may_change(a, c, rep))
		return;
	enum exp_status status = exp_user_event(a, c->id, ev, err, sizeof(err));
	if (status != EXP_OK) {
		api_exp_error(rep, status, err);
		return;
	}
	api_exp_get(a, c, rep);
}

void api_exp_activate(struct app *a, struct api_call *c, struct http_reply *rep)
{
	lifecycle(a, c, rep, FSM_EV_ACTIVATE);
}
void api_exp_pause(struct app *a, struct api_call *c, struct http_reply *rep)
{
	lifecycle(a, c, rep, FSM_EV_PAUSE);
}
void api_exp_cancel(struct app *a, struct api_call *c, struct http_reply *rep)
{
	lifecycle(a, c, rep, FSM_EV_CANCEL);
}
void api_exp_kill(struct app *a, struct api_call *c, struct http_reply *rep)
{
	lifecycle(a, c, rep, FSM_EV_KILL);
}

static void archive(struct app *a, struct api_call *c, struct http_reply *rep, int on)
{
	char err[512];
	if (!may_change(a, c, rep))
		return;
	enum exp_status status = exp_set_archived(a, c->id, on, err, sizeof(err));
	if (status != EXP_OK)
		api_exp_error(rep, status, err);
	else
		api_exp_get(a, c, rep);
}

void api_exp_archive(struct app *a, struct api_call *c, struct http_reply *rep)
{
	archive(a, c, rep, 1);
}
void api_exp_unarchive(struct app *a, struct api_call *c, struct http_reply *rep)
{
	archive(a, c, rep, 0);
}

void api_exp_delete(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[512];
	if (!may_change(a, c, rep))
		return;
	enum exp_status status = exp_delete(a, c->id, err, sizeof(err));
	api_exp_answer(rep, status, NULL, err);
}

/* The query's list view of rows (consumed): {"KEY": page, "pagination"}, or a 400. */
static void list_answer(struct api_call *c, struct http_reply *rep, const char *key, json_t *rows,
                        const char *default_order, const char *tie)
{
	struct api_list_query q;
	size_t total = 0;
	char err[256];
	json_t *page = NULL;

	if (api_list_parse(http_request_arg(c->req, "limit"), http_request_arg(c->req, "offset"),
	                   http_request_arg(c->req, "order_by"), http_request_arg(c->req, "order"),
	                   &q, err, sizeof(err))) {
		api_error(rep, 400, "%s", err);
		goto out;
	}
	if (!q.order_by[0] && default_order)
		snprintf(q.order_by, sizeof(q.order_by), "%s", default_order);
	page = api_list_page(rows, &q, tie, &total, err, sizeof(err));
	if (!page) {
		api_error(rep, strcmp(err, "out of memory") ? 400 : 500, "%s", err);
		goto out;
	}
	api_json(rep, 200,
	         json_pack("{s:o, s:{s:I, s:I, s:I}}", key, page, "pagination", "total",
	                   (json_int_t)total, "offset", (json_int_t)q.offset, "limit",
	                   (json_int_t)(q.limit < 0 ? (long)total : q.limit)));
out:
	json_decref(rows);
}

#define API_TRIAL_IDS_MAX 1000

static int cmp_id(const void *x, const void *y)
{
	int64_t p = *(const int64_t *)x, q = *(const int64_t *)y;
	return p < q ? -1 : p > q;
}

/* The trial_ids filter "1,2,3" into ids (sorted, *n of them, at most
 * API_TRIAL_IDS_MAX); 0, or -1 with the reason in err. */
static int parse_trial_ids(const char *s, int64_t *ids, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	for (;;) {
		char *end = (char *)s;
		long long v = 0;
		errno = 0;
		if (*s >= '0' && *s <= '9')
			v = strtoll(s, &end, 10);
		if (errno || v <= 0 || (*end && *end != ','))
			goto fail;
		if (*n == API_TRIAL_IDS_MAX) {
			snprintf(err, errlen, "trial_ids: at most %d ids", API_TRIAL_IDS_MAX);
			return -1;
		}
		ids[(*n)++] = v;
		if (!*end)
			break;
		s = end + 1;
	}
	qsort(ids, *n, sizeof(*ids), cmp_id);
	return 0;
fail:
	snprintf(err, errlen,
	         "trial_ids: expected trial ids (positive integers) separated by commas");
	return -1;
}

void api_exp_trials(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *filter = http_request_arg(c->req, "trial_ids");
	int64_t *ids = NULL;
	size_t nids = 0;
	char err[256];
	json_t *out = NULL;

	if (filter) {
		ids = malloc(API_TRIAL_IDS_MAX * sizeof(*ids));
		if (!ids) {
			api_error(rep, 500, "out of memory");
			return;
		}
		if (parse_trial_ids(filter, ids, &nids, err, sizeof(err))) {
			free(ids);
			api_error(rep, 400, "%s", err);
			return;
		}
	}
	out = json_array();
	if (!out) {
		free(ids);
		api_error(rep, 500, "out of memory");
		return;
	}
	pthread_mutex_lock(&a->lock);
	struct exp_rt *e = exp_find_locked(a, c->id);
	if (e && !workspace_exp_allowed_locked(a, &c->who, e, AUTHZ_EXP_READ))
		e = NULL;
	if (e) {
		for (int i = 0; i < e->trials_cap; i++) {
			struct exp_trial *t = e->trials[i];
			if (t && (!ids || bsearch(&t->id, ids, nids, sizeof(*ids), cmp_id)))
				json_array_append_new(out, exp_trial_view(t));
		}
	}
	pthread_mutex_unlock(&a->lock);
	free(ids);
	if (!e) {
		json_decref(out);
		api_error(rep, 404, "experiment %lld not found", (long long)c->id);
		return;
	}
	list_answer(c, rep, "trials", out, "trial_index", "id");
}

void api_exp_checkpoints(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[256];
	size_t i, j;
	json_t *row, *f;
	if (!exp_known(a, c, rep))
		return;
	json_t *rows = store_checkpoints_metrics(a->store, c->id, err, sizeof(err));
	if (!rows) {
		api_error(rep, 500, "%s", err);
		return;
	}
	json_array_foreach (rows, i, row) { /* the total size, to show and sort by */
		json_int_t size = 0;
		json_array_foreach (json_object_get(row, "files"), j, f)
			size += json_integer_value(json_object_get(f, "size"));
		json_object_set_new(row, "size_bytes", json_integer(size));
	}
	list_answer(c, rep, "checkpoints", rows, NULL, "uuid");
}

void api_exp_model_def(struct app *a, struct api_call *c, struct http_reply *rep)
{
	void *data;
	size_t len;
	char err[256];

	if (c->who.kind != PRINCIPAL_USER && c->who.experiment_id != c->id) {
		api_error(rep, 403, "this token belongs to experiment %lld",
		          (long long)c->who.experiment_id);
		return;
	}
	if (!exp_known(a, c, rep))
		return;
	if (store_model_def(a->store, c->id, &data, &len, err, sizeof(err))) {
		if (err[0])
			api_error(rep, 500, "%s", err);
		else
			api_error(rep, 404, "experiment %lld has no model definition",
			          (long long)c->id);
		return;
	}
	free(rep->body);
	rep->body = data;
	rep->len = len;
	rep->status = 200;
	rep->content_type = "application/gzip";
}

void api_claim(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *task = json_object_get(c->body, "array_task");
	json_t *out = NULL;
	char err[512];

	if (c->who.kind == PRINCIPAL_TRIAL ||
	    (c->who.kind == PRINCIPAL_ALLOCATION && c->who.experiment_id != c->id)) {
		api_error(rep, 403, "this credential cannot claim for experiment %lld",
		          (long long)c->id);
		return;
	}
	if (c->who.kind == PRINCIPAL_USER && !may_change(a, c, rep))
		return;
	if (!json_is_integer(task) || json_integer_value(task) < 0 ||
	    json_integer_value(task) > 1000000000) {
		api_error(rep, 400, "array_task: expected a non-negative integer");
		return;
	}
	json_t *slot = json_object_get(c->body, "slot_type");
	const char *st = slot ? json_string_value(slot) : "cpu";
	if (!st || (strcmp(st, "cpu") && strcmp(st, "cuda") && strcmp(st, "rocm"))) {
		api_error(rep, 400, "slot_type: expected cpu, cuda or rocm");
		return;
	}
	enum exp_status status =
	    exp_claim(a, c->id, (int)json_integer_value(task), &out, err, sizeof(err));
	if (status != EXP_OK) {
		api_exp_error(rep, status, err);
		return;
	}
	/* the image digest the trial runs in, recorded with the trial */
	const char *hex = json_string_value(json_object_get(
	    json_object_get(json_object_get(out, "environment"), "image_digest"), st));
	json_t *row = hex ? json_pack("{s:O, s:s}", "id", json_object_get(out, "trial_id"),
	                              "image_digest", hex)
	                  : NULL;
	struct store_op op = {.kind = STORE_UPDATE, .table = "trials", .row = row};
	if (row && store_write(a->store, &op, 1, err, sizeof(err))) {
		json_decref(row);
		json_decref(out);
		api_error(rep, 503, "%s", err);
		return;
	}
	json_decref(row);
	api_json(rep, 200, out);
}

void api_preview(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *cfg = json_object_get(c->body, "config");
	json_t *out = NULL;
	char err[8192];

	if (!json_is_string(cfg)) {
		api_error(rep, 400, "config: expected the experiment YAML as a string");
		return;
	}
	int status =
	    exp_preview(json_string_value(cfg), json_string_length(cfg), &out, err, sizeof(err));
	api_exp_answer(rep, status, out, err);
}
