/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rawload: the client side of bench-master, made as cheap as possible so that
 * the master's cost is what the bench measures (both share the same cores).
 * Each logical client (a trial) is one kept-alive TCP connection with one
 * request in flight, like a trial calling the API synchronously; a few
 * threads each drive their share of the connections with epoll.
 *
 * Main structure: struct rconn per connection, holding its request prefix
 * (request line and headers up to Content-Length, built once), the response
 * bytes read so far and the time the request was sent.
 *
 * Non-obvious decision: responses are parsed only as far as needed (status,
 * Content-Length, end of body); the master's answers are small and there is
 * exactly one outstanding request per connection, so anything else on a
 * connection counts as an error and the connection is reopened.
 */
#include "rawload.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RCONN_IN 8192

struct rconn {
	int fd;
	const struct rawload_client *c;
	char prefix[512];
	size_t prefix_len;
	char in[RCONN_IN];
	size_t in_len;
	double t0;
	long long next_step, sent_rows;
	int done;
};

struct rworker {
	pthread_t th;
	int port, health;
	double end;
	struct rconn *conns;
	int n;
	double *lat;
	size_t nlat, cap;
	size_t answered;
	long long errors;
	int failed;
	char err[256];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

/* Send the connection's next request. 0 or -1 (connection broken). */
static int send_next(struct rconn *r, int health)
{
	char buf[1024], body[256];
	size_t len;

	if (health) {
		static const char get[] = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
		memcpy(buf, get, sizeof(get) - 1);
		len = sizeof(get) - 1;
	} else {
		long long step = r->next_step++;
		int bl = snprintf(body, sizeof(body),
		                  "{\"group\":\"training\",\"steps_completed\":%lld,"
		                  "\"metrics\":{\"loss\":%.3f,\"acc\":0.5}}",
		                  step, 1.0 / (double)(step - r->c->first_step));
		int hl =
		    snprintf(buf, sizeof(buf), "%.*s%d\r\n\r\n", (int)r->prefix_len, r->prefix, bl);
		if (bl < 0 || hl < 0 || (size_t)hl + (size_t)bl > sizeof(buf))
			return -1;
		memcpy(buf + hl, body, (size_t)bl);
		len = (size_t)hl + (size_t)bl;
	}
	r->in_len = 0;
	r->t0 = now_s();
	return send_all(r->fd, buf, len);
}

/* Has a whole response arrived? 1 yes (status in *status), 0 not yet, -1 malformed. */
static int parse(struct rconn *r, int *status)
{
	r->in[r->in_len] = '\0';
	char *end = strstr(r->in, "\r\n\r\n");
	if (!end)
		return r->in_len >= RCONN_IN - 1 ? -1 : 0;
	if (strncmp(r->in, "HTTP/1.1 ", 9) != 0)
		return -1;
	*status = atoi(r->in + 9);
	size_t clen = 0;
	for (char *h = strstr(r->in, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n"))
		if (!strncasecmp(h + 2, "Content-Length:", 15))
			clen = strtoul(h + 17, NULL, 10);
	size_t total = (size_t)(end + 4 - r->in) + clen;
	if (total >= RCONN_IN)
		return -1;
	if (r->in_len < total)
		return 0;
	return r->in_len == total ? 1 : -1;
}

static int more_to_send(struct rworker *w, struct rconn *r)
{
	if (r->c->rows > 0)
		return r->sent_rows < r->c->rows;
	return now_s() < w->end;
}

/* (Re)open a connection and send its next request; marks it done when it cannot. */
static void start(struct rworker *w, int ep, struct rconn *r)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = r};

	if (r->fd < 0) {
		r->fd = dial(w->port);
		if (r->fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, r->fd, &ev) != 0) {
			w->errors++;
			r->done = 1;
			return;
		}
	}
	if (!more_to_send(w, r)) {
		r->done = 1;
		return;
	}
	r->sent_rows++;
	if (send_next(r, w->health) != 0) {
		w->errors++;
		close(r->fd);
		r->fd = -1;
		r->done = 1;
	}
}

static void *worker_main(void *arg)
{
	struct rworker *w = arg;
	struct epoll_event evs[64];
	int live = w->n, ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0) {
		w->failed = 1;
		snprintf(w->err, sizeof(w->err), "epoll_create1: %s", strerror(errno));
		return NULL;
	}
	for (int i = 0; i < w->n; i++) {
		start(w, ep, &w->conns[i]);
		if (w->conns[i].done)
			live--;
	}
	while (live > 0) {
		int k = epoll_wait(ep, evs, 64, 1000);
		if (k < 0 && errno != EINTR)
			break;
		for (int i = 0; i < k; i++) {
			struct rconn *r = evs[i].data.ptr;
			int status = 0, rc;
			ssize_t got = recv(r->fd, r->in + r->in_len, RCONN_IN - 1 - r->in_len, 0);
			if (got < 0 && errno == EINTR)
				continue;
			rc = got > 0 ? (r->in_len += (size_t)got, parse(r, &status)) : -1;
			if (rc == 0)
				continue;
			if (rc > 0) {
				double dt = (now_s() - r->t0) * 1000.0;
				w->answered++;
				if (status != 200)
					w->errors++;
				if (w->nlat < w->cap)
					w->lat[w->nlat++] = dt;
			} else {
				w->errors++;
				epoll_ctl(ep, EPOLL_CTL_DEL, r->fd, NULL);
				close(r->fd);
				r->fd = -1;
			}
			start(w, ep, r);
			if (r->done)
				live--;
		}
	}
	close(ep);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int rawload_run(int port, struct rawload_client *cl, int n, int nthreads, int health,
                double seconds, size_t max_samples, struct rawload_result *res, char *err,
                size_t errlen)
{
	struct rworker *ws = NULL;
	struct rconn *conns = NULL;
	int rv = -1, started = 0;

	memset(res, 0, sizeof(*res));
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > n)
		nthreads = n;
	ws = calloc((size_t)nthreads, sizeof(*ws));
	conns = calloc((size_t)n, sizeof(*conns));
	res->lat_ms = malloc((max_samples ? max_samples : 1) * sizeof(double));
	if (!ws || !conns || !res->lat_ms) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		struct rconn *r = &conns[i];
		r->fd = -1;
		r->c = &cl[i];
		r->next_step = cl[i].first_step + 1;
		int pl = snprintf(r->prefix, sizeof(r->prefix),
		                  "POST /api/v1/trials/%lld/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		                  "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
		                  "Content-Length: ",
		                  cl[i].trial, cl[i].token);
		if (pl < 0 || (size_t)pl >= sizeof(r->prefix)) {
			snprintf(err, errlen, "client %d: token too long", i);
			goto out;
		}
		r->prefix_len = (size_t)pl;
	}
	double t0 = now_s();
	for (int t = 0, at = 0; t < nthreads; t++) {
		struct rworker *w = &ws[t];
		w->port = port;
		w->health = health;
		w->end = t0 + seconds;
		w->n = n / nthreads + (t < n % nthreads);
		w->conns = conns + at;
		at += w->n;
		w->cap = max_samples / (size_t)nthreads;
		w->lat = res->lat_ms + (size_t)t * w->cap;
		if (pthread_create(&w->th, NULL, worker_main, w) != 0) {
			snprintf(err, errlen, "cannot start a client thread");
			break;
		}
		started++;
	}
	for (int t = 0; t < started; t++)
		pthread_join(ws[t].th, NULL);
	res->seconds = now_s() - t0;
	if (started < nthreads)
		goto out;
	/* Compact the per-thread latency slices. */
	for (int t = 0; t < nthreads; t++) {
		memmove(res->lat_ms + res->nlat, ws[t].lat, ws[t].nlat * sizeof(double));
		res->nlat += ws[t].nlat;
		res->n += ws[t].answered;
		res->errors += ws[t].errors;
		if (ws[t].failed) {
			snprintf(err, errlen, "%s", ws[t].err);
			goto out;
		}
	}
	qsort(res->lat_ms, res->nlat, sizeof(double), cmp_double);
	rv = 0;
out:
	for (int i = 0; conns && i < n; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	free(conns);
	free(ws);
	return rv;
}
