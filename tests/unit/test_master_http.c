/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The HTTP front over real sockets: dispatch, body caps (413 from the
 * Content-Length header and while a chunked body streams in), Unix-socket
 * peer credentials, and parked long polls.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "master/http_server.h"

struct ctx {
	int polls;
	int handled;  /* handle() calls */
	int admitted; /* admit() calls */
};

static size_t limit(void *c, const char *method, const char *path)
{
	return 100;
}

static void handle(void *c, const struct http_request *req, struct http_reply *rep)
{
	struct ctx *x = c;
	char buf[256];
	x->handled++;
	if (!strcmp(req->path, "/wait")) {
		x->polls++;
		if (http_now_ms() - req->first_call_ms < 500) {
			rep->again = 1;
			return;
		}
	}
	snprintf(buf, sizeof(buf), "{\"path\": \"%s\", \"len\": %zu, \"local\": %d, \"uid\": %u}",
	         req->path, req->body_len, req->peer_local, (unsigned)req->peer_uid);
	rep->body = strdup(buf);
	rep->len = strlen(buf);
	rep->status = 200;
}

/* Refuses /deny from the headers; keeps a marker for handle() otherwise. */
static int admit(void *c, const struct http_request *req, struct http_reply *rep)
{
	struct ctx *x = c;
	x->admitted++;
	assert_null(req->body);
	if (!strcmp(req->path, "/deny")) {
		rep->status = 401;
		rep->body = strdup("{\"error\": \"no\"}");
		rep->len = strlen(rep->body);
		return 401;
	}
	return 0;
}

static struct http_server *start(struct ctx *x, const char *sock)
{
	struct http_server_ops ops = {.ctx = x, .body_limit = limit, .handle = handle};
	struct http_server_config cfg = {
	    .listen_host = "127.0.0.1", .socket_path = sock, .threads = 2};
	char err[256];
	struct http_server *s = http_server_start(&cfg, &ops, err, sizeof(err));
	if (!s)
		fail_msg("start: %s", err);
	return s;
}

/* Send raw request text; return the whole response (malloc'd). */
static char *roundtrip(int port, const char *sock, const char *req, size_t extra_zero_bytes)
{
	int fd;
	if (sock) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	assert_true(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	static char zeros[4096];
	for (size_t sent = 0; sent < extra_zero_bytes;) {
		ssize_t n = write(fd, zeros, sizeof(zeros));
		if (n <= 0)
			break; /* the server may close early */
		sent += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	char *out = calloc(1, 65536);
	size_t len = 0;
	ssize_t n;
	while ((n = read(fd, out + len, 65535 - len)) > 0)
		len += (size_t)n;
	close(fd);
	return out;
}

static void test_dispatch_and_limits(void **state)
{
	struct ctx x = {0};
	struct http_server *s = start(&x, NULL);
	int port = http_server_port(s);
	assert_true(port > 0);

	char *r = roundtrip(port, NULL,
	                    "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	                    "Connection: close\r\n\r\nhello",
	                    0);
	assert_non_null(strstr(r, "200 OK"));
	assert_non_null(strstr(r, "\"len\": 5"));
	free(r);

	r = roundtrip(port, NULL,
	              "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
	              "Connection: close\r\n\r\n",
	              0);
	assert_non_null(strstr(r, " 413 "));
	assert_non_null(strstr(r, "too_large"));
	free(r);

	/* A chunked body has no length up front: refused once it outgrows the cap. */
	char chunked[2048];
	int n = snprintf(chunked, sizeof(chunked),
	                 "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
	                 "Connection: close\r\n\r\n400\r\n");
	memset(chunked + n, 'z', 1024);
	snprintf(chunked + n + 1024, sizeof(chunked) - (size_t)n - 1024, "\r\n0\r\n\r\n");
	r = roundtrip(port, NULL, chunked, 0);
	assert_non_null(strstr(r, " 413 "));
	free(r);
	http_server_stop(s);
}

static void test_unix_socket_peer(void **state)
{
	struct ctx x = {0};
	char path[] = "/tmp/det-http-test.XXXXXX";
	assert_non_null(mkdtemp(path));
	char sock[128];
	snprintf(sock, sizeof(sock), "%s/s", path);
	struct http_server *s = start(&x, sock);
	char *r =
	    roundtrip(0, sock, "GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0);
	char want[64];
	snprintf(want, sizeof(want), "\"local\": 1, \"uid\": %u", (unsigned)getuid());
	assert_non_null(strstr(r, want));
	free(r);
	http_server_stop(s);
	assert_int_equal(access(sock, F_OK), -1); /* removed on stop */
	rmdir(path);
}

static void test_long_poll_parks(void **state)
{
	struct ctx x = {0};
	struct http_server *s = start(&x, NULL);
	uint64_t t0 = http_now_ms();
	char *r = roundtrip(http_server_port(s), NULL,
	                    "GET /wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 0);
	uint64_t dt = http_now_ms() - t0;
	assert_non_null(strstr(r, "200 OK"));
	assert_true(dt >= 450);
	assert_true(x.polls >= 2 && x.polls < 20); /* re-dispatched a few times, not spun */
	free(r);
	http_server_stop(s);
}

static void test_admit_before_body(void **state)
{
	struct ctx x = {0};
	struct http_server_ops ops = {
	    .ctx = &x, .body_limit = limit, .admit = admit, .handle = handle};
	struct http_server_config cfg = {.listen_host = "127.0.0.1", .threads = 2};
	char err[256];
	struct http_server *s = http_server_start(&cfg, &ops, err, sizeof(err));
	assert_non_null(s);
	int port = http_server_port(s);

	/* Refused from the headers: the announced 10 MB are never read (the
	 * server closes instead), and handle() never runs. */
	char *r = roundtrip(port, NULL,
	                    "POST /deny HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n",
	                    10000000);
	assert_non_null(strstr(r, " 401 "));
	assert_int_equal(x.handled, 0);
	free(r);
	/* Admitted: dispatched as before. */
	r = roundtrip(port, NULL,
	              "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	              "Connection: close\r\n\r\nhello",
	              0);
	assert_non_null(strstr(r, "\"len\": 5"));
	assert_int_equal(x.handled, 1);
	assert_int_equal(x.admitted, 2);
	free(r);
	/* Both framings at once: refused before admission. */
	r = roundtrip(port, NULL,
	              "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
	              "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
	              0);
	assert_non_null(strstr(r, " 400 "));
	assert_int_equal(x.admitted, 2);
	free(r);
	http_server_stop(s);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* a server that closes early makes write() fail, not kill */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dispatch_and_limits),
	    cmocka_unit_test(test_unix_socket_peer),
	    cmocka_unit_test(test_long_poll_parks),
	    cmocka_unit_test(test_admit_before_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
