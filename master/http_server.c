/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmicrohttpd glue: the only file that uses MHD. Two daemons (TCP and a
 * Unix socket) share one handler table; each request owns a struct req_state
 * that accumulates its body up to the route's limit.
 *
 * Limits before work: MHD calls on_access first with the headers only; the
 * request is admitted there (route and credentials, ops.admit) and a refusal
 * is queued before a byte of the body is accepted, which makes MHD discard
 * the body and close the connection. Idle connections time out after
 * idle_timeout_s, except the ones suspended on purpose below (parked and
 * held), whose timeout is lifted while they wait and restored when answered.
 * A client that keeps a connection busy with a byte now and then (slowloris)
 * meets deadlines instead: every connection is listed (struct conn_rec) with
 * the phase it is in, and the waker shuts down the socket of one whose
 * request head took longer than header_timeout_s or whose body took longer
 * than request_timeout_s; MHD then closes it. Answering has no deadline.
 *
 * Non-obvious decision: long polls are MHD-suspended connections on a parked
 * list; the handler simply runs again when it is resumed and decides whether
 * it can answer yet. Handlers stay stateless and no worker thread ever
 * sleeps. The waker resumes them all at once on http_server_wake (what they
 * wait on changed); without news it resumes a connection only when a whole
 * second has passed since its request's first dispatch, because every wait a
 * handler keeps is a whole number of seconds from there. So an idle long poll
 * costs one dispatch a second, not one every tick (PARK_TICK_MS only paces
 * the deadline checks of the connection list).
 * The same suspension serves a handler that waits for one event (a database
 * commit): it holds the connection and whoever finishes the work releases it,
 * so a worker thread never waits on a commit while other connections it
 * serves have requests ready. With a certificate and key configured the TCP
 * daemon speaks only HTTPS (GnuTLS inside MHD); the Unix socket stays plain.
 * A streamed answer (http_reply.stream_read, the task proxy's) is an MHD
 * callback response whose connection is suspended while the handler has no
 * bytes and resumed by http_stream_wake; the waker cuts the ones whose client
 * hung up meanwhile (a suspended connection is not watched by MHD).
 */
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PARK_TICK_MS 200
#define DEFAULT_MAX_CONNECTIONS 4096U
#define DEFAULT_MAX_CONNECTIONS_PER_IP 256U
#define DEFAULT_IDLE_TIMEOUT_S 30U
#define DEFAULT_HEADER_TIMEOUT_S 30U
#define DEFAULT_REQUEST_TIMEOUT_S 300U

/* Where a connection is in its current request, for the deadlines. */
enum conn_phase { PHASE_HEAD, PHASE_BODY, PHASE_ANSWER };

/* One open connection (MHD's socket context); in http_server.conns. */
struct conn_rec {
	int fd;
	enum conn_phase phase;
	uint64_t since_ms; /* when the phase began */
	int cut;           /* shut down for a missed deadline */
	struct conn_rec *prev, *next;
};

struct req_state {
	struct http_server *srv;
	char *body;
	size_t len, cap, limit;
	int too_large;
	int local;
	uid_t uid;
	char peer[INET6_ADDRSTRLEN]; /* client address as text */
	uint64_t first_ms;
	uint64_t start_ms;
	struct http_slot slot;
	struct http_slot auth; /* kept by ops.admit */
	int held;              /* the current dispatch held the connection */
	int waiting;           /* idle timeout lifted (parked or held) */
};

struct http_hold {
	struct http_server *srv;
	struct MHD_Connection *conn;
};

struct parked {
	struct MHD_Connection *conn;
	uint64_t due_ms; /* resumed then without news: a whole second from its first dispatch */
	struct parked *next;
};

struct listener {
	struct http_server *srv;
	struct MHD_Daemon *d;
	int local;
};

struct http_server {
	struct http_server_ops ops;
	struct listener tcp, unix_l;
	int port;
	char *socket_path;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct parked *parked;
	int wake;
	int stopping;
	int nheld; /* connections held and not yet released */
	unsigned idle_timeout_s;
	unsigned header_timeout_s;
	unsigned request_timeout_s;
	struct conn_rec *conns; /* open connections, under lock */
	pthread_t waker;
	int waker_started;
	char *tls_cert, *tls_key; /* PEM text for the TCP listener; NULL = plain HTTP */
	uint64_t resumed;         /* parked connections dispatched again, for /metrics */

	/* Switched connections (WebSockets) not yet done, under lock. */
	struct upgrade_call *upgrades;
	/* Answers being streamed (http_reply.stream_read), under lock. */
	struct http_stream *streams;
};

/* A streamed answer's connection. Lock order: http_server.lock, then this lock;
 * MHD's suspend and resume of it happen under this lock or after it is cut. */
struct http_stream {
	struct http_server *srv;
	struct MHD_Connection *conn;
	int client_fd;
	pthread_mutex_t lock;
	int suspended; /* waits for http_stream_wake */
	int woken;     /* a wake came while the reader was not suspended */
	int cut;       /* the client hung up or the server stops: end with an error */
	long (*read)(void *cls, struct http_stream *hs, char *buf, size_t max);
	void (*free_fn)(void *cls);
	void *cls;
	struct http_stream *prev, *next;
};

uint64_t http_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *http_request_arg(const struct http_request *req, const char *name)
{
	if (!req->conn)
		return NULL; /* a request built in-process (tests) has no query */
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

int http_reply_header(struct http_reply *rep, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (rep->nheaders >= HTTP_MAX_EXTRA_HEADERS)
		return -1;
	rep->headers[rep->nheaders].name = name;
	va_start(ap, fmt);
	vsnprintf(rep->headers[rep->nheaders].value, sizeof(rep->headers[0].value), fmt, ap);
	va_end(ap);
	rep->nheaders++;
	return 0;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	if (!req->conn)
		return NULL; /* a request built by a test, not by the server */
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct each_ctx {
	void (*fn)(void *cls, const char *name, const char *value);
	void *cls;
};

static enum MHD_Result each_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
	struct each_ctx *e = cls;
	(void)kind;
	e->fn(e->cls, key, value);
	return MHD_YES;
}

void http_request_each(const struct http_request *req, int args,
                       void (*fn)(void *cls, const char *name, const char *value), void *cls)
{
	struct each_ctx e = {fn, cls};
	if (req->conn)
		MHD_get_connection_values(req->conn, args ? MHD_GET_ARGUMENT_KIND : MHD_HEADER_KIND,
		                          each_value, &e);
}

/* An upgrade's handler and its argument until MHD switches the connection; then
 * the switched connection, listed in http_server.upgrades until it is done. */
struct upgrade_call {
	void (*fn)(void *cls, int fd, const char *extra, size_t n, void *handle);
	void *cls;
	struct http_server *srv;
	struct MHD_UpgradeResponseHandle *urh;
	int fd;
	struct upgrade_call *prev, *next;
};

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra,
                       size_t n, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct upgrade_call *u = cls;
	struct http_server *s = u->srv;
	(void)conn;
	(void)con_cls;
	u->urh = urh;
	u->fd = sock;
	pthread_mutex_lock(&s->lock);
	u->next = s->upgrades;
	if (s->upgrades)
		s->upgrades->prev = u;
	s->upgrades = u;
	pthread_mutex_unlock(&s->lock);
	u->fn(u->cls, sock, extra, n, u);
}

void http_upgrade_done(void *handle)
{
	struct upgrade_call *u = handle;
	struct http_server *s = u->srv;
	pthread_mutex_lock(&s->lock);
	if (u->prev)
		u->prev->next = u->next;
	else
		s->upgrades = u->next;
	if (u->next)
		u->next->prev = u->prev;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(u);
}

/* Queue a 101 that switches conn to rep->upgrade. */
static enum MHD_Result send_upgrade(struct http_server *s, struct MHD_Connection *conn,
                                    struct http_reply *rep)
{
	struct upgrade_call *u = calloc(1, sizeof(*u));
	struct MHD_Response *r = u ? MHD_create_response_for_upgrade(on_upgrade, u) : NULL;
	enum MHD_Result ret;

	free(rep->body);
	rep->body = NULL;
	if (!r) {
		free(u);
		return MHD_NO;
	}
	u->fn = rep->upgrade;
	u->cls = rep->upgrade_cls;
	u->srv = s;
	for (int i = 0; i < rep->nheaders && i < HTTP_MAX_EXTRA_HEADERS; i++)
		if (rep->headers[i].name)
			MHD_add_response_header(r, rep->headers[i].name, rep->headers[i].value);
	ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
	MHD_destroy_response(r);
	return ret;
}

void http_stream_wake(struct http_stream *hs)
{
	pthread_mutex_lock(&hs->lock);
	if (hs->suspended) {
		hs->suspended = 0;
		MHD_resume_connection(hs->conn);
	} else {
		hs->woken = 1;
	}
	pthread_mutex_unlock(&hs->lock);
}

/* MHD's content reader: the handler's bytes, or a suspension until there are some. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *hs = cls;
	(void)pos;
	for (;;) {
		long n = hs->read(hs->cls, hs, buf, max);
		if (n > 0)
			return (ssize_t)n;
		if (n == HTTP_STREAM_END)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (n != 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		pthread_mutex_lock(&hs->lock);
		if (hs->cut) {
			pthread_mutex_unlock(&hs->lock);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		if (hs->woken) { /* bytes came since read: read again */
			hs->woken = 0;
			pthread_mutex_unlock(&hs->lock);
			continue;
		}
		hs->suspended = 1;
		MHD_suspend_connection(hs->conn);
		pthread_mutex_unlock(&hs->lock);
		return 0;
	}
}

/* MHD is done with the response: the handler's state goes, hs leaves the list. */
static void stream_done(void *cls)
{
	struct http_stream *hs = cls;
	struct http_server *s = hs->srv;

	pthread_mutex_lock(&s->lock);
	if (hs->prev)
		hs->prev->next = hs->next;
	else
		s->streams = hs->next;
	if (hs->next)
		hs->next->prev = hs->prev;
	pthread_mutex_unlock(&s->lock);
	hs->free_fn(hs->cls);
	pthread_mutex_destroy(&hs->lock);
	free(hs);
}

/* A response that streams rep's body, listed in s->streams; NULL (rep's stream
 * freed) on failure. */
static struct MHD_Response *stream_response(struct http_server *s, struct MHD_Connection *conn,
                                            struct http_reply *rep)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct http_stream *hs = calloc(1, sizeof(*hs));
	struct MHD_Response *r = NULL;

	if (!hs || pthread_mutex_init(&hs->lock, NULL)) {
		free(hs);
		rep->stream_free(rep->stream_cls);
		return NULL;
	}
	hs->srv = s;
	hs->conn = conn;
	hs->client_fd = ci ? ci->connect_fd : -1;
	hs->read = rep->stream_read;
	hs->free_fn = rep->stream_free;
	hs->cls = rep->stream_cls;
	r = MHD_create_response_from_callback(rep->stream_len < 0 ? MHD_SIZE_UNKNOWN
	                                                          : (uint64_t)rep->stream_len,
	                                      65536, stream_reader, hs, stream_done);
	if (!r) {
		rep->stream_free(rep->stream_cls);
		pthread_mutex_destroy(&hs->lock);
		free(hs);
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	hs->cut = s->stopping;
	hs->next = s->streams;
	if (s->streams)
		s->streams->prev = hs;
	s->streams = hs;
	pthread_mutex_unlock(&s->lock);
	return r;
}

#define STREAMS_CUT_BATCH 64

/* Streams whose client hung up (every stream when all is set) end: they are
 * marked, and the ones that wait run again, outside s->lock as resume_due does.
 * How many were resumed (at most STREAMS_CUT_BATCH: call again while it is that). */
static size_t streams_cut(struct http_server *s, int all)
{
	struct MHD_Connection *conns[STREAMS_CUT_BATCH];
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	for (struct http_stream *hs = s->streams; hs && n < STREAMS_CUT_BATCH; hs = hs->next) {
		pthread_mutex_lock(&hs->lock);
		struct pollfd p = {.fd = hs->client_fd, .events = POLLRDHUP};
		if (all || (hs->suspended && hs->client_fd >= 0 && poll(&p, 1, 0) > 0 &&
		            (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))) {
			hs->cut = 1;
			/* Still suspended until resumed below: MHD keeps the connection. */
			if (hs->suspended)
				conns[n++] = hs->conn;
			hs->suspended = 0;
		}
		pthread_mutex_unlock(&hs->lock);
	}
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < n; i++)
		MHD_resume_connection(conns[i]);
	return n;
}

static enum MHD_Result send_reply(struct http_server *s, struct MHD_Connection *conn,
                                  struct http_reply *rep)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (rep->stream_read) { /* read as the client takes it */
		free(rep->body);
		rep->body = NULL;
		r = stream_response(s, conn, rep);
		if (!r)
			return MHD_NO;
	} else if (rep->file_len > 0) { /* streamed by libmicrohttpd, which closes file_fd */
		free(rep->body);
		rep->body = NULL;
		r = MHD_create_response_from_fd64(rep->file_len, rep->file_fd);
		if (!r) {
			close(rep->file_fd);
			return MHD_NO;
		}
	} else {
		if (!rep->body) {
			rep->body = strdup("{}");
			rep->len = rep->body ? 2 : 0;
		}
		r = MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
		if (!r) {
			free(rep->body);
			return MHD_NO;
		}
		rep->body = NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        rep->content_type ? rep->content_type : "application/json");
	for (int i = 0; i < rep->nheaders && i < HTTP_MAX_EXTRA_HEADERS; i++)
		if (rep->headers[i].name)
			MHD_add_response_header(r, rep->headers[i].name, rep->headers[i].value);
	ret = MHD_queue_response(conn, (unsigned)rep->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, int status, const char *code,
                                  const char *msg)
{
	struct http_reply rep = {.status = status};
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "{\"error\": {\"code\": \"%s\", \"message\": \"%s\"}}",
	                 code, msg);
	rep.body = strdup(buf);
	if (!rep.body)
		return MHD_NO;
	rep.len = (size_t)n;
	return send_reply(NULL, conn, &rep);
}

/* Record that conn entered phase now (the deadline clock restarts). */
static void set_phase(struct http_server *s, struct MHD_Connection *conn, enum conn_phase phase)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_rec *c = ci ? ci->socket_context : NULL;

	if (!c)
		return;
	pthread_mutex_lock(&s->lock);
	c->phase = phase;
	c->since_ms = http_now_ms();
	pthread_mutex_unlock(&s->lock);
}

/* Shut down connections past their phase's deadline (lock held). */
static void cut_late_locked(struct http_server *s)
{
	uint64_t now = http_now_ms();
	for (struct conn_rec *c = s->conns; c; c = c->next) {
		uint64_t limit_s = c->phase == PHASE_HEAD   ? s->header_timeout_s
		                   : c->phase == PHASE_BODY ? s->request_timeout_s
		                                            : 0;
		if (c->cut || !limit_s || now - c->since_ms <= limit_s * 1000)
			continue;
		/* The fd stays open until MHD's close, which first unlists it. */
		shutdown(c->fd, SHUT_RDWR);
		c->cut = 1;
	}
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
	struct listener *l = cls;
	struct http_server *s = l->srv;
	struct conn_rec *c = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = ci ? calloc(1, sizeof(*c)) : NULL;
		if (!c)
			return; /* not listed: only the idle timeout applies */
		c->fd = ci->connect_fd;
		c->phase = PHASE_HEAD;
		c->since_ms = http_now_ms();
		pthread_mutex_lock(&s->lock);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		pthread_mutex_unlock(&s->lock);
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	pthread_mutex_lock(&s->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&s->lock);
	free(c);
	*socket_context = NULL;
}

/* A connection suspended on purpose must not time out while it waits; the
 * idle timeout comes back when it is answered (MHD restarts its clock). */
static void lift_timeout(struct req_state *st, struct MHD_Connection *conn)
{
	if (st->waiting)
		return;
	st->waiting = 1;
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, 0U);
}

static void restore_timeout(struct req_state *st, struct MHD_Connection *conn)
{
	if (!st->waiting)
		return;
	st->waiting = 0;
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, st->srv->idle_timeout_s);
}

/* The first whole second after now, counted from first_ms. */
static uint64_t next_whole_second(uint64_t first_ms, uint64_t now)
{
	uint64_t waited = now > first_ms ? now - first_ms : 0;
	return first_ms + (waited / 1000 + 1) * 1000;
}

static void park(struct http_server *s, struct MHD_Connection *conn, uint64_t first_ms)
{
	struct parked *p = malloc(sizeof(*p));

	/* Suspend before listing it, so the waker can never resume it too early. */
	MHD_suspend_connection(conn);
	if (!p) {
		MHD_resume_connection(conn); /* dispatched again at once */
		return;
	}
	pthread_mutex_lock(&s->lock);
	p->conn = conn;
	p->due_ms = next_whole_second(first_ms, http_now_ms());
	p->next = s->parked;
	s->parked = p;
	pthread_mutex_unlock(&s->lock);
}

static int peer_uid(struct MHD_Connection *conn, uid_t *uid)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -1;
	*uid = cred.uid;
	return 0;
}

struct http_hold *http_request_hold(const struct http_request *req)
{
	struct req_state *st =
	    req->slot ? (struct req_state *)((char *)req->slot - offsetof(struct req_state, slot))
	              : NULL;
	if (!st || !req->conn || st->held)
		return NULL;
	struct http_server *s = st->srv;
	struct http_hold *h = malloc(sizeof(*h));
	if (!h)
		return NULL;
	pthread_mutex_lock(&s->lock);
	if (s->stopping) {
		pthread_mutex_unlock(&s->lock);
		free(h);
		return NULL;
	}
	s->nheld++;
	pthread_mutex_unlock(&s->lock);
	h->srv = s;
	h->conn = req->conn;
	st->held = 1;
	lift_timeout(st, h->conn);
	/* Suspended before the work starts, so a release can never come first. */
	MHD_suspend_connection(h->conn);
	return h;
}

void http_hold_release(struct http_hold *h)
{
	struct http_server *s = h->srv;
	MHD_resume_connection(h->conn);
	pthread_mutex_lock(&s->lock);
	if (--s->nheld == 0)
		pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	free(h);
}

/* The request as the handler sees it, without a body: method, path, peer, slot. */
static void req_fill(struct http_request *req, struct req_state *st, struct MHD_Connection *conn,
                     const char *url, const char *method)
{
	*req = (struct http_request){
	    .method = method,
	    .path = url,
	    .authorization =
	        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
	    .peer_local = st->local,
	    .peer_uid = st->uid,
	    .peer_addr = st->peer,
	    .first_call_ms = st->first_ms,
	    .conn = conn,
	    .slot = &st->slot,
	    .auth = &st->auth,
	};
}

/* Tell the observer (when there is one) that req was answered with status. */
static void req_observed(struct http_server *s, struct req_state *st,
                         const struct http_request *req, int status)
{
	if (s->ops.observe)
		s->ops.observe(s->ops.ctx, req, status,
		               (double)(http_now_ms() - st->start_ms) / 1000.0);
}

static enum MHD_Result dispatch(struct http_server *s, struct req_state *st,
                                struct MHD_Connection *conn, const char *url, const char *method)
{
	struct http_request req;
	struct http_reply rep = {.status = 200};
	enum MHD_Result ret;

	req_fill(&req, st, conn, url, method);
	req.body = st->body;
	req.body_len = st->len;
	pthread_mutex_lock(&s->lock);
	req.shutting_down = s->stopping;
	pthread_mutex_unlock(&s->lock);
	st->held = 0;
	s->ops.handle(s->ops.ctx, &req, &rep);
	if (st->held) {
		free(rep.body); /* answered when dispatched again */
		return MHD_YES;
	}
	if (rep.again && !req.shutting_down) {
		free(rep.body);
		lift_timeout(st, conn);
		park(s, conn, st->first_ms);
		return MHD_YES;
	}
	restore_timeout(st, conn);
	if (rep.again) {
		free(rep.body);
		return send_error(conn, 503, "unavailable", "master is shutting down");
	}
	ret = rep.upgrade && rep.status == 101 ? send_upgrade(s, conn, &rep)
	                                       : send_reply(s, conn, &rep);
	req_observed(s, st, &req, rep.status);
	return ret;
}

static void peer_text(struct MHD_Connection *conn, int local, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, outlen, "%s", local ? "local" : "unknown");
	if (local || !sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
		          (socklen_t)outlen);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
		          (socklen_t)outlen);
}

/* The first call, headers only: framing, admission, then the size the
 * request announces. Any refusal is queued now, before the body is read. */
static enum MHD_Result on_headers(struct http_server *s, struct req_state *st,
                                  struct MHD_Connection *conn, const char *url, const char *method)
{
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);

	if (cl && te)
		return send_error(conn, 400, "invalid_argument",
		                  "Content-Length and Transfer-Encoding together: send one");
	st->limit = s->ops.body_limit(s->ops.ctx, method, url);
	if (s->ops.admit) {
		struct http_request req;
		struct http_reply rep = {.status = 200};
		req_fill(&req, st, conn, url, method);
		if (s->ops.admit(s->ops.ctx, &req, &rep)) {
			set_phase(s, conn, PHASE_ANSWER);
			enum MHD_Result ret = send_reply(s, conn, &rep);
			req_observed(s, st, &req, rep.status);
			return ret;
		}
		free(rep.body);
	}
	if (cl) {
		char *end;
		errno = 0;
		unsigned long long n = strtoull(cl, &end, 10);
		if (errno || *end || n > st->limit)
			return send_error(conn, 413, "too_large", "request body too large");
	}
	return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
	struct listener *l = cls;
	struct http_server *s = l->srv;
	struct req_state *st = *con_cls;

	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return MHD_NO;
		*con_cls = st;
		st->srv = s;
		st->local = l->local;
		st->first_ms = st->start_ms = http_now_ms();
		peer_text(conn, l->local, st->peer, sizeof(st->peer));
		set_phase(s, conn, PHASE_BODY);
		if (l->local && peer_uid(conn, &st->uid) != 0)
			return send_error(conn, 401, "unauthenticated",
			                  "cannot read peer credentials");
		return on_headers(s, st, conn, url, method);
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (st->too_large || st->len + n > st->limit) {
			st->too_large = 1; /* keep draining, buffer nothing more */
			free(st->body);
			st->body = NULL;
			st->len = st->cap = 0;
			return MHD_YES;
		}
		if (st->len + n + 1 > st->cap) {
			/* Start small: glibc consolidates every free list of the
			 * arena before each allocation of 1 KiB or more, which for
			 * a small report body (the usual case) cost more than
			 * parsing it. */
			size_t cap = st->cap ? st->cap : 256;
			while (cap < st->len + n + 1)
				cap *= 2;
			char *b = realloc(st->body, cap);
			if (!b)
				return MHD_NO;
			st->body = b;
			st->cap = cap;
		}
		memcpy(st->body + st->len, upload_data, n);
		st->len += n;
		st->body[st->len] = '\0';
		return MHD_YES;
	}
	set_phase(s, conn, PHASE_ANSWER);
	if (st->too_large)
		return send_error(conn, 413, "too_large", "request body too large");
	return dispatch(s, st, conn, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct req_state *st = *con_cls;
	struct http_server *s;
	struct parked **pp;

	if (!st)
		return;
	s = st->srv;
	set_phase(s, conn, PHASE_HEAD); /* a kept-alive connection awaits its next request */
	/* A parked connection that the client dropped must leave the list. */
	pthread_mutex_lock(&s->lock);
	for (pp = &s->parked; *pp; pp = &(*pp)->next) {
		if ((*pp)->conn == conn) {
			struct parked *p = *pp;
			*pp = p->next;
			free(p);
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (st->slot.ptr && st->slot.free_fn)
		st->slot.free_fn(st->slot.ptr);
	if (st->auth.ptr && st->auth.free_fn)
		st->auth.free_fn(st->auth.ptr);
	free(st->body);
	free(st);
	*con_cls = NULL;
}

/* Resume the parked connections due by now (every one when all is set). */
static void resume_due(struct http_server *s, int all)
{
	struct parked *list = NULL, **pp;
	uint64_t now = http_now_ms();

	pthread_mutex_lock(&s->lock);
	for (pp = &s->parked; *pp;) {
		struct parked *p = *pp;
		if (all || p->due_ms <= now) {
			*pp = p->next;
			p->next = list;
			list = p;
			s->resumed++;
		} else {
			pp = &p->next;
		}
	}
	pthread_mutex_unlock(&s->lock);
	while (list) {
		struct parked *next = list->next;
		MHD_resume_connection(list->conn);
		free(list);
		list = next;
	}
}

static void *waker_main(void *arg)
{
	struct http_server *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += PARK_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!s->wake)
			pthread_cond_timedwait(&s->cond, &s->lock, &ts);
		int all = s->wake;
		s->wake = 0;
		cut_late_locked(s);
		pthread_mutex_unlock(&s->lock);
		streams_cut(s, 0);
		resume_due(s, all);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

uint64_t http_server_resumed(struct http_server *s)
{
	pthread_mutex_lock(&s->lock);
	uint64_t n = s->resumed;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void http_server_wake(struct http_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->wake = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static int unix_listen(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	unlink(path); /* a stale socket from a crashed master */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0666) != 0 ||
	    listen(fd, 128) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The whole of a PEM file into *out (NUL-terminated, at most 1 MiB). 0 or -1 with err. */
static int read_pem(const char *path, char **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0;
	int rv = -1;

	if (!f) {
		snprintf(err, errlen, "tls: %s: %s", path, strerror(errno));
		goto fail;
	}
	buf = malloc(1 << 20);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	n = fread(buf, 1, (1 << 20) - 1, f);
	if (ferror(f) || !feof(f) || n == 0) {
		snprintf(err, errlen, "tls: %s: %s", path,
		         ferror(f) ? strerror(errno)
		         : n       ? "larger than 1 MiB"
		                   : "empty");
		goto fail;
	}
	buf[n] = '\0';
	*out = buf;
	buf = NULL;
	rv = 0;
fail:
	free(buf);
	if (f)
		fclose(f);
	return rv;
}

/* Load the certificate and key for HTTPS into s (when configured). 0 or -1 with err. */
static int tls_load(struct http_server *s, const struct http_server_config *cfg, char *err,
                    size_t errlen)
{
	if (!cfg->tls_cert || !*cfg->tls_cert)
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen,
		         "tls: this libmicrohttpd was built without TLS support (GnuTLS); "
		         "cannot serve HTTPS");
		return -1;
	}
	if (!cfg->tls_key || !*cfg->tls_key) {
		snprintf(err, errlen, "tls: a certificate needs its private key");
		return -1;
	}
	return read_pem(cfg->tls_cert, &s->tls_cert, err, errlen) ||
	               read_pem(cfg->tls_key, &s->tls_key, err, errlen)
	           ? -1
	           : 0;
}

static struct MHD_Daemon *start_daemon(struct listener *l, const struct http_server_config *cfg,
                                       int port, int fd, const struct sockaddr_in *sa)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	                 MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG;
	unsigned threads = cfg->threads ? cfg->threads : 8;
	struct MHD_OptionItem tls[] = {
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, l->srv->tls_cert},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, l->srv->tls_key},
	    {MHD_OPTION_END, 0, NULL},
	};
	if (fd >= 0 || !l->srv->tls_cert)
		tls[0].option = MHD_OPTION_END; /* the Unix socket stays plain */
	else
		flags |= MHD_USE_TLS;
	unsigned conns = cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONNECTIONS;
	unsigned per_ip = cfg->max_connections_per_ip ? cfg->max_connections_per_ip
	                                              : DEFAULT_MAX_CONNECTIONS_PER_IP;
	unsigned timeout = l->srv->idle_timeout_s;

	/* The Unix socket has no client address: local users are not limited per IP. */
	if (fd >= 0)
		return MHD_start_daemon(flags, 0, NULL, NULL, on_access, l,
		                        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_THREAD_POOL_SIZE,
		                        threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
		                        MHD_OPTION_NOTIFY_CONNECTION, on_connection, l,
		                        MHD_OPTION_CONNECTION_TIMEOUT, timeout,
		                        MHD_OPTION_CONNECTION_LIMIT, conns, MHD_OPTION_END);
	return MHD_start_daemon(
	    flags, (uint16_t)port, NULL, NULL, on_access, l, MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, l, MHD_OPTION_CONNECTION_TIMEOUT, timeout,
	    MHD_OPTION_CONNECTION_LIMIT, conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip,
	    MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
}

struct http_server *http_server_start(const struct http_server_config *cfg,
                                      const struct http_server_ops *ops, char *err, size_t errlen)
{
	struct http_server *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->ops = *ops;
	s->tcp.srv = s->unix_l.srv = s;
	s->unix_l.local = 1;
	s->idle_timeout_s = cfg->idle_timeout_s ? cfg->idle_timeout_s : DEFAULT_IDLE_TIMEOUT_S;
	s->header_timeout_s =
	    cfg->header_timeout_s ? cfg->header_timeout_s : DEFAULT_HEADER_TIMEOUT_S;
	s->request_timeout_s =
	    cfg->request_timeout_s ? cfg->request_timeout_s : DEFAULT_REQUEST_TIMEOUT_S;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (cfg->listen_host && *cfg->listen_host && tls_load(s, cfg, err, errlen))
		goto fail;
	if (cfg->listen_host && *cfg->listen_host) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
		                         .sin_port = htons((uint16_t)cfg->listen_port)};
		const union MHD_DaemonInfo *di;
		if (inet_pton(AF_INET, cfg->listen_host, &sa.sin_addr) != 1) {
			snprintf(err, errlen, "listen address %s: not an IPv4 address",
			         cfg->listen_host);
			goto fail;
		}
		s->tcp.d = start_daemon(&s->tcp, cfg, cfg->listen_port, -1, &sa);
		if (!s->tcp.d) {
			snprintf(err, errlen, "cannot listen on %s:%d%s", cfg->listen_host,
			         cfg->listen_port,
			         s->tls_cert
			             ? " (with TLS: is the key the certificate's, both PEM?)"
			             : "");
			goto fail;
		}
		di = MHD_get_daemon_info(s->tcp.d, MHD_DAEMON_INFO_BIND_PORT);
		s->port = di ? di->port : cfg->listen_port;
	}
	if (cfg->socket_path && *cfg->socket_path) {
		int fd = unix_listen(cfg->socket_path, err, errlen);
		if (fd < 0)
			goto fail;
		s->socket_path = strdup(cfg->socket_path);
		s->unix_l.d = start_daemon(&s->unix_l, cfg, 0, fd, NULL);
		if (!s->unix_l.d) {
			close(fd);
			snprintf(err, errlen, "cannot serve on %s", cfg->socket_path);
			goto fail;
		}
	}
	if (pthread_create(&s->waker, NULL, waker_main, s) != 0) {
		snprintf(err, errlen, "cannot start a thread");
		goto fail;
	}
	s->waker_started = 1;
	return s;
fail:
	http_server_stop(s);
	return NULL;
}

int http_server_port(const struct http_server *s)
{
	return s ? s->port : 0;
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (s->waker_started)
		pthread_join(s->waker, NULL);
	/* Held requests wait for work that is already queued (commits): let
	 * them finish, since a daemon must not stop with suspended connections. */
	pthread_mutex_lock(&s->lock);
	while (s->nheld > 0)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	/* Switched connections (WebSockets) are cut; their handlers see the end and
	 * are done before the daemon goes. */
	pthread_mutex_lock(&s->lock);
	for (struct upgrade_call *u = s->upgrades; u; u = u->next)
		shutdown(u->fd, SHUT_RDWR);
	while (s->upgrades)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	/* Streamed answers end now (cut); the ones that wait for bytes run again. */
	while (streams_cut(s, 1) == STREAMS_CUT_BATCH)
		;
	/* Parked requests are dispatched once more and answered (shutting_down). */
	resume_due(s, 1);
	if (s->tcp.d)
		MHD_stop_daemon(s->tcp.d);
	if (s->unix_l.d)
		MHD_stop_daemon(s->unix_l.d);
	if (s->socket_path) {
		unlink(s->socket_path);
		free(s->socket_path);
	}
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s->tls_cert);
	if (s->tls_key)
		explicit_bzero(s->tls_key, strlen(s->tls_key));
	free(s->tls_key);
	free(s);
}
