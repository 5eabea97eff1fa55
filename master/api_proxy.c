/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interactive tasks over HTTP (doc/tasks.md): POST /tasks/{id}/register, by
 * which a running task (with the token the master gave it) says which port it
 * serves on, and /proxy/<id>/..., which relays any request of the task's owner
 * or an admin to that address (anyone else: 403). Nothing in a request can name the target: the
 * host is the registering connection's peer, the port the task's own.
 *
 * Non-obvious decision: the exchange with the task runs on a thread of its
 * own while the request is held (http_request_hold), so a slow or silent
 * backend never occupies one of the server's worker threads; every step up
 * to the answer's head has a bound (connect 5 s, each read or write 30 s, the
 * head within 120 s and 64 KiB), and the head is answered when the request is
 * dispatched again. The body then streams (struct proxy_stream): the thread
 * reads the task into a fixed window while the server sends from it, stops
 * reading while the window is full (a slow client slows the task, the
 * master's memory stays bounded), and closes the task's connection when the
 * client goes; a body silent for 300 s is cut.
 * The user's credentials (Authorization, the session cookies, X-Det-CSRF) are
 * never forwarded to the task.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "api_internal.h"
#include "authz.h"
#include "exp.h"
#include "fdio.h"
#include "store.h"
#include "task_proxy.h"

#define PROXY_CONNECT_TIMEOUT_MS 5000
#define PROXY_IO_TIMEOUT_S 30
#define PROXY_DEADLINE_S 120
#define PROXY_MAX_HEAD 65536
#define PROXY_BODY_IDLE_S 300
#define PROXY_WINDOW (256 * 1024) /* bytes of a body held per connection */

/* A server token a task may register: printable ASCII without spaces. */
static int auth_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TASK_PROXY_AUTH_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

void api_task_register(struct app *a, struct api_call *c, struct http_reply *rep)
{
	const char *auth = c->req->authorization, *key;
	const char *tok = auth && !strncmp(auth, "Bearer ", 7) ? auth + 7 : NULL;
	json_t *port = json_object_get(c->body, "port"), *v;
	json_t *server_tok = json_object_get(c->body, "token");
	char err[256];

	json_object_foreach (c->body, key, v) {
		if (strcmp(key, "port") && strcmp(key, "token")) {
			api_error(rep, 400,
			          "%.64s: unknown field (only \"port\" and \"token\"; the host is "
			          "the caller's own address)",
			          key);
			return;
		}
	}
	if (!json_is_integer(port) || json_integer_value(port) < 1 ||
	    json_integer_value(port) > 65535) {
		api_error(rep, 400, "port: expected an integer 1..65535");
		return;
	}
	if (server_tok &&
	    (!json_is_string(server_tok) ||
	     strlen(json_string_value(server_tok)) != json_string_length(server_tok) ||
	     !auth_ok(json_string_value(server_tok)))) {
		api_error(rep, 400,
		          "token: expected 1..%d printable ASCII characters without spaces",
		          TASK_PROXY_AUTH_MAX);
		return;
	}
	/* The task's own machine: the connection's peer (the Unix socket is this one). */
	const char *host =
	    c->req->peer_local || !c->req->peer_addr ? "127.0.0.1" : c->req->peer_addr;
	enum exp_status st = task_proxy_register(a, c->id, tok, host, (int)json_integer_value(port),
	                                         json_string_value(server_tok), err, sizeof(err));
	if (st != EXP_OK) {
		api_exp_error(rep, st, err);
		return;
	}
	api_json(rep, 200,
	         json_pack("{s:I, s:s, s:I}", "task_id", (json_int_t)c->id, "host", host, "port",
	                   json_integer_value(port)));
}

/* ---- the relay ------------------------------------------------------------ */

/* An answer's body on its way: the task's bytes in a ring of PROXY_WINDOW, filled by
 * the relay's thread (the producer), emptied by the server (the consumer). */
struct proxy_stream {
	pthread_mutex_t lock;
	pthread_cond_t room; /* the consumer took bytes, or went */
	int refs;            /* the producer's and the consumer's */
	int fd;              /* the task's connection, closed by the producer; -1 after */
	size_t head, len;    /* the ring's bytes: buf[head..head+len) modulo its size */
	int eof;             /* the task closed (error: not cleanly) */
	int error;
	int gone;                   /* the consumer is done: stop */
	int64_t expect;             /* the task's Content-Length, -1 when none */
	int64_t sent;               /* bytes given to the consumer */
	struct http_stream *waiter; /* the consumer found the ring empty: wake it */
	char buf[PROXY_WINDOW];
};

static void stream_unref(struct proxy_stream *ps)
{
	pthread_mutex_lock(&ps->lock);
	int last = --ps->refs == 0;
	pthread_mutex_unlock(&ps->lock);
	if (!last)
		return;
	pthread_cond_destroy(&ps->room);
	pthread_mutex_destroy(&ps->lock);
	free(ps);
}

/* A stream over the task's fd that starts with n bytes of early: NULL when out of
 * memory (fd untouched); n is at most PROXY_WINDOW. */
static struct proxy_stream *stream_new(int fd, const char *early, size_t n)
{
	struct proxy_stream *ps = malloc(sizeof(*ps));

	if (!ps)
		return NULL;
	if (pthread_mutex_init(&ps->lock, NULL)) {
		free(ps);
		return NULL;
	}
	if (pthread_cond_init(&ps->room, NULL)) {
		pthread_mutex_destroy(&ps->lock);
		free(ps);
		return NULL;
	}
	ps->refs = 2;
	ps->fd = fd;
	ps->head = 0;
	ps->len = n;
	ps->eof = ps->error = ps->gone = 0;
	ps->expect = -1;
	ps->sent = 0;
	ps->waiter = NULL;
	memcpy(ps->buf, early, n);
	return ps;
}

/* With ps->lock: a consumer that waits for bytes reads again. */
static void stream_wake_locked(struct proxy_stream *ps)
{
	if (ps->waiter)
		http_stream_wake(ps->waiter);
	ps->waiter = NULL;
}

/* The server's stream_read: up to max bytes from the ring. */
static long stream_read(void *cls, struct http_stream *hs, char *out, size_t max)
{
	struct proxy_stream *ps = cls;
	long rv = 0;

	pthread_mutex_lock(&ps->lock);
	if (ps->len) {
		size_t n = ps->len < max ? ps->len : max;
		size_t first = PROXY_WINDOW - ps->head < n ? PROXY_WINDOW - ps->head : n;
		memcpy(out, ps->buf + ps->head, first);
		memcpy(out + first, ps->buf, n - first);
		ps->head = (ps->head + n) % PROXY_WINDOW;
		ps->len -= n;
		ps->sent += (int64_t)n;
		pthread_cond_signal(&ps->room);
		rv = (long)n;
	} else if (ps->eof) {
		rv = ps->error || (ps->expect >= 0 && ps->sent < ps->expect) ? HTTP_STREAM_ERROR
		                                                             : HTTP_STREAM_END;
	} else {
		ps->waiter = hs;
	}
	pthread_mutex_unlock(&ps->lock);
	return rv;
}

/* The consumer is done (answer sent, client gone, never sent): the producer stops
 * and the task's connection is cut at once, even in a read that waits. */
static void stream_release(void *cls)
{
	struct proxy_stream *ps = cls;

	pthread_mutex_lock(&ps->lock);
	ps->gone = 1;
	ps->waiter = NULL;
	if (ps->fd >= 0)
		shutdown(ps->fd, SHUT_RDWR);
	pthread_cond_signal(&ps->room);
	pthread_mutex_unlock(&ps->lock);
	stream_unref(ps);
}

/* The producer: the task's bytes into the ring while there is room, until the task
 * closes or the consumer goes; then the task's connection is closed. */
static void stream_pump(struct proxy_stream *ps)
{
	struct timeval idle = {.tv_sec = PROXY_BODY_IDLE_S};

	setsockopt(ps->fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
	pthread_mutex_lock(&ps->lock);
	for (;;) {
		while (ps->len == PROXY_WINDOW && !ps->gone)
			pthread_cond_wait(&ps->room, &ps->lock);
		if (ps->gone)
			break;
		size_t tail = (ps->head + ps->len) % PROXY_WINDOW;
		size_t room = PROXY_WINDOW - ps->len;
		if (room > PROXY_WINDOW - tail)
			room = PROXY_WINDOW - tail;
		pthread_mutex_unlock(&ps->lock);
		/* Only the producer writes past the ring's bytes: no lock while it waits. */
		ssize_t n = recv(ps->fd, ps->buf + tail, room, 0);
		int e = errno;
		pthread_mutex_lock(&ps->lock);
		if (n < 0 && e == EINTR)
			continue;
		if (n <= 0) {
			ps->eof = 1;
			ps->error = n < 0;
			stream_wake_locked(ps);
			break;
		}
		ps->len += (size_t)n;
		stream_wake_locked(ps);
	}
	int fd = ps->fd;
	ps->fd = -1;
	pthread_mutex_unlock(&ps->lock);
	close(fd);
	stream_unref(ps);
}

/* One relayed request while it is held: what to send, what came back. */
struct proxy_job {
	struct api_pending base;
	struct http_hold *hold;
	char host[TASK_PROXY_HOST_MAX];
	int port;
	char auth[TASK_PROXY_AUTH_MAX + 1]; /* the server's token, "" for none */
	int64_t task_id;
	char *out; /* the request as sent */
	size_t out_len;
	char *in; /* the answer's head as received */
	size_t in_len;
	struct proxy_stream *stream; /* the answer's body, for the consumer's side */
	int ws;        /* a WebSocket upgrade: fd stays open after the answer's head */
	int raw;       /* a det-tcp upgrade (a shell's tunnel): connect only, then bytes */
	int head_only; /* a HEAD: the answer has no body */
	int fd;        /* ws: the connection to the task, -1 when none */
	int failed;    /* 502: err says why */
	int timed_out; /* 504 */
	char err[256];
	char content_type[256];
};

static void proxy_job_free(void *ptr)
{
	struct proxy_job *j = ptr;
	if (j->fd >= 0)
		close(j->fd);
	if (j->stream)
		stream_release(j->stream);
	free(j->out);
	free(j->in);
	free(j);
}

static uint64_t mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* A TCP connection to host:port (numeric) within the connect timeout, blocking
 * with I/O timeouts from then on: the fd, or -1 with j->err. */
static int backend_connect(struct proxy_job *j)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                         .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	struct timeval tv = {.tv_sec = PROXY_IO_TIMEOUT_S};
	char port[8];
	int fd = -1, soerr = 0;
	socklen_t len = sizeof(soerr);

	snprintf(port, sizeof(port), "%d", j->port);
	if (getaddrinfo(j->host, port, &hints, &ai) || !ai) {
		snprintf(j->err, sizeof(j->err), "task %lld's address %s is not an IP address",
		         (long long)j->task_id, j->host);
		goto fail;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto sys_fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS)
		goto sys_fail;
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int n = poll(&p, 1, PROXY_CONNECT_TIMEOUT_MS);
	if (n == 0) {
		j->timed_out = 1;
		snprintf(j->err, sizeof(j->err), "task %lld does not answer on port %d (%d s)",
		         (long long)j->task_id, j->port, PROXY_CONNECT_TIMEOUT_MS / 1000);
		goto fail;
	}
	if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		goto sys_fail;
	if (soerr) {
		errno = soerr;
		goto sys_fail;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		goto sys_fail;
	freeaddrinfo(ai);
	return fd;
sys_fail:
	snprintf(j->err, sizeof(j->err), "task %lld on port %d: %s", (long long)j->task_id, j->port,
	         strerror(errno));
fail:
	if (ai)
		freeaddrinfo(ai);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Send the request, read the answer's head; what follows it is j->stream's (or, for
 * an upgrade, j->fd's): 0, or -1 with j->err. */
static int backend_exchange(struct proxy_job *j)
{
	int rv = -1, fd = backend_connect(j);
	uint64_t start = mono_s();
	size_t cap = 0;

	if (fd < 0)
		return -1;
	if (j->raw) {
		j->fd = fd; /* nothing to send: the client's bytes are the protocol */
		return 0;
	}
	for (size_t off = 0; off < j->out_len;) {
		ssize_t n = send(fd, j->out + off, j->out_len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto io_fail;
		off += (size_t)n;
	}
	for (;;) {
		if (mono_s() - start > PROXY_DEADLINE_S) {
			errno = ETIMEDOUT;
			goto io_fail;
		}
		if (j->in_len + 65536 > cap) {
			size_t ncap = cap ? cap * 2 : 65536 * 2;
			char *b = ncap <= PROXY_MAX_HEAD + 65536 ? realloc(j->in, ncap) : NULL;
			if (!b) {
				snprintf(j->err, sizeof(j->err),
				         "task %lld's answer head is too long",
				         (long long)j->task_id);
				goto fail;
			}
			j->in = b;
			cap = ncap;
		}
		ssize_t n = recv(fd, j->in + j->in_len, cap - j->in_len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto io_fail;
		if (n == 0)
			break;
		j->in_len += (size_t)n;
		j->in[j->in_len] = '\0';
		if (strstr(j->in, "\r\n\r\n"))
			break; /* the body, or after a switch the other protocol's */
		if (j->in_len > PROXY_MAX_HEAD) {
			snprintf(j->err, sizeof(j->err), "task %lld's answer head is too long",
			         (long long)j->task_id);
			goto fail;
		}
	}
	j->in[j->in_len] = '\0';
	rv = 0;
	if (j->ws) {
		j->fd = fd; /* relayed from now on */
		return 0;
	}
	char *end = strstr(j->in, "\r\n\r\n");
	if (!end) /* closed within the head: proxy_answer says so */
		goto fail;
	size_t head = (size_t)(end + 4 - j->in);
	j->stream = stream_new(fd, j->in + head, j->in_len - head);
	if (!j->stream) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		rv = -1;
		goto fail;
	}
	j->in_len = head;
	j->in[head] = '\0';
	return 0;
io_fail:
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT)
		j->timed_out = 1;
	snprintf(j->err, sizeof(j->err), "task %lld on port %d: %s", (long long)j->task_id, j->port,
	         j->timed_out ? "no answer in time" : strerror(errno));
fail:
	close(fd);
	return rv;
}

/* The relay's thread: the exchange, then the request runs again (j is its from then). */
static void *proxy_main(void *arg)
{
	struct proxy_job *j = arg;
	if (backend_exchange(j))
		j->failed = 1;
	struct proxy_stream *ps = j->stream; /* j is the server's once released */
	http_hold_release(j->hold);
	if (ps)
		stream_pump(ps);
	return NULL;
}

/* Answer headers relayed to the client (names as sent on). */
static const char *const relayed_headers[] = {
    "Location",      "Set-Cookie",          "Cache-Control",           "ETag",
    "Last-Modified", "Content-Disposition", "Content-Security-Policy", "X-Content-Type-Options",
};

/* Relay header line: value onto rep when line is one of names[0..n) (case-insensitive)
 * and value fits; otherwise it is dropped. */
static void relay_header(struct http_reply *rep, const char *const *names, size_t n,
                         const char *line, const char *value)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(line, names[i]) && strlen(value) < sizeof(rep->headers[0].value))
			http_reply_header(rep, names[i], "%s", value);
}

/* A Content-Length value: the length, or -1 when it is not one. */
static int64_t content_length(const char *v)
{
	char *end = NULL;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (*v < '0' || *v > '9' || errno || n < 0 || end == v || *(end + strspn(end, " \t")))
		return -1;
	return (int64_t)n;
}

/* The task's answer (its head in j->in, its body j->stream) into rep: 0, or -1 with
 * j->err. */
static int proxy_answer(struct proxy_job *j, struct http_reply *rep)
{
	char *end = j->in ? strstr(j->in, "\r\n\r\n") : NULL;
	int status = 0;
	int64_t length = -1;

	if (!end || end - j->in > PROXY_MAX_HEAD ||
	    sscanf(j->in, "HTTP/%*d.%*d %d", &status) != 1 || status < 100 || status > 599) {
		snprintf(j->err, sizeof(j->err), "task %lld did not answer in HTTP",
		         (long long)j->task_id);
		return -1;
	}
	*end = '\0';
	char *save = NULL,
	     *line = strtok_r(strchr(j->in, '\n') ? strchr(j->in, '\n') + 1 : end, "\r\n", &save);
	snprintf(j->content_type, sizeof(j->content_type), "application/octet-stream");
	for (; line; line = strtok_r(NULL, "\r\n", &save)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		const char *value = colon + 1;
		while (*value == ' ' || *value == '\t')
			value++;
		if (!strcasecmp(line, "Transfer-Encoding")) {
			snprintf(j->err, sizeof(j->err),
			         "task %lld answered in chunks (Transfer-Encoding) to an HTTP/1.0 "
			         "request",
			         (long long)j->task_id);
			return -1;
		}
		if (!strcasecmp(line, "Content-Type")) {
			snprintf(j->content_type, sizeof(j->content_type), "%s", value);
			continue;
		}
		if (!strcasecmp(line, "Content-Length")) {
			length = content_length(value);
			if (length < 0) {
				snprintf(j->err, sizeof(j->err),
				         "task %lld answered a bad Content-Length",
				         (long long)j->task_id);
				return -1;
			}
			continue;
		}
		relay_header(rep, relayed_headers,
		             sizeof(relayed_headers) / sizeof(relayed_headers[0]), line, value);
	}
	free(rep->body);
	rep->body = NULL;
	rep->len = 0;
	rep->status = status;
	rep->content_type = j->content_type;
	/* No body to a HEAD, nor with 1xx, 204 and 304; the rest streams as it comes. */
	if (j->head_only || status < 200 || status == 204 || status == 304 || !j->stream) {
		rep->body = strdup("");
		return 0;
	}
	j->stream->expect = length; /* before the server reads: no lock needed yet */
	rep->stream_read = stream_read;
	rep->stream_free = stream_release;
	rep->stream_cls = j->stream; /* the server's from now on */
	rep->stream_len = length;
	j->stream = NULL;
	return 0;
}

/* An upgraded connection: the client's socket and the task's, relayed both ways. */
struct ws_relay {
	int task_fd;
	char *early; /* what the task sent after its answer's head */
	size_t early_len;
	int client_fd;
	void *handle;
	char *extra; /* what the client sent after its request's head */
	size_t extra_len;
};

static void ws_relay_end(struct ws_relay *r)
{
	close(r->task_fd);
	http_upgrade_done(r->handle);
	free(r->early);
	free(r->extra);
	free(r);
}

/* The relay's thread: bytes both ways until either side closes. */
static void *ws_main(void *arg)
{
	struct ws_relay *r = arg;
	char buf[16384];
	struct pollfd p[2] = {{.fd = r->client_fd, .events = POLLIN},
	                      {.fd = r->task_fd, .events = POLLIN}};
	struct timeval none = {0};

	/* No timeouts from here: the peers' pace is the relay's. */
	setsockopt(r->task_fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof(none));
	setsockopt(r->task_fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof(none));
	if (fdio_write_all(r->client_fd, r->early, r->early_len, 1) ||
	    fdio_write_all(r->task_fd, r->extra, r->extra_len, 1))
		goto out;
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		int from = p[0].revents ? 0 : 1;
		if (!p[from].revents)
			continue;
		ssize_t n = recv(p[from].fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || fdio_write_all(p[1 - from].fd, buf, (size_t)n, 1))
			break;
	}
out:
	ws_relay_end(r);
	return NULL;
}

/* MHD switched the client's connection: start the relay. */
static void ws_start(void *cls, int fd, const char *extra, size_t n, void *handle)
{
	struct ws_relay *r = cls;
	pthread_t th;
	pthread_attr_t attr;

	r->client_fd = fd;
	r->handle = handle;
	r->extra = n ? malloc(n) : NULL;
	if (r->extra)
		memcpy(r->extra, extra, n);
	r->extra_len = r->extra ? n : 0;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, ws_main, r))
		ws_relay_end(r);
	pthread_attr_destroy(&attr);
}

/* Answer 101 and relay the client to the task's connection (j->fd, then r's). */
static void relay_switch(struct proxy_job *j, struct http_reply *rep, struct ws_relay *r)
{
	r->task_fd = j->fd;
	j->fd = -1; /* the relay's */
	free(rep->body);
	rep->body = NULL;
	rep->status = 101;
	rep->upgrade = ws_start;
	rep->upgrade_cls = r;
}

/* The task's switch (101) into rep: its handshake headers and the relay to start. */
static int ws_answer(struct proxy_job *j, struct http_reply *rep)
{
	static const char *const hs[] = {"Upgrade", "Sec-WebSocket-Accept",
	                                 "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"};
	char *end = j->in ? strstr(j->in, "\r\n\r\n") : NULL;
	int status = 0;
	struct ws_relay *r = NULL;

	if (!end || sscanf(j->in, "HTTP/%*d.%*d %d", &status) != 1 || status != 101) {
		snprintf(j->err, sizeof(j->err),
		         "task %lld did not accept the WebSocket (status %d)",
		         (long long)j->task_id, status);
		return -1;
	}
	size_t head = (size_t)(end + 4 - j->in);
	r = calloc(1, sizeof(*r));
	if (r && j->in_len > head && !(r->early = malloc(j->in_len - head))) {
		free(r);
		r = NULL;
	}
	if (!r) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		return -1;
	}
	r->early_len = j->in_len - head;
	if (r->early_len)
		memcpy(r->early, j->in + head, r->early_len);
	*end = '\0';
	char *save = NULL;
	for (char *line = strtok_r(j->in, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		const char *value = colon + 1 + strspn(colon + 1, " \t");
		relay_header(rep, hs, sizeof(hs) / sizeof(hs[0]), line, value);
	}
	relay_switch(j, rep, r);
	return 0;
}

/* A det-tcp upgrade's switch: 101 and the relay to the task's raw TCP. */
static int raw_answer(struct proxy_job *j, struct http_reply *rep)
{
	struct ws_relay *r = calloc(1, sizeof(*r));
	if (!r || http_reply_header(rep, "Upgrade", "det-tcp")) {
		free(r);
		snprintf(j->err, sizeof(j->err), "out of memory");
		return -1;
	}
	relay_switch(j, rep, r);
	return 0;
}

static void proxy_finish(struct app *a, struct api_pending *p, struct http_reply *rep)
{
	struct proxy_job *j = (struct proxy_job *)p;
	(void)a;
	if (j->failed || (j->raw  ? raw_answer(j, rep)
	                  : j->ws ? ws_answer(j, rep)
	                          : proxy_answer(j, rep)))
		api_error(rep, j->timed_out ? 504 : 502, "%s", j->err);
}

/* Percent-encode s onto f; keep the characters of keep besides letters and digits. */
static void put_encoded(FILE *f, const char *s, const char *keep)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(keep, *p))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
	}
}

struct header_walk {
	FILE *f;
	int nargs;
	int ws; /* keep the upgrade's headers */
};

static void put_arg(void *cls, const char *name, const char *value)
{
	struct header_walk *w = cls;
	fputc(w->nargs++ ? '&' : '?', w->f);
	put_encoded(w->f, name, "-._~");
	if (value) {
		fputc('=', w->f);
		put_encoded(w->f, value, "-._~");
	}
}

/* The Cookie header without the master's own cookies (the user's session). */
static void put_cookies(FILE *f, const char *cookies)
{
	int n = 0;
	size_t len;
	const char *p = cookies, *c;
	while ((c = api_cookie_next(&p, &len)))
		if (strncmp(c, "det_session=", 12) && strncmp(c, "det_csrf=", 9))
			fprintf(f, "%s%.*s", n++ ? "; " : "Cookie: ", (int)len, c);
	if (n)
		fputs("\r\n", f);
}

static void put_header(void *cls, const char *name, const char *value)
{
	static const char *const dropped[] = {
	    "Host",
	    "Connection",
	    "Keep-Alive",
	    "Proxy-Connection",
	    "Proxy-Authorization",
	    "TE",
	    "Trailer",
	    "Upgrade",
	    "Transfer-Encoding",
	    "Content-Length",
	    "Authorization",
	    "X-Det-CSRF",
	    "Expect",
	};
	struct header_walk *w = cls;
	if (!value || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return;
	if (w->ws && !strcasecmp(name, "Upgrade")) {
		fprintf(w->f, "Upgrade: %s\r\n", value);
		return;
	}
	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (!strcasecmp(name, dropped[i]))
			return;
	if (!strcasecmp(name, "Cookie"))
		put_cookies(w->f, value);
	else
		fprintf(w->f, "%s: %s\r\n", name, value);
}

/* The request to send to the task into j->out: 0, or -1 (out of memory). */
static int proxy_request(struct proxy_job *j, const struct http_request *req)
{
	FILE *f = open_memstream(&j->out, &j->out_len);
	struct header_walk w = {.f = f, .ws = j->ws};
	int v6 = strchr(j->host, ':') != NULL;

	if (!f)
		return -1;
	fprintf(f, "%s ", req->method);
	put_encoded(f, req->path, "-._~/!$&'()*+,;=:@");
	http_request_each(req, 1, put_arg, &w);
	/* HTTP/1.0 and a close: the answer ends where the connection does, never chunked.
	 * A WebSocket's handshake needs HTTP/1.1. */
	fprintf(f, " HTTP/1.%d\r\nHost: %s%s%s:%d\r\nConnection: %s\r\n", j->ws, v6 ? "[" : "",
	        j->host, v6 ? "]" : "", j->port, j->ws ? "Upgrade" : "close");
	if (req->peer_addr)
		fprintf(f, "X-Forwarded-For: %s\r\n",
		        strcmp(req->peer_addr, "local") ? req->peer_addr : "127.0.0.1");
	http_request_each(req, 0, put_header, &w);
	/* The server's own token (a notebook's), so its owner never needs it; theirs
	 * (the Authorization they sent the master) was dropped above. */
	if (j->auth[0])
		fprintf(f, "Authorization: token %s\r\n", j->auth);
	if (req->body_len || (strcmp(req->method, "GET") && !j->ws))
		fprintf(f, "Content-Length: %zu\r\n", req->body_len);
	fputs("\r\n", f);
	if (req->body_len)
		fwrite(req->body, 1, req->body_len, f);
	return fclose(f) ? -1 : 0;
}

void api_proxy(struct app *a, struct api_call *c, struct http_reply *rep)
{
	char err[256];
	struct store_task t;
	struct task_proxy_row r;
	struct proxy_job *j = NULL;
	pthread_t th;
	pthread_attr_t attr;

	int found = store_task_get(a->store, c->id, &t, err, sizeof(err));
	if (found > 0)
		found = store_task_proxy_get(a->store, c->id, &r, err, sizeof(err));
	if (found < 0) {
		api_error(rep, 500, "%s", err);
		return;
	}
	if (!found) {
		api_error(rep, 404, "task %lld not found", (long long)c->id);
		return;
	}
	/* The owner (bound to its uid) and admins. Anyone else is told so (403): task ids
	 * are sequential, so the answer reveals nothing a user could not guess. */
	int64_t owner = c->who.uid >= 0 && c->who.uid == t.owner_uid ? c->who.user_id : -1;
	if (!authz_allowed(&c->who, AUTHZ_TASK_KILL, owner)) {
		api_error(rep, 403,
		          "task %lld belongs to another user: only its owner or an admin may "
		          "reach it",
		          (long long)c->id);
		return;
	}
	if (strcmp(t.state, "RUNNING") || !r.port) {
		api_error(rep, 502, "task %lld is %s%s: nothing to relay to", (long long)c->id,
		          t.state,
		          strcmp(t.state, "RUNNING") ? "" : " and has not registered a port");
		return;
	}
	j = c->req->slot ? calloc(1, sizeof(*j)) : NULL;
	if (!j) {
		api_error(rep, 500, "out of memory");
		return;
	}
	j->base.finish = proxy_finish;
	j->fd = -1;
	const char *up = http_request_header(c->req, "Upgrade");
	j->ws = up && !strcasecmp(up, "websocket") && !strcmp(c->req->method, "GET");
	j->raw = up && !strcasecmp(up, "det-tcp") && !strcmp(c->req->method, "GET");
	/* A shell's sshd speaks only SSH: no HTTP reaches it, and only a shell is raw. */
	if (j->raw != !strcmp(t.kind, "shell")) {
		api_error(rep, 400, "task %lld is a %s: %s", (long long)c->id, t.kind,
		          j->raw
		              ? "only a shell takes an Upgrade: det-tcp"
		              : "a shell takes only GET with Upgrade: det-tcp (det shell proxy)");
		proxy_job_free(j);
		return;
	}
	j->head_only = !strcmp(c->req->method, "HEAD");
	j->task_id = c->id;
	j->port = r.port;
	snprintf(j->host, sizeof(j->host), "%s", r.host);
	snprintf(j->auth, sizeof(j->auth), "%s", r.auth);
	if (!j->raw && proxy_request(j, c->req)) {
		api_error(rep, 500, "out of memory");
		proxy_job_free(j);
		return;
	}
	j->hold = http_request_hold(c->req);
	if (!j->hold) {
		api_error(rep, 503, "the master is stopping");
		proxy_job_free(j);
		return;
	}
	c->req->slot->ptr = j;
	c->req->slot->free_fn = proxy_job_free;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, proxy_main, j)) {
		j->failed = 1;
		snprintf(j->err, sizeof(j->err), "cannot start a thread");
		http_hold_release(j->hold);
	}
	pthread_attr_destroy(&attr);
}
