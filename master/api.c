/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * REST routing and the handlers that are not about experiments: health,
 * master info, Prometheus metrics, login and users. The route table maps
 * (method, pattern) to a handler and what credential it needs; patterns use
 * "{id}" segments that must be positive integers ("{uuid}" any segment).
 * The non-obvious decision: authentication happens here, once, before any
 * handler runs, so a handler can never forget it; admit() does it from the
 * headers, with the rate limits and quotas, before the server reads a body.
 */
#include <config.h>

#include "api.h"
#include "api_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "exp.h"
#include "fsm.h"
#include "json_fast.h"
#include "rate_limits.h"
#include "static.h"
#include "task_proxy.h"
#include "workspace.h"

void api_error(struct http_reply *rep, int status, const char *fmt, ...)
{
	static const struct {
		int status;
		const char *code;
	} codes[] = {{400, "invalid_argument"},   {401, "unauthenticated"},
	             {403, "permission_denied"},  {404, "not_found"},
	             {405, "method_not_allowed"}, {409, "failed_precondition"},
	             {413, "too_large"},          {429, "resource_exhausted"},
	             {500, "internal"},           {503, "unavailable"}};
	const char *code = "internal";
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* A write the store could not make now (disk full): the client retries. */
	if (status == 500 && strstr(msg, STORE_ERR_UNAVAILABLE))
		status = 503;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].status == status)
			code = codes[i].code;
	/* Messages may quote client bytes: keep them printable ASCII (valid JSON). */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	json_t *j = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
	free(rep->body);
	rep->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	rep->len = rep->body ? strlen(rep->body) : 0;
	rep->status = status;
	json_decref(j);
}

/* 429 with the message, and Retry-After when wait_s is not 0. */
static void too_many(struct http_reply *rep, unsigned wait_s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void too_many(struct http_reply *rep, unsigned wait_s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_error(rep, 429, "%s", msg);
	if (wait_s)
		http_reply_header(rep, "Retry-After", "%u", wait_s);
}

int api_exp_http_status(enum exp_status s)
{
	switch (s) {
	case EXP_OK:
		return 200;
	case EXP_NOT_FOUND:
		return 404;
	case EXP_CONFLICT:
		return 409;
	case EXP_FORBIDDEN:
		return 403;
	case EXP_INVALID:
		return 400;
	case EXP_UNAVAILABLE:
		return 503;
	case EXP_INTERNAL:
		break;
	}
	return 500;
}

void api_exp_error(struct http_reply *rep, enum exp_status s, const char *err)
{
	api_error(rep, api_exp_http_status(s), "%s", err);
}

void api_exp_answer(struct http_reply *rep, enum exp_status status, json_t *out, const char *err)
{
	if (status == EXP_OK)
		api_json(rep, 200, out);
	else
		api_exp_error(rep, status, err);
}

void api_json(struct http_reply *rep, int status, json_t *body)
{
	free(rep->body);
	rep->body = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("{}");
	rep->len = rep->body ? strlen(rep->body) : 0;
	rep->status = rep->body ? status : 500;
	json_decref(body);
}

json_t *api_body(const struct http_request *req, struct http_reply *rep)
{
	json_error_t je;
	json_t *j;
	if (!req->body || !req->body_len) {
		api_error(rep, 400, "a JSON object body is required");
		return NULL;
	}
	/* Plain bodies (every metric report) take the fast path; it builds
	 * what json_loadb would, and leaves the rest and every error to it. */
	j = json_fast_object(req->body, req->body_len);
	if (!j)
		j = json_loadb(req->body, req->body_len, 0, &je);
	if (!j) {
		api_error(rep, 400, "malformed JSON at line %d column %d: %s", je.line, je.column,
		          je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		api_error(rep, 400, "the body must be a JSON object");
		return NULL;
	}
	return j;
}

/* ---- users and tokens --------------------------------------------------- */

static json_t *user_by_id_locked(struct app *a, int64_t id)
{
	const char *k;
	json_t *u;
	json_object_foreach (a->users, k, u) {
		if (json_integer_value(json_object_get(u, "id")) == id)
			return u;
	}
	return NULL;
}

/* The Unix uid a det user is bound to, -1 for none. */
static long user_uid(json_t *u)
{
	json_t *x = json_object_get(u, "uid");
	return json_is_integer(x) ? (long)json_integer_value(x) : -1;
}

/* Create a user row (lock held). NULL with err. */
static json_t *user_create_locked(struct app *a, const char *name, const char *password, int admin,
                                  long uid, char *err, size_t errlen)
{
	char hash[256] = "";
	int64_t id = 1;
	const char *k;
	json_t *u;

	if (password && auth_hash_password(password, hash, sizeof(hash), err, errlen))
		return NULL;
	json_object_foreach (a->users, k, u) {
		int64_t x = json_integer_value(json_object_get(u, "id"));
		if (x >= id)
			id = x + 1;
	}
	u = json_pack("{s:I, s:s, s:s?, s:b, s:o, s:f}", "id", (json_int_t)id, "name", name,
	              "password_hash", password ? hash : NULL, "admin", admin, "uid",
	              uid >= 0 ? json_integer(uid) : json_null(), "created_at", app_now());
	if (!u) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!json_object_get(u, "password_hash"))
		json_object_set_new(u, "password_hash", json_null());
	struct store_op op = {.kind = STORE_PUT, .table = "users", .row = u};
	if (store_write(a->store, &op, 1, err, errlen)) {
		json_decref(u);
		return NULL;
	}
	json_object_set_new(a->users, name, u);
	return u;
}

/* The login and request rate limits of the master config, and the hash that
 * an unknown user's password is checked against. 0 or -1 with err. */
static int limits_init(struct app *a, char *err, size_t errlen)
{
	const struct master_limits *m = &a->cfg->limits;
	struct limits_rate rates[LIMITS_NKINDS] = {
	    [LIMITS_LOGIN_ADDRESS] = {m->login_failures_per_minute_per_address / 60.0,
	                              m->login_failures_per_minute_per_address},
	    [LIMITS_LOGIN_USER] = {m->login_failures_per_minute_per_user / 60.0,
	                           m->login_failures_per_minute_per_user},
	    [LIMITS_USER_REQUESTS] = {m->user_requests_per_second, m->user_request_burst},
	};
	char pw[33];

	if (auth_new_password(pw, sizeof(pw) - 1) ||
	    auth_hash_password(pw, a->login_dummy_hash, sizeof(a->login_dummy_hash), err, errlen))
		return -1;
	a->limits = limits_new(rates, m->login_max_concurrent);
	if (!a->limits) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	limits_body_budget(a->limits, (uint64_t)m->body_mib_in_flight_per_user << 20,
	                   (uint64_t)m->body_mib_in_flight << 20);
	return 0;
}

int api_auth_init(struct app *a, char *err, size_t errlen)
{
	json_t *users = store_load_table(a->store, "users", err, errlen);
	json_t *tokens = users ? store_load_table(a->store, "tokens", err, errlen) : NULL;
	size_t i;
	json_t *r;
	int rv = -1;

	if (!tokens || limits_init(a, err, errlen))
		goto out;
	json_array_foreach (users, i, r) {
		json_object_set_new(r, "admin",
		                    json_boolean(json_integer_value(json_object_get(r, "admin"))));
		json_object_set(a->users, json_string_value(json_object_get(r, "name")), r);
	}
	json_array_foreach (tokens, i, r) {
		/* In memory a token's hash maps to who it is (the store keeps only hashes). */
		char *tok = strdup(json_string_value(json_object_get(r, "token")));
		if (!tok)
			goto out;
		json_object_del(r, "token");
		json_object_del(r, "created_at");
		json_object_set(a->tokens, tok, r);
		free(tok);
	}
	json_t *admin = json_object_get(a->users, "admin");
	if (admin && user_uid(admin) != (long)geteuid()) {
		/* The built-in admin is the master's own uid (a store from a master that
		 * ran as another user is rebound). */
		json_t *row = json_pack("{s:O, s:I}", "id", json_object_get(admin, "id"), "uid",
		                        (json_int_t)geteuid());
		struct store_op op = {.kind = STORE_UPDATE, .table = "users", .row = row};
		if (!row)
			snprintf(err, errlen, "out of memory");
		int rc = !row || store_write(a->store, &op, 1, err, errlen);
		json_decref(row);
		if (rc)
			goto out;
		json_object_set_new(admin, "uid", json_integer(geteuid()));
	}
	if (!admin) {
		char pw[21], path[4096];
		if (auth_new_password(pw, 20) ||
		    !user_create_locked(a, "admin", pw, 1, (long)geteuid(), err, errlen))
			goto out;
		snprintf(path, sizeof(path), "%s/admin-password", a->cfg->state_dir);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || dprintf(fd, "%s\n", pw) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
		close(fd);
		printf("det-master: created user \"admin\" with password %s\n"
		       "det-master: (also in %s); log in with: det user login admin\n",
		       pw, path);
		fflush(stdout);
	}
	rv = 0;
out:
	json_decref(users);
	json_decref(tokens);
	return rv;
}

/* The det user bound to a Unix uid, or NULL. The built-in admin is bound to the
 * master's own uid (root, or the ordinary user running it); every other det user
 * is found by its uid column only, never by name. Lock held. */
static json_t *user_by_uid_locked(struct app *a, uid_t uid)
{
	const char *k;
	json_t *u;

	if (uid == geteuid() && (u = json_object_get(a->users, "admin")))
		return u;
	json_object_foreach (a->users, k, u) {
		json_t *x = json_object_get(u, "uid");
		if (json_is_integer(x) && json_integer_value(x) == (json_int_t)uid &&
		    strcmp(k, "admin"))
			return u;
	}
	return NULL;
}

/* The det user of a Unix uid, created on first contact and named after the account;
 * when another det user has that name already, "NAME-uidUID" (then "uidUID", then
 * "uidUID-N"): a name never carries another user's rights. Lock held. */
static json_t *user_of_uid_locked(struct app *a, uid_t uid, char *err, size_t errlen)
{
	char buf[4096], name[96];
	struct passwd pw, *res = NULL;
	json_t *u = user_by_uid_locked(a, uid);

	if (u)
		return u;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res && strlen(res->pw_name) < 64)
		snprintf(name, sizeof(name), "%s", res->pw_name);
	else
		snprintf(name, sizeof(name), "uid%u", (unsigned)uid);
	if (json_object_get(a->users, name) && res)
		snprintf(name, sizeof(name), "%s-uid%u", res->pw_name, (unsigned)uid);
	if (json_object_get(a->users, name))
		snprintf(name, sizeof(name), "uid%u", (unsigned)uid);
	for (int n = 2; json_object_get(a->users, name) && n < 1000; n++)
		snprintf(name, sizeof(name), "uid%u-%d", (unsigned)uid, n);
	if (json_object_get(a->users, name)) {
		snprintf(err, errlen, "uid %u: no free det user name", (unsigned)uid);
		return NULL;
	}
	return user_create_locked(a, name, NULL, 0, (long)uid, err, errlen);
}

/* Is u an admin: the built-in admin, a user made admin, or a uid in the config's
 * admins list. Lock held. */
static int user_is_admin(struct app *a, json_t *u)
{
	json_t *uid = json_object_get(u, "uid"), *x;
	size_t i;

	if (json_is_true(json_object_get(u, "admin")))
		return 1;
	json_array_foreach (a->cfg->admin_uids, i, x) {
		if (json_is_integer(uid) && json_integer_value(x) == json_integer_value(uid))
			return 1;
	}
	return 0;
}

/* A master run by an ordinary user serves only that user: 1 when uid may call. */
static int uid_served(long uid)
{
	return geteuid() == 0 || uid == (long)geteuid();
}

/* Why a known token (a tokens row t, or the trial tr holding it) is no longer
 * accepted, or NULL: a user token past its expiry; a trial token whose trial
 * has ended; an allocation or trial token whose experiment has ended. Lock held. */
static const char *token_refusal_locked(struct app *a, json_t *t, const struct exp_trial *tr)
{
	json_t *exp_at = t ? json_object_get(t, "expires_at") : NULL;
	if (json_is_number(exp_at) && app_now() >= json_number_value(exp_at))
		return "token expired: log in again";
	if (t && !tr) {
		const char *kind = json_string_value(json_object_get(t, "kind"));
		if (kind && !strcmp(kind, "trial"))
			tr = exp_index_by_id(&a->trial_ix,
			                     json_integer_value(json_object_get(t, "trial_id")));
	}
	if (tr && fsm_is_terminal(tr->state))
		return "token revoked: its trial has ended";
	if (t && json_integer_value(json_object_get(t, "experiment_id")) > 0) {
		struct exp_rt *e =
		    exp_find_locked(a, json_integer_value(json_object_get(t, "experiment_id")));
		if (!e || fsm_is_terminal(e->state))
			return "token revoked: its experiment has ended";
	}
	return NULL;
}

/* ---- browser sessions ------------------------------------------------------ *
 * A password login also sets det_session (the token: HttpOnly, SameSite=Strict,
 * so scripts cannot read it and other sites do not send it) and det_csrf (a
 * value derived from the token that the page's script reads and sends back in
 * X-Det-CSRF). A request authenticated by the cookie alone must carry that
 * header unless it is a GET or HEAD: another site can make a browser send the
 * cookie (older browsers), but cannot read det_csrf to forge the header. Under
 * /proxy/ (a task's pages, which do not know that header) the browser's
 * Sec-Fetch-Site or Origin naming the master's own origin stands in for it. */
#define SESSION_COOKIE "det_session"
#define CSRF_COOKIE "det_csrf"
#define CSRF_HEADER "X-Det-CSRF"

const char *api_cookie_next(const char **p, size_t *len)
{
	const char *s = *p, *end;

	if (!s)
		return NULL;
	while (*s == ' ' || *s == ';')
		s++;
	if (!*s) {
		*p = NULL;
		return NULL;
	}
	end = strchr(s, ';');
	*len = end ? (size_t)(end - s) : strlen(s);
	*p = end;
	return s;
}

/* The value of cookie name in a Cookie header into out (NUL-terminated):
 * 0, or -1 when absent or longer than outlen - 1. */
static int cookie_value(const char *cookies, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name), len;
	const char *p = cookies, *c;
	while ((c = api_cookie_next(&p, &len))) {
		if (len > nl && !strncmp(c, name, nl) && c[nl] == '=') {
			if (len - nl - 1 >= outlen)
				return -1;
			memcpy(out, c + nl + 1, len - nl - 1);
			out[len - nl - 1] = '\0';
			return 0;
		}
	}
	return -1;
}

/* Does the browser say the request comes from a page of the master's own origin
 * (Sec-Fetch-Site: same-origin, or an Origin naming the Host it was sent to)? */
static int same_origin(const struct http_request *req)
{
	const char *site = http_request_header(req, "Sec-Fetch-Site");
	const char *origin = http_request_header(req, "Origin");
	const char *host = http_request_header(req, "Host");
	if (site)
		return !strcmp(site, "same-origin");
	if (!origin || !host || !*host)
		return 0;
	if (!strncmp(origin, "http://", 7))
		origin += 7;
	else if (!strncmp(origin, "https://", 8))
		origin += 8;
	else
		return 0;
	return !strcasecmp(origin, host);
}

/* The CSRF value of a session token: SHA-256 of "csrf:" + token, hex. */
static void session_csrf(const char *tok, char out[AUTH_TOKEN_CHARS + 1])
{
	char buf[AUTH_TOKEN_CHARS + 8];
	snprintf(buf, sizeof(buf), "csrf:%s", tok);
	auth_token_hash(buf, out);
}

/* Set (tok non-NULL, for max_age_s) or clear the session cookies on rep. */
static void session_cookies(struct app *a, struct http_reply *rep, const char *tok, long max_age_s)
{
	char csrf[AUTH_TOKEN_CHARS + 1] = "";
	const char *secure = a->cfg->tls_cert && *a->cfg->tls_cert ? "; Secure" : "";
	if (tok)
		session_csrf(tok, csrf);
	http_reply_header(rep, "Set-Cookie",
	                  SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%ld%s",
	                  tok ? tok : "", tok ? max_age_s : 0L, secure);
	http_reply_header(rep, "Set-Cookie",
	                  CSRF_COOKIE "=%s; Path=/; SameSite=Strict; Max-Age=%ld%s", csrf,
	                  tok ? max_age_s : 0L, secure);
	http_reply_header(rep, "Cache-Control", "no-store");
}

/* The session token of req's cookie into tok, when req has no Authorization:
 * 1 found, 0 none; -1 (reply filled) when a state-changing request lacks the
 * matching X-Det-CSRF header. */
static int session_token(const struct http_request *req, char tok[AUTH_TOKEN_CHARS + 1],
                         struct http_reply *rep)
{
	const char *cookies = http_request_header(req, "Cookie");
	char csrf[AUTH_TOKEN_CHARS + 1];
	if (req->authorization || !cookies ||
	    cookie_value(cookies, SESSION_COOKIE, tok, AUTH_TOKEN_CHARS + 1) ||
	    strlen(tok) != AUTH_TOKEN_CHARS)
		return 0;
	if (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD"))
		return 1;
	/* A task's own page (Jupyter's) under /proxy/ cannot send X-Det-CSRF: there the
	 * browser's Sec-Fetch-Site or Origin (which no script can set) vouches for the
	 * request coming from the master's own pages. */
	if (!strncmp(req->path, "/proxy/", 7) && same_origin(req))
		return 1;
	const char *sent = http_request_header(req, CSRF_HEADER);
	session_csrf(tok, csrf);
	if (!sent || !auth_same_secret(sent, csrf)) {
		api_error(rep, 403,
		          "cross-site request refused: a request with the session cookie must "
		          "send the " CSRF_COOKIE " cookie's value in the " CSRF_HEADER " header");
		return -1;
	}
	return 1;
}

/* Who is calling? 0, or an HTTP status with the reply filled. */
static int authenticate(struct app *a, const struct http_request *req, struct principal *p,
                        struct http_reply *rep)
{
	char err[256];
	json_t *u = NULL;

	char cookie_tok[AUTH_TOKEN_CHARS + 1];
	int by_cookie = session_token(req, cookie_tok, rep);
	const char *bearer = req->authorization && !strncmp(req->authorization, "Bearer ", 7)
	                         ? req->authorization + 7
	                     : by_cookie > 0 ? cookie_tok
	                                     : NULL;

	/* The token's hash is taken before the lock: nobody waits for it. */
	char hash[AUTH_TOKEN_CHARS + 1];
	int bearer_ok = bearer && strlen(bearer) == AUTH_TOKEN_CHARS;
	if (bearer_ok)
		auth_token_hash(bearer, hash);

	memset(p, 0, sizeof(*p));
	if (by_cookie < 0)
		return 403;
	pthread_mutex_lock(&a->lock);
	if (bearer) {
		int64_t user_id;
		if (!bearer_ok)
			goto denied;
		json_t *t = json_object_get(a->tokens, hash);
		struct exp_trial *tr = !t ? exp_index_by_token(&a->trial_ix, hash) : NULL;
		const char *why = token_refusal_locked(a, t, tr);
		if (why) {
			pthread_mutex_unlock(&a->lock);
			api_error(rep, 401, "%s", why);
			return 401;
		}
		if (tr) {
			/* A trial's token: kept in its trial record. */
			p->kind = PRINCIPAL_TRIAL;
			p->experiment_id = tr->exp->id;
			p->trial_id = tr->id;
			user_id = tr->exp->owner_id;
		} else if (t) {
			const char *kind = json_string_value(json_object_get(t, "kind"));
			p->kind = !strcmp(kind, "trial")        ? PRINCIPAL_TRIAL
			          : !strcmp(kind, "allocation") ? PRINCIPAL_ALLOCATION
			                                        : PRINCIPAL_USER;
			p->experiment_id = json_integer_value(json_object_get(t, "experiment_id"));
			p->trial_id = json_integer_value(json_object_get(t, "trial_id"));
			user_id = json_integer_value(json_object_get(t, "user_id"));
		} else {
			goto denied;
		}
		if (by_cookie > 0 && p->kind != PRINCIPAL_USER)
			goto denied; /* the cookie carries only a login's token */
		snprintf(p->token, sizeof(p->token), "%s", hash);
		u = user_by_id_locked(a, user_id);
		if (!u)
			goto denied;
	} else if (req->authorization && !strncmp(req->authorization, "Munge ", 6)) {
		uid_t uid;
		pthread_mutex_unlock(&a->lock); /* munged is a round trip */
		if (auth_munge_decode(req->authorization + 6, a->cfg->munge_socket, &uid, err,
		                      sizeof(err))) {
			api_error(rep, 401, "%s", err);
			return 401;
		}
		if (!uid_served((long)uid))
			goto other_uid;
		pthread_mutex_lock(&a->lock);
		u = user_of_uid_locked(a, uid, err, sizeof(err));
		if (!u) {
			pthread_mutex_unlock(&a->lock);
			api_error(rep, 500, "%s", err);
			return 500;
		}
	} else if (req->authorization) {
		goto denied;
	} else if (req->peer_local) {
		if (!uid_served((long)req->peer_uid)) {
			pthread_mutex_unlock(&a->lock);
			goto other_uid;
		}
		u = user_of_uid_locked(a, req->peer_uid, err, sizeof(err));
		if (!u) {
			pthread_mutex_unlock(&a->lock);
			api_error(rep, 500, "%s", err);
			return 500;
		}
	} else {
		pthread_mutex_unlock(&a->lock);
		api_error(rep, 401, "authentication required: log in with det user login");
		return 401;
	}
	if (!uid_served(user_uid(u))) {
		pthread_mutex_unlock(&a->lock);
		goto other_uid;
	}
	p->user_id = json_integer_value(json_object_get(u, "id"));
	p->uid = user_uid(u);
	p->admin = user_is_admin(a, u);
	snprintf(p->name, sizeof(p->name), "%s", json_string_value(json_object_get(u, "name")));
	pthread_mutex_unlock(&a->lock);
	workspace_principal_groups(p); /* reads the group database: without the lock */
	return 0;
denied:
	pthread_mutex_unlock(&a->lock);
	api_error(rep, 401, "invalid or expired token");
	return 401;
other_uid:
	api_error(rep, 403,
	          "this det-master runs as uid %u and serves only that Unix user; "
	          "use a master of your own or the system's",
	          (unsigned)geteuid());
	return 403;
}

/* ---- handlers ------------------------------------------------------------- */

static void h_health(struct app *a, struct api_call *c, struct http_reply *rep)
{
	api_json(rep, 200, json_pack("{s:s}", "status", "ok"));
}

static void h_master(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *nodes = a->rm->ops->nodes(a->rm);
	api_json(rep, 200,
	         json_pack("{s:s, s:s, s:s, s:f, s:f, s:i, s:o, s:s}", "version", PACKAGE_VERSION,
	                   "cluster_name", "det-slurm", "resource_manager", a->rm->ops->name,
	                   "started_at", a->started_at, "uptime_seconds", app_now() - a->started_at,
	                   "schema_version", store_schema_version(a->store), "nodes",
	                   nodes ? nodes : json_array(), "master_url", a->master_url));
}

static void h_agents(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *nodes = a->rm->ops->nodes(a->rm);
	api_json(rep, 200, json_pack("{s:o}", "agents", nodes ? nodes : json_array()));
}

/* Pools: the det pools the nodes name (Slurm with det.conf), else their partitions, else one
 * "default" pool. */
static void h_pools(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *nodes = a->rm->ops->nodes(a->rm);
	json_t *pools = json_object(), *list = json_array(), *n, *p;
	const char *name;
	size_t i, j;
	json_array_foreach (nodes, i, n) {
		json_t *parts = json_object_get(n, "pools");
		if (!parts)
			parts = json_object_get(n, "partitions");
		json_t *names =
		    json_is_array(parts) ? json_incref(parts) : json_pack("[s]", "default");
		json_array_foreach (names, j, p) {
			if (!json_is_string(p))
				continue;
			json_t *pool = json_object_get(pools, json_string_value(p));
			if (!pool) {
				pool =
				    json_pack("{s:O, s:I, s:I, s:I, s:s}", "name", p, "slots",
				              (json_int_t)0, "slots_used", (json_int_t)0, "nodes",
				              (json_int_t)0, "resource_manager", a->rm->ops->name);
				json_object_set_new(pools, json_string_value(p), pool);
			}
			const char *keys[] = {"slots", "slots_used"};
			for (int k = 0; k < 2; k++)
				json_object_set_new(
				    pool, keys[k],
				    json_integer(
				        json_integer_value(json_object_get(pool, keys[k])) +
				        json_integer_value(json_object_get(n, keys[k]))));
			json_object_set_new(
			    pool, "nodes",
			    json_integer(json_integer_value(json_object_get(pool, "nodes")) + 1));
		}
		json_decref(names);
	}
	json_object_foreach (pools, name, p) {
		json_array_append(list, p);
	}
	json_decref(pools);
	json_decref(nodes);
	api_json(rep, 200, json_pack("{s:o}", "resource_pools", list));
}

static void h_me(struct app *a, struct api_call *c, struct http_reply *rep)
{
	static const char *const kinds[] = {"user", "allocation", "trial"};
	api_json(rep, 200,
	         json_pack("{s:I, s:s, s:b, s:s, s:o}", "id", (json_int_t)c->who.user_id,
	                   "username", c->who.name, "admin", c->who.admin, "credential",
	                   kinds[c->who.kind], "uid",
	                   c->who.uid >= 0 ? json_integer(c->who.uid) : json_null()));
}

static void h_login(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *user, *pass;
	char tok[AUTH_TOKEN_CHARS + 1], err[256];
	char hash[256] = "";
	unsigned wait_s;
	int ok;

	if (json_unpack(c->body, "{s:s, s:s}", "username", &user, "password", &pass)) {
		api_error(rep, 400, "expected {\"username\": string, \"password\": string}");
		return;
	}
	/* Failures are counted for any name, known or not, so a refusal tells
	 * nothing; successful logins cost no token. */
	wait_s = limits_peek(a->limits, LIMITS_LOGIN_USER, user, http_now_ms());
	if (wait_s) {
		too_many(rep, wait_s,
		         "too many failed logins for this user name: wait %u s "
		         "(limits.login_failures_per_minute_per_user)",
		         wait_s);
		return;
	}
	if (limits_hash_begin(a->limits)) {
		too_many(rep, 1, "too many logins in progress: try again in a second");
		return;
	}
	pthread_mutex_lock(&a->lock);
	json_t *u = json_object_get(a->users, user);
	const char *h = u ? json_string_value(json_object_get(u, "password_hash")) : NULL;
	int known = h && *h;
	/* An unknown user (or one without a password) costs the same hash. */
	snprintf(hash, sizeof(hash), "%s", known ? h : a->login_dummy_hash);
	int64_t uid = u ? json_integer_value(json_object_get(u, "id")) : 0;
	pthread_mutex_unlock(&a->lock);
	/* Hash outside the lock: yescrypt is deliberately slow. */
	ok = auth_check_password(pass, hash) && known;
	limits_hash_end(a->limits);
	if (!ok) {
		limits_take(a->limits, LIMITS_LOGIN_USER, user, http_now_ms());
		if (!c->req->peer_local && c->req->peer_addr)
			limits_take(a->limits, LIMITS_LOGIN_ADDRESS, c->req->peer_addr,
			            http_now_ms());
		api_error(rep, 401, "wrong user name or password");
		return;
	}
	if (auth_new_token(tok, sizeof(tok), err, sizeof(err))) {
		api_error(rep, 500, "%s", err);
		return;
	}
	char tok_hash[AUTH_TOKEN_CHARS + 1];
	double now = app_now(), expires = now + (double)a->cfg->token_lifetime_s;
	auth_token_hash(tok, tok_hash);
	json_t *row =
	    json_pack("{s:s, s:s, s:I, s:f, s:f}", "token", tok_hash, "kind", "user", "user_id",
	              (json_int_t)uid, "created_at", now, "expires_at", expires);
	struct store_op op = {.kind = STORE_PUT, .table = "tokens", .row = row};
	if (store_write(a->store, &op, 1, err, sizeof(err))) {
		json_decref(row);
		api_error(rep, 500, "%s", err);
		return;
	}
	json_object_del(row, "token");
	json_object_del(row, "created_at");
	pthread_mutex_lock(&a->lock);
	json_object_set_new(a->tokens, tok_hash, row);
	pthread_mutex_unlock(&a->lock);
	api_json(
	    rep, 200,
	    json_pack("{s:s, s:s, s:f}", "token", tok, "username", user, "expires_at", expires));
	session_cookies(a, rep, tok, a->cfg->token_lifetime_s);
}

static void h_logout(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[256];
	if (!c->who.token[0] || c->who.kind != PRINCIPAL_USER) {
		api_json(rep, 200, NULL);
		session_cookies(a, rep, NULL, 0);
		return;
	}
	json_t *key = json_pack("{s:s}", "token", c->who.token);
	struct store_op op = {.kind = STORE_DELETE, .table = "tokens", .row = key};
	int rc = store_write(a->store, &op, 1, err, sizeof(err));
	json_decref(key);
	if (rc) {
		api_error(rep, 500, "%s", err);
		return;
	}
	pthread_mutex_lock(&a->lock);
	json_object_del(a->tokens, c->who.token);
	pthread_mutex_unlock(&a->lock);
	api_json(rep, 200, NULL);
	session_cookies(a, rep, NULL, 0);
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32)
		return 0;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr("._-", *s))
			return 0;
	return 1;
}

static void h_user_create(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *user, *pass = NULL;
	int admin = 0;
	char err[256];

	if (!c->who.admin) {
		api_error(rep, 403, "only an admin can create users");
		return;
	}
	if (json_unpack(c->body, "{s:s, s?s, s?b}", "username", &user, "password", &pass, "admin",
	                &admin)) {
		api_error(rep, 400,
		          "expected {\"username\": string, \"password\": string, \"admin\": bool}");
		return;
	}
	if (!name_ok(user)) {
		api_error(rep, 400, "username: 1 to 32 letters, digits, '.', '_' or '-'");
		return;
	}
	if (pass && (strlen(pass) < 8 || strlen(pass) > 256)) {
		api_error(rep, 400, "password: 8 to 256 characters");
		return;
	}
	pthread_mutex_lock(&a->lock);
	if (json_object_get(a->users, user)) {
		pthread_mutex_unlock(&a->lock);
		api_error(rep, 409, "user %s exists", user);
		return;
	}
	json_t *u = user_create_locked(a, user, pass, admin, -1, err, sizeof(err));
	json_t *view = u ? json_pack("{s:O, s:s, s:b}", "id", json_object_get(u, "id"), "username",
	                             user, "admin", admin)
	                 : NULL;
	pthread_mutex_unlock(&a->lock);
	if (!view)
		api_error(rep, 500, "%s", err);
	else
		api_json(rep, 200, view);
}

/* POST /users/me/password {password}: a user sets their own password, so that a
 * det user bound to a Unix account (socket, MUNGE) can also log in over TCP and
 * in the browser as that same account. Only the user may: an admin setting the
 * password of a Unix-bound user would gain a way to run code as that account. */
static void h_password(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *pass;
	char hash[256], err[256];

	if (c->who.kind != PRINCIPAL_USER) {
		api_error(rep, 403, "only a user can set their password");
		return;
	}
	if (json_unpack(c->body, "{s:s}", "password", &pass)) {
		api_error(rep, 400, "expected {\"password\": string}");
		return;
	}
	if (strlen(pass) < 8 || strlen(pass) > 256) {
		api_error(rep, 400, "password: 8 to 256 characters");
		return;
	}
	/* Hash outside the lock: yescrypt is deliberately slow. */
	if (auth_hash_password(pass, hash, sizeof(hash), err, sizeof(err))) {
		api_error(rep, 500, "%s", err);
		return;
	}
	pthread_mutex_lock(&a->lock);
	json_t *u = user_by_id_locked(a, c->who.user_id);
	json_t *row =
	    u ? json_pack("{s:O, s:s}", "id", json_object_get(u, "id"), "password_hash", hash)
	      : NULL;
	int rc = -1;
	if (row) {
		struct store_op op = {.kind = STORE_UPDATE, .table = "users", .row = row};
		rc = store_write(a->store, &op, 1, err, sizeof(err));
		if (rc == 0)
			json_object_set_new(u, "password_hash", json_string(hash));
	} else {
		snprintf(err, sizeof(err), "%s", u ? "out of memory" : "no such user");
	}
	pthread_mutex_unlock(&a->lock);
	json_decref(row);
	if (rc)
		api_error(rep, 500, "%s", err);
	else
		api_json(rep, 200, json_pack("{s:s}", "username", c->who.name));
}

static void h_users(struct app *a, struct api_call *c, struct http_reply *rep)
{
	json_t *out = json_array();
	const char *k;
	json_t *u;
	pthread_mutex_lock(&a->lock);
	json_object_foreach (a->users, k, u) {
		json_array_append_new(out, json_pack("{s:O, s:s, s:O}", "id",
		                                     json_object_get(u, "id"), "username", k,
		                                     "admin", json_object_get(u, "admin")));
	}
	pthread_mutex_unlock(&a->lock);
	api_json(rep, 200, json_pack("{s:o}", "users", out));
}

static void h_prometheus(struct app *a, struct api_call *c, struct http_reply *rep);

/* ---- routing -------------------------------------------------------------- */

static const struct api_route routes[] = {
    {"GET", "/health", h_health, API_AUTH_NONE},
    {"GET", "/metrics", h_prometheus, API_AUTH_NONE},
    {"GET", "/api/v1/health", h_health, API_AUTH_NONE},
    {"GET", "/api/v1/master", h_master, API_AUTH_USER},
    {"GET", "/api/v1/agents", h_agents, API_AUTH_USER},
    {"GET", "/api/v1/resource-pools", h_pools, API_AUTH_USER},
    {"POST", "/api/v1/auth/login", h_login, API_AUTH_NONE},
    {"POST", "/api/v1/auth/logout", h_logout, API_AUTH_ANY},
    {"GET", "/api/v1/me", h_me, API_AUTH_ANY},
    {"GET", "/api/v1/users", h_users, API_AUTH_USER},
    {"POST", "/api/v1/users", h_user_create, API_AUTH_USER},
    {"POST", "/api/v1/users/me/password", h_password, API_AUTH_USER},
    {"POST", "/api/v1/experiments", api_exp_create, API_AUTH_USER},
    {"POST", "/api/v1/images", api_image_import, API_AUTH_USER},
    {"GET", "/api/v1/images", api_image_list, API_AUTH_USER},
    {"DELETE", "/api/v1/images", api_image_remove, API_AUTH_USER},
    {"GET", "/api/v1/experiments", api_exp_list, API_AUTH_USER},
    {"GET", "/api/v1/experiments/{id}", api_exp_get, API_AUTH_USER},
    {"DELETE", "/api/v1/experiments/{id}", api_exp_delete, API_AUTH_USER},
    {"POST", "/api/v1/experiments/{id}/activate", api_exp_activate, API_AUTH_USER},
    {"POST", "/api/v1/experiments/{id}/pause", api_exp_pause, API_AUTH_USER},
    {"POST", "/api/v1/experiments/{id}/cancel", api_exp_cancel, API_AUTH_USER},
    {"POST", "/api/v1/experiments/{id}/kill", api_exp_kill, API_AUTH_USER},
    {"POST", "/api/v1/experiments/{id}/archive", api_exp_archive, API_AUTH_USER},
    {"POST", "/api/v1/experiments/{id}/unarchive", api_exp_unarchive, API_AUTH_USER},
    {"GET", "/api/v1/experiments/{id}/trials", api_exp_trials, API_AUTH_USER},
    {"GET", "/api/v1/experiments/{id}/checkpoints", api_exp_checkpoints, API_AUTH_USER},
    {"GET", "/api/v1/experiments/{id}/model_def", api_exp_model_def, API_AUTH_ANY},
    {"POST", "/api/v1/experiments/{id}/submitted", api_exp_submitted, API_AUTH_USER},
    {"GET", "/api/v1/experiments/{id}/slurm", api_exp_rm_tasks, API_AUTH_USER},
    {"POST", "/api/v1/experiments/{id}/claim", api_claim, API_AUTH_ANY},
    {"POST", "/api/v1/preview-hp-search", api_preview, API_AUTH_USER},
    {"GET", "/api/v1/trials/{id}", api_trial_get, API_AUTH_USER},
    {"POST", "/api/v1/trials/{id}/kill", api_trial_kill, API_AUTH_USER},
    {"GET", "/api/v1/trials/{id}/metrics", api_trial_metrics_get, API_AUTH_USER},
    {"GET", "/api/v1/trials/{id}/logs", api_trial_logs_get, API_AUTH_USER},
    {"GET", "/api/v1/trials/{id}/logs/download", api_trial_logs_download, API_AUTH_USER},
    {"GET", "/api/v1/trials/{id}/checkpoints", api_trial_checkpoints, API_AUTH_USER},
    {"POST", "/api/v1/trials/{id}/metrics", api_trial_metrics, API_AUTH_TRIAL},
    {"POST", "/api/v1/trials/{id}/checkpoints", api_trial_checkpoint, API_AUTH_TRIAL},
    {"POST", "/api/v1/trials/{id}/logs", api_trial_logs, API_AUTH_TRIAL},
    {"POST", "/api/v1/trials/{id}/progress", api_trial_progress, API_AUTH_TRIAL},
    {"POST", "/api/v1/trials/{id}/early_exit", api_trial_early_exit, API_AUTH_TRIAL},
    {"POST", "/api/v1/trials/{id}/exit", api_trial_exit, API_AUTH_TRIAL},
    {"GET", "/api/v1/trials/{id}/signals", api_trial_signals, API_AUTH_TRIAL},
    {"GET", "/api/v1/checkpoints/{uuid}", api_checkpoint_get, API_AUTH_ANY},
    {"DELETE", "/api/v1/checkpoints/{uuid}", api_checkpoint_delete, API_AUTH_USER},
    {"GET", "/api/v1/checkpoints/{uuid}/download", api_checkpoint_download, API_AUTH_USER},
    {"POST", "/api/v1/allocations/{id}/events", api_allocation_events, API_AUTH_USER},
    {"POST", "/api/v1/experiments/{id}/move", api_exp_move, API_AUTH_USER},
    {"POST", "/api/v1/experiments/{id}/fork", api_exp_fork, API_AUTH_USER},
    {"POST", "/api/v1/experiments/{id}/continue", api_exp_continue, API_AUTH_USER},
    {"POST", "/api/v1/experiments/{id}/set", api_exp_set, API_AUTH_USER},
    {"GET", "/api/v1/workspaces", api_workspace_list, API_AUTH_USER},
    {"POST", "/api/v1/workspaces", api_workspace_create, API_AUTH_USER},
    {"GET", "/api/v1/workspaces/{id}", api_workspace_get, API_AUTH_USER},
    {"DELETE", "/api/v1/workspaces/{id}", api_workspace_delete, API_AUTH_USER},
    {"POST", "/api/v1/workspaces/{id}/archive", api_workspace_archive, API_AUTH_USER},
    {"POST", "/api/v1/workspaces/{id}/unarchive", api_workspace_unarchive, API_AUTH_USER},
    {"GET", "/api/v1/workspaces/{id}/projects", api_workspace_projects, API_AUTH_USER},
    {"POST", "/api/v1/workspaces/{id}/projects", api_workspace_project_create, API_AUTH_USER},
    {"GET", "/api/v1/workspaces/{id}/roles", api_workspace_roles, API_AUTH_USER},
    {"POST", "/api/v1/workspaces/{id}/roles", api_workspace_role_assign, API_AUTH_USER},
    {"POST", "/api/v1/workspaces/{id}/roles/remove", api_workspace_role_unassign, API_AUTH_USER},
    {"GET", "/api/v1/templates", api_template_list, API_AUTH_USER},
    {"POST", "/api/v1/templates", api_template_create, API_AUTH_USER},
    {"GET", "/api/v1/templates/{uuid}", api_template_get, API_AUTH_USER},
    {"POST", "/api/v1/templates/{uuid}", api_template_set, API_AUTH_USER},
    {"DELETE", "/api/v1/templates/{uuid}", api_template_delete, API_AUTH_USER},
    {"GET", "/api/v1/models", api_model_list, API_AUTH_USER},
    {"POST", "/api/v1/models", api_model_create, API_AUTH_USER},
    {"GET", "/api/v1/models/{uuid}", api_model_get, API_AUTH_USER},
    {"POST", "/api/v1/models/{uuid}/versions", api_model_register, API_AUTH_USER},
    {"GET", "/api/v1/projects", api_project_list, API_AUTH_USER},
    {"GET", "/api/v1/projects/{id}", api_project_get, API_AUTH_USER},
    {"DELETE", "/api/v1/projects/{id}", api_project_delete, API_AUTH_USER},
    {"POST", "/api/v1/projects/{id}/archive", api_project_archive, API_AUTH_USER},
    {"POST", "/api/v1/projects/{id}/unarchive", api_project_unarchive, API_AUTH_USER},
    {"POST", "/api/v1/tasks", api_task_create, API_AUTH_USER},
    {"GET", "/api/v1/tasks", api_task_list, API_AUTH_USER},
    {"GET", "/api/v1/tasks/{id}", api_task_get, API_AUTH_USER},
    {"POST", "/api/v1/tasks/{id}/kill", api_task_kill, API_AUTH_USER},
    {"GET", "/api/v1/tasks/{id}/logs", api_task_logs, API_AUTH_USER},
    {"POST", "/api/v1/tasks/{id}/register", api_task_register, API_AUTH_NONE},
    {"GET", "/api/v1/tasks/{id}/context", api_task_context, API_AUTH_NONE},
    {"GET", "/api/v1/tasks/{id}/ssh-key", api_shell_key, API_AUTH_USER},
    {"*", "/proxy/{id}/*", api_proxy, API_AUTH_USER},
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* Match path against pattern; fills id/uuid. 1 on match. */
static int match(const char *pattern, const char *path, int64_t *id, char *uuid, size_t ulen)
{
	while (*pattern && *path) {
		if (pattern[0] == '*' && !pattern[1])
			return 1; /* a trailing '*': any rest, even none */
		if (*pattern == '{' &&
		    (!strncmp(pattern, "{id}", 4) || !strncmp(pattern, "{uuid}", 6))) {
			int is_id = pattern[1] == 'i';
			const char *end = strchr(path, '/');
			size_t n = end ? (size_t)(end - path) : strlen(path);
			if (n == 0 || n >= ulen)
				return 0;
			if (is_id) {
				int64_t v = 0;
				for (size_t i = 0; i < n; i++) {
					if (path[i] < '0' || path[i] > '9' ||
					    v > INT64_MAX / 10 - 9)
						return 0;
					v = v * 10 + (path[i] - '0');
				}
				if (v <= 0)
					return 0;
				*id = v;
			} else {
				memcpy(uuid, path, n);
				uuid[n] = '\0';
			}
			pattern += is_id ? 4 : 6;
			path += n;
			continue;
		}
		if (*pattern != *path)
			return 0;
		pattern++;
		path++;
	}
	return (!*pattern || !strcmp(pattern, "*")) && !*path;
}

/* Most patterns start with this literal prefix; route_find compares it once
 * per pattern with strncmp and the next byte before the byte-wise match(),
 * which made finding a route a sizeable share of each metric report's cost. */
#define ROUTE_API_PREFIX "/api/v1/"
#define ROUTE_API_PREFIX_LEN (sizeof(ROUTE_API_PREFIX) - 1)

static int route_find(const char *method, const char *path, int64_t *id, char *uuid, size_t ulen,
                      int *method_mismatch)
{
	int api = !strncmp(path, ROUTE_API_PREFIX, ROUTE_API_PREFIX_LEN);

	*method_mismatch = 0;
	for (size_t i = 0; i < NROUTES; i++) {
		const char *pat = routes[i].pattern, *p = path;
		if (api && !strncmp(pat, ROUTE_API_PREFIX, ROUTE_API_PREFIX_LEN)) {
			/* Both start with the same literal bytes: match the rest, and
			 * skip the pattern when its next literal byte differs. */
			pat += ROUTE_API_PREFIX_LEN;
			p += ROUTE_API_PREFIX_LEN;
			if (*pat != '{' && *pat != '*' && *pat != *p)
				continue;
		}
		if (!match(pat, p, id, uuid, ulen))
			continue;
		if (strcmp(routes[i].method, method) && strcmp(routes[i].method, "*")) {
			*method_mismatch = 1;
			continue;
		}
		return (int)i;
	}
	return -1;
}

/* Body caps by handler; routes not listed take API_MAX_BODY_BYTES. */
static const struct {
	api_handler handler;
	size_t max_bytes;
} body_caps[] = {
    {api_exp_create, API_MAX_CREATE_BYTES},    {h_login, API_MAX_LOGIN_BYTES},
    {h_user_create, API_MAX_LOGIN_BYTES},      {h_password, API_MAX_LOGIN_BYTES},
    {h_logout, API_MAX_SMALL_BYTES},           {api_exp_activate, API_MAX_SMALL_BYTES},
    {api_exp_pause, API_MAX_SMALL_BYTES},      {api_exp_cancel, API_MAX_SMALL_BYTES},
    {api_exp_kill, API_MAX_SMALL_BYTES},       {api_exp_archive, API_MAX_SMALL_BYTES},
    {api_exp_unarchive, API_MAX_SMALL_BYTES},  {api_exp_submitted, API_MAX_SMALL_BYTES},
    {api_claim, API_MAX_SMALL_BYTES},          {api_trial_kill, API_MAX_SMALL_BYTES},
    {api_trial_progress, API_MAX_SMALL_BYTES}, {api_trial_early_exit, API_MAX_SMALL_BYTES},
    {api_trial_exit, API_MAX_SMALL_BYTES},     {api_allocation_events, API_MAX_SMALL_BYTES},
    {api_task_create, API_MAX_CREATE_BYTES},   {api_task_register, API_MAX_SMALL_BYTES},
    {api_proxy, TASK_PROXY_MAX_BODY_BYTES},
};

/* The body cap of route r (< 0: no route). */
static size_t route_body_cap(int r)
{
	if (r < 0)
		return 0; /* no route takes a body: web UI files and errors */
	for (size_t i = 0; i < sizeof(body_caps) / sizeof(body_caps[0]); i++)
		if (body_caps[i].handler == routes[r].handler)
			return body_caps[i].max_bytes;
	return API_MAX_BODY_BYTES;
}

static size_t body_limit(void *ctx, const char *method, const char *path)
{
	int64_t id;
	char uuid[128];
	int mm;

	(void)ctx;
	return route_body_cap(route_find(method, path, &id, uuid, sizeof(uuid), &mm));
}

static int admitted_route(const struct http_request *req);

/* route_find for req, from the route admit() kept for it when there is one
 * (then only its id or uuid is read from the path again). */
static int route_of(const struct http_request *req, int64_t *id, char *uuid, size_t ulen,
                    int *method_mismatch)
{
	int r = admitted_route(req);

	if (r < 0 || !match(routes[r].pattern, req->path, id, uuid, ulen))
		return route_find(req->method, req->path, id, uuid, ulen, method_mismatch);
	*method_mismatch = 0;
	return r;
}

/* The route of req and, when it needs one, who is calling (the admission's
 * principal when the server admitted req, else authenticated now).
 * 0 with *rtp set (NULL: no route; the web UI's files or a 404), else the
 * HTTP status with rep filled. */
static int route_access(struct app *a, const struct http_request *req, struct api_call *c,
                        const struct api_route **rtp, struct http_reply *rep)
{
	int mm;
	int r = route_of(req, &c->id, c->uuid, sizeof(c->uuid), &mm);

	*rtp = NULL;
	if (r < 0 && mm) {
		api_error(rep, 405, "%s is not allowed on %s", req->method, req->path);
		return 405;
	}
	if (r < 0)
		return 0;
	const struct api_route *rt = &routes[r];
	*rtp = rt;
	if (rt->auth == API_AUTH_NONE)
		return 0;
	if (req->auth && req->auth->ptr) {
		c->who = *(const struct principal *)req->auth->ptr;
	} else {
		int rc = authenticate(a, req, &c->who, rep);
		if (rc)
			return rc;
	}
	if (rt->auth == API_AUTH_USER && c->who.kind != PRINCIPAL_USER) {
		api_error(rep, 403, "this endpoint needs a user credential");
		return 403;
	}
	if (rt->auth == API_AUTH_TRIAL && c->who.kind != PRINCIPAL_TRIAL && !c->who.admin) {
		api_error(rep, 403, "this endpoint needs the trial's token");
		return 403;
	}
	if (rt->auth == API_AUTH_TRIAL && c->who.kind == PRINCIPAL_TRIAL &&
	    c->who.trial_id != c->id) {
		api_error(rep, 403, "this token belongs to trial %lld", (long long)c->who.trial_id);
		return 403;
	}
	return 0;
}

/* Per-user quotas on starting experiments (creating one with creating set,
 * else activating one): 0, or 429 with rep filled. */
static int quota_check(struct app *a, const struct principal *who, int creating,
                       struct http_reply *rep)
{
	const struct master_limits *m = &a->cfg->limits;
	unsigned nexp = 0, ntrials = 0;

	if (!m->max_active_experiments && !m->max_active_trials)
		return 0;
	pthread_mutex_lock(&a->lock);
	for (struct exp_rt *e = a->exps; e; e = e->next) {
		if (e->owner_id != who->user_id)
			continue;
		nexp += !fsm_is_terminal(e->state);
		for (int i = 0; i < e->trials_cap; i++)
			ntrials += e->trials[i] && e->trials[i]->state == FSM_ACTIVE;
	}
	pthread_mutex_unlock(&a->lock);
	if (m->max_active_trials && ntrials >= m->max_active_trials) {
		too_many(
		    rep, 0,
		    "user %s has %u trials running; the limit (limits.max_active_trials) is %u",
		    who->name, ntrials, m->max_active_trials);
		return 429;
	}
	if (creating && m->max_active_experiments && nexp >= m->max_active_experiments) {
		too_many(rep, 0,
		         "user %s has %u experiments that have not ended; the limit "
		         "(limits.max_active_experiments) is %u",
		         who->name, nexp, m->max_active_experiments);
		return 429;
	}
	return 0;
}

/* Request rate and quotas of a user credential: 0, or 429 with rep filled. */
static int user_limits(struct app *a, const struct api_route *rt, const struct principal *who,
                       struct http_reply *rep)
{
	const struct master_limits *m = &a->cfg->limits;
	unsigned wait_s;

	if (who->kind != PRINCIPAL_USER || (who->admin && m->exempt_admins))
		return 0;
	wait_s = limits_take(a->limits, LIMITS_USER_REQUESTS, who->name, http_now_ms());
	if (wait_s) {
		too_many(rep, wait_s,
		         "user %s is over the request rate limit of %u per second "
		         "(limits.user_requests_per_second): retry in %u s",
		         who->name, m->user_requests_per_second, wait_s);
		return 429;
	}
	if (rt->handler == api_exp_create || rt->handler == api_exp_activate)
		return quota_check(a, who, rt->handler == api_exp_create, rep);
	return 0;
}

/* An admitted request's principal (first, as route_access reads it) and the
 * body bytes it holds of the in-flight budgets, given back when it ends. */
struct admitted {
	struct principal who;
	struct limits *limits;
	char key[sizeof(((struct principal *)0)->name)]; /* "" = the total only */
	uint64_t bytes;
	int route; /* index in routes[] */
};

/* The route admit() found for req, or -1 (not admitted with a principal). */
static int admitted_route(const struct http_request *req)
{
	const struct admitted *ad = req->auth ? req->auth->ptr : NULL;
	return ad ? ad->route : -1;
}

static void admitted_free(void *ptr)
{
	struct admitted *ad = ptr;

	limits_body_give(ad->limits, ad->key[0] ? ad->key : NULL, ad->bytes);
	free(ad);
}

/* Reserve the body req announces (Content-Length; a chunked one counts as
 * the route's cap) in the in-flight budgets: 0, or 429/503 with rep filled. */
static int body_budget(struct app *a, const struct http_request *req, struct admitted *ad,
                       struct http_reply *rep)
{
	const struct master_limits *m = &a->cfg->limits;
	const char *cl = http_request_header(req, "Content-Length");
	uint64_t cap = route_body_cap(ad->route), n = 0;

	if (cl) {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(cl, &end, 10);
		n = errno || *end || x > cap ? cap : x; /* the server answers 413 past the cap */
	} else if (http_request_header(req, "Transfer-Encoding")) {
		n = cap;
	}
	if (ad->who.kind == PRINCIPAL_USER && !(ad->who.admin && m->exempt_admins))
		snprintf(ad->key, sizeof(ad->key), "%s", ad->who.name);
	switch (limits_body_take(a->limits, ad->key[0] ? ad->key : NULL, n)) {
	case LIMITS_BODY_OK:
		ad->limits = a->limits;
		ad->bytes = n;
		return 0;
	case LIMITS_BODY_OVER_KEY:
		too_many(rep, 1,
		         "user %s has %llu MiB of request bodies in flight; with this one (%llu "
		         "bytes) it would pass the limit (limits.body_mib_in_flight_per_user) of "
		         "%u MiB: retry when they are done",
		         ad->who.name,
		         (unsigned long long)(limits_body_in_flight(a->limits, ad->key) >> 20),
		         (unsigned long long)n, m->body_mib_in_flight_per_user);
		return 429;
	default:
		too_many(rep, 1,
		         "the master has too many request bodies in flight to take this one (%llu "
		         "bytes) within limits.body_mib_in_flight (%u MiB): retry later",
		         (unsigned long long)n, m->body_mib_in_flight);
		rep->status = 503;
		return 503;
	}
}

/* The headers of a request, before its body: route, credentials, rates,
 * quotas and the in-flight body budgets. 0 admits it (the principal and
 * the bytes reserved are kept until the request ends). */
static int admit(void *ctx, const struct http_request *req, struct http_reply *rep)
{
	struct app *a = ctx;
	struct api_call c = {.req = req};
	const struct api_route *rt;
	int rc = route_access(a, req, &c, &rt, rep);

	if (rc)
		return rc;
	if (!rt) {
		if (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD"))
			return 0; /* the web UI's files: handle() serves them */
		api_error(rep, 404, "no such endpoint: %s %s", req->method, req->path);
		return 404;
	}
	if (rt->handler == h_login && !req->peer_local) {
		const char *addr = req->peer_addr ? req->peer_addr : "";
		unsigned wait_s = limits_peek(a->limits, LIMITS_LOGIN_ADDRESS, addr, http_now_ms());
		if (wait_s) {
			too_many(rep, wait_s,
			         "too many failed logins from %s: wait %u s "
			         "(limits.login_failures_per_minute_per_address)",
			         addr, wait_s);
			return 429;
		}
	}
	if (rt->auth == API_AUTH_NONE)
		return 0;
	rc = user_limits(a, rt, &c.who, rep);
	if (rc || !req->auth)
		return rc;
	struct admitted *ad = calloc(1, sizeof(*ad));
	if (!ad) {
		api_error(rep, 503, "out of memory");
		return 503;
	}
	ad->who = c.who;
	ad->route = (int)(rt - routes);
	rc = body_budget(a, req, ad, rep);
	if (rc) {
		free(ad);
		return rc;
	}
	req->auth->ptr = ad;
	req->auth->free_fn = admitted_free;
	return 0;
}

/* A GET answer's version: its body's FNV-1a hash as a strong ETag. A page
 * that sends it back in If-None-Match gets 304 with no body while the
 * view (experiment, trials, metrics after since...) is unchanged. */
static void api_etag(const struct http_request *req, struct http_reply *rep)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char etag[24];
	for (size_t i = 0; i < rep->len; i++)
		h = (h ^ (unsigned char)rep->body[i]) * 0x100000001b3ULL;
	snprintf(etag, sizeof(etag), "\"%016llx\"", (unsigned long long)h);
	const char *inm = http_request_header(req, "If-None-Match");
	if (inm && strstr(inm, etag)) {
		rep->body[0] = '\0';
		rep->len = 0;
		rep->status = 304;
	}
	http_reply_header(rep, "ETag", "%s", etag);
}

static void handle(void *ctx, const struct http_request *req, struct http_reply *rep)
{
	struct app *a = ctx;
	struct api_call c = {.req = req};
	const struct api_route *rt;

	if (req->slot && req->slot->ptr) {
		/* Dispatched again after a hold: the handler's work is done. */
		struct api_pending *p = req->slot->ptr;
		p->finish(a, p, rep);
		return;
	}
	if (route_access(a, req, &c, &rt, rep))
		return;
	if (!rt) {
		if (!static_serve(a->cfg->webui_dir, a->cfg->chartjs_dir, req, rep))
			api_error(rep, 404, "no such endpoint: %s %s", req->method, req->path);
		return;
	}
	if (!strcmp(req->method, "POST") && rt->handler != api_proxy &&
	    (req->body_len ||
	     (rt->handler != h_logout && rt->handler != api_exp_activate &&
	      rt->handler != api_exp_pause && rt->handler != api_exp_cancel &&
	      rt->handler != api_exp_kill && rt->handler != api_exp_archive &&
	      rt->handler != api_exp_unarchive && rt->handler != api_trial_kill &&
	      rt->handler != api_workspace_archive && rt->handler != api_workspace_unarchive &&
	      rt->handler != api_project_archive && rt->handler != api_project_unarchive &&
	      rt->handler != api_task_kill))) {
		c.body = api_body(req, rep);
		if (!c.body)
			return;
	}
	rt->handler(a, &c, rep);
	json_decref(c.body);
	if (!strcmp(req->method, "GET") && rep->status == 200 && !rep->again && rep->body)
		api_etag(req, rep);
}

/* ---- Prometheus ------------------------------------------------------------- */

static const double buckets[APP_NBUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                             0.05,   0.1,   0.25,   0.5,   1,    5};

static void observe(void *ctx, const struct http_request *req, int status, double seconds)
{
	struct app *a = ctx;
	int64_t id;
	char uuid[128];
	int mm;
	int r = route_of(req, &id, uuid, sizeof(uuid), &mm);
	if (r < 0)
		r = (int)NROUTES;
	if (r >= APP_NROUTES)
		return;
	int cls = status >= 100 && status < 600 ? status / 100 : 0;
	pthread_mutex_lock(&a->stats_lock);
	a->route_count[r][cls]++;
	for (int b = 0; b < APP_NBUCKETS; b++)
		if (seconds <= buckets[b])
			a->route_hist[r][b]++;
	a->route_hist[r][APP_NBUCKETS]++;
	a->route_sum[r] += seconds;
	pthread_mutex_unlock(&a->stats_lock);
}

static void h_prometheus(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int by_state[FSM_NSTATES] = {0}, running = 0;
	uint64_t batches, ops;
	double commit_s;

	if (!f) {
		api_error(rep, 500, "out of memory");
		return;
	}
	pthread_mutex_lock(&a->lock);
	for (struct exp_rt *e = a->exps; e; e = e->next) {
		by_state[e->state]++;
		for (int i = 0; i < e->trials_cap; i++)
			running += e->trials[i] && e->trials[i]->state == FSM_ACTIVE;
	}
	pthread_mutex_unlock(&a->lock);
	fprintf(f, "# HELP det_experiments Experiments by state.\n# TYPE det_experiments gauge\n");
	for (int s = 0; s < FSM_NSTATES; s++)
		fprintf(f, "det_experiments{state=\"%s\"} %d\n", fsm_state_name((enum fsm_state)s),
		        by_state[s]);
	fprintf(f,
	        "# HELP det_trials_running Trials in state ACTIVE.\n"
	        "# TYPE det_trials_running gauge\ndet_trials_running %d\n",
	        running);
	store_stats(a->store, &batches, &ops, &commit_s);
	fprintf(f,
	        "# HELP det_db_commits_total Database transactions committed.\n"
	        "# TYPE det_db_commits_total counter\ndet_db_commits_total %llu\n"
	        "# HELP det_db_writes_total Row writes committed.\n"
	        "# TYPE det_db_writes_total counter\ndet_db_writes_total %llu\n"
	        "# HELP det_db_commit_seconds_total Time spent in write transactions.\n"
	        "# TYPE det_db_commit_seconds_total counter\ndet_db_commit_seconds_total %.6f\n",
	        (unsigned long long)batches, (unsigned long long)ops, commit_s);
	api_rm_prometheus(a, f);
	fprintf(
	    f,
	    "# HELP det_http_parked_resumed_total Long polls dispatched again while waiting.\n"
	    "# TYPE det_http_parked_resumed_total counter\ndet_http_parked_resumed_total %llu\n",
	    a->http ? (unsigned long long)http_server_resumed(a->http) : 0ULL);
	fprintf(f, "# HELP det_http_requests_total Requests by route and status class.\n"
	           "# TYPE det_http_requests_total counter\n");
	pthread_mutex_lock(&a->stats_lock);
	for (size_t r = 0; r <= NROUTES && r < APP_NROUTES; r++) {
		const char *m = r < NROUTES ? routes[r].method : "ANY";
		const char *p = r < NROUTES ? routes[r].pattern : "unmatched";
		for (int s = 1; s < 6; s++)
			if (a->route_count[r][s])
				fprintf(f,
				        "det_http_requests_total{method=\"%s\",route=\"%s\",code="
				        "\"%dxx\"}"
				        " %llu\n",
				        m, p, s, (unsigned long long)a->route_count[r][s]);
	}
	fprintf(f, "# HELP det_http_request_seconds Request latency by route.\n"
	           "# TYPE det_http_request_seconds histogram\n");
	for (size_t r = 0; r <= NROUTES && r < APP_NROUTES; r++) {
		const char *m = r < NROUTES ? routes[r].method : "ANY";
		const char *p = r < NROUTES ? routes[r].pattern : "unmatched";
		if (!a->route_hist[r][APP_NBUCKETS])
			continue;
		for (int b = 0; b < APP_NBUCKETS; b++)
			fprintf(
			    f,
			    "det_http_request_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%g\"}"
			    " %llu\n",
			    m, p, buckets[b], (unsigned long long)a->route_hist[r][b]);
		fprintf(
		    f,
		    "det_http_request_seconds_bucket{method=\"%s\",route=\"%s\",le=\"+Inf\"} %llu\n"
		    "det_http_request_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n"
		    "det_http_request_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
		    m, p, (unsigned long long)a->route_hist[r][APP_NBUCKETS], m, p, a->route_sum[r],
		    m, p, (unsigned long long)a->route_hist[r][APP_NBUCKETS]);
	}
	pthread_mutex_unlock(&a->stats_lock);
	fclose(f);
	free(rep->body);
	rep->body = buf;
	rep->len = len;
	rep->status = 200;
	rep->content_type = "text/plain; version=0.0.4";
}

const struct http_server_ops api_ops_template = {
    .body_limit = body_limit,
    .admit = admit,
    .handle = handle,
    .observe = observe,
};
