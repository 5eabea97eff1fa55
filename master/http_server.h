/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The master's HTTP front: TCP and Unix-socket listeners over one set of
 * handlers. Each request is admitted (authenticated) from its headers before
 * a byte of its body is read; bodies are size-capped per route while they
 * arrive; connections are limited per client address and time out when
 * idle; long polls are parked without holding a worker thread.
 */
#ifndef DET_HTTP_SERVER_H
#define DET_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct http_server;

/* One request as the handler sees it. */
struct http_request {
	const char *method;
	const char *path;          /* URL path without the query string */
	const char *authorization; /* Authorization header or NULL */
	const char *body;          /* NUL-terminated; NULL when empty */
	size_t body_len;
	int peer_local;         /* arrived on the Unix socket */
	uid_t peer_uid;         /* SO_PEERCRED uid when peer_local */
	const char *peer_addr;  /* client IP as text, "local" on the socket; NULL in tests */
	uint64_t first_call_ms; /* monotonic ms of the first dispatch (long polls) */
	int shutting_down;      /* server is stopping: answer now */
	void *conn;             /* opaque, for http_request_arg */
	struct http_slot *slot; /* state kept across dispatches; NULL outside the server */
	struct http_slot *auth; /* kept by ops.admit; NULL outside the server */
};

/* A handler's state for one request, kept across its dispatches; the server
 * calls free_fn(ptr) when the request ends. */
struct http_slot {
	void *ptr;
	void (*free_fn)(void *ptr);
};

struct http_hold;
struct http_stream;

/* What a stream_read answers besides a byte count. */
#define HTTP_STREAM_END (-1L)   /* the body is complete */
#define HTTP_STREAM_ERROR (-2L) /* the body cannot be completed: cut the connection */

#define HTTP_MAX_EXTRA_HEADERS 8

/* A response header beyond Content-Type (name is a static string). */
struct http_header {
	const char *name;
	char value[256];
};

/* What the handler answers. */
struct http_reply {
	int status;
	char *body; /* malloc'd; the server frees it */
	size_t len;
	const char *content_type; /* static string; default application/json */
	int again;                /* 1: park the request and dispatch it again later */
	struct http_header headers[HTTP_MAX_EXTRA_HEADERS]; /* extra response headers */
	int nheaders;
	uint64_t file_len; /* > 0: the body is file_fd's next file_len bytes, not body */
	int file_fd;       /* with file_len: read from here and closed by the server */
	/* Non-NULL with status 101: the connection is switched to another protocol;
	 * upgrade(upgrade_cls, fd, extra, n, handle) then owns the socket fd (extra: n
	 * bytes the client sent already) until http_upgrade_done(handle). */
	void (*upgrade)(void *cls, int fd, const char *extra, size_t n, void *handle);
	void *upgrade_cls;
	/* Non-NULL: the body is streamed from stream_read(stream_cls, hs, buf, max): n > 0
	 * bytes, 0 for none yet (the connection then waits for http_stream_wake(hs)),
	 * HTTP_STREAM_END or HTTP_STREAM_ERROR. stream_len is the body's length, or -1
	 * when unknown (sent chunked). stream_free(stream_cls) is called once when the
	 * server is done with it (sent, client gone, stopping, or never sent). */
	long (*stream_read)(void *cls, struct http_stream *hs, char *buf, size_t max);
	void (*stream_free)(void *cls);
	void *stream_cls;
	int64_t stream_len;
};

/* A stream_read that answered 0 has bytes (or its end) now: read again. Any thread,
 * only before stream_free has returned. */
void http_stream_wake(struct http_stream *hs);

/* End an upgraded connection (the handle given to http_reply.upgrade). */
void http_upgrade_done(void *handle);

/* Append response header name (a static string) with a printf-formatted value, cut to
 * fit; 0, or -1 (nothing added) when rep holds HTTP_MAX_EXTRA_HEADERS already. */
int http_reply_header(struct http_reply *rep, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Query argument name of req, or NULL. */
const char *http_request_arg(const struct http_request *req, const char *name);

/* Request header name of req, or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);

/* Call fn for each request header (args 0) or decoded query argument (args 1) of req,
 * in the order sent; value may be NULL (an argument without '='). */
void http_request_each(const struct http_request *req, int args,
                       void (*fn)(void *cls, const char *name, const char *value), void *cls);

struct http_server_ops {
	void *ctx;
	/* Largest body accepted for this method and path (bytes). */
	size_t (*body_limit)(void *ctx, const char *method, const char *path);
	/* Called once per request with its headers only (body NULL), before any
	 * of the body is read: 0 to go on (state for handle() may be kept in
	 * req->auth), else rep is answered at once and the body never read.
	 * May be NULL (every request admitted). */
	int (*admit)(void *ctx, const struct http_request *req, struct http_reply *rep);
	/* Fill rep for req; must not block for long (park with rep->again). */
	void (*handle)(void *ctx, const struct http_request *req, struct http_reply *rep);
	/* Called after each answered request with its duration (may be NULL). */
	void (*observe)(void *ctx, const struct http_request *req, int status, double seconds);
};

struct http_server_config {
	const char *listen_host;  /* NULL or "" = no TCP listener */
	int listen_port;          /* 0 = pick a free port */
	const char *socket_path;  /* NULL or "" = no Unix listener */
	unsigned threads;         /* worker threads per listener */
	const char *tls_cert;     /* PEM certificate file: TCP speaks HTTPS; NULL/"" = HTTP */
	const char *tls_key;      /* PEM private key file of tls_cert */
	unsigned max_connections; /* per listener; 0 = 4096 */
	unsigned max_connections_per_ip; /* TCP connections per client address; 0 = 256 */
	unsigned idle_timeout_s;         /* close a connection idle this long; 0 = 30 */
	unsigned header_timeout_s;       /* most time to receive a request head; 0 = 30 */
	unsigned request_timeout_s;      /* most time to receive one body; 0 = 300 */
};

/* Start the listeners. NULL with err on failure. */
struct http_server *http_server_start(const struct http_server_config *cfg,
                                      const struct http_server_ops *ops, char *err, size_t errlen);

/* The TCP port actually bound (useful with port 0), or 0. */
int http_server_port(const struct http_server *s);

/* Hold req's connection (no answer from this dispatch) until http_hold_release();
 * then the handler is dispatched again with the same slot. NULL when not
 * possible (a request built outside the server, out of memory, stopping). */
struct http_hold *http_request_hold(const struct http_request *req);

/* Dispatch a held request again; any thread, once per hold. */
void http_hold_release(struct http_hold *h);

/* Re-dispatch every parked request now (state they wait on changed). Without
 * it a parked request runs again at each whole second from its first dispatch. */
void http_server_wake(struct http_server *s);

/* How many times parked requests were dispatched again so far. */
uint64_t http_server_resumed(struct http_server *s);

/* Stop accepting, answer parked requests, join threads, free (NULL is fine). */
void http_server_stop(struct http_server *s);

/* Monotonic clock in milliseconds. */
uint64_t http_now_ms(void);

#endif
