/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the HTTP client against a small real server run in a thread of
 * the test: it accepts one connection per request, records what arrived and
 * sends the canned answer the test chose. TCP on 127.0.0.1 and a Unix socket
 * are both exercised, as are timeouts and the response size bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "http_client.h"

struct server {
	int fd;
	pthread_t thread;
	const char *answer; /* full HTTP response to send */
	size_t answer_len;
	int delay_ms;       /* wait before answering */
	char request[8192]; /* what arrived (headers and body) */
	char sock_path[108];
	int port;
};

static void *serve_one(void *arg)
{
	struct server *s = arg;
	int conn = accept(s->fd, NULL, NULL);
	if (conn < 0)
		return NULL;
	size_t got = 0;
	/* Read until the headers end and the announced body has arrived. */
	for (;;) {
		ssize_t n = read(conn, s->request + got, sizeof(s->request) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		s->request[got] = '\0';
		char *end = strstr(s->request, "\r\n\r\n");
		if (!end)
			continue;
		size_t want = 0;
		char *cl = strcasestr(s->request, "Content-Length:");
		if (cl)
			want = strtoul(cl + 15, NULL, 10);
		if (got >= (size_t)(end + 4 - s->request) + want)
			break;
	}
	if (s->delay_ms)
		usleep((useconds_t)s->delay_ms * 1000);
	ssize_t ignored = write(conn, s->answer, s->answer_len);
	(void)ignored;
	close(conn);
	return NULL;
}

static void start_tcp(struct server *s, const char *answer)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 4), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	s->answer = answer;
	s->answer_len = strlen(answer);
	assert_int_equal(pthread_create(&s->thread, NULL, serve_one, s), 0);
}

static void stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->fd);
	if (s->sock_path[0])
		unlink(s->sock_path);
}

static struct http_client *client_for(struct server *s, const char *auth)
{
	char addr[64], err[256];
	snprintf(addr, sizeof(addr), "http://127.0.0.1:%d/", s->port);
	struct http_client *c = http_client_new(addr, auth, err, sizeof(err));
	assert_non_null(c);
	return c;
}

static void test_json_round_trip(void **state)
{
	struct server s = {0};
	char err[256];
	long status;
	json_t *out = NULL;
	start_tcp(&s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	              "Content-Length: 11\r\nConnection: close\r\n\r\n{\"ok\":true}");
	struct http_client *c = client_for(&s, "Bearer abc123");
	json_t *body = json_pack("{s:i}", "array_task", 7);
	int rv = http_client_json(c, "POST", "/api/v1/experiments/3/claim", body, &out, &status,
	                          err, sizeof(err));
	stop(&s);
	assert_int_equal(rv, 0);
	assert_int_equal(status, 200);
	assert_true(json_is_true(json_object_get(out, "ok")));
	assert_non_null(strstr(s.request, "POST /api/v1/experiments/3/claim HTTP/1.1"));
	assert_non_null(strstr(s.request, "Authorization: Bearer abc123"));
	assert_non_null(strstr(s.request, "Content-Type: application/json"));
	assert_non_null(strstr(s.request, "{\"array_task\":7}"));
	json_decref(body);
	json_decref(out);
	http_client_free(c);
}

static void test_host_port_master_is_plain_http(void **state)
{
	(void)state;
	struct server s = {0};
	char addr[64], err[256];
	long status;
	json_t *out = NULL;
	start_tcp(&s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	              "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", s.port);
	struct http_client *c = http_client_new(addr, NULL, err, sizeof(err));
	assert_non_null(c);
	int rv =
	    http_client_json(c, "GET", "/api/v1/master", NULL, &out, &status, err, sizeof(err));
	stop(&s);
	assert_int_equal(rv, 0);
	assert_int_equal(status, 200);
	assert_non_null(strstr(s.request, "GET /api/v1/master HTTP/1.1"));
	json_decref(out);
	http_client_free(c);
	assert_null(http_client_new("ftp://h:1", NULL, err, sizeof(err)));
}

static void test_error_message_from_server(void **state)
{
	struct server s = {0};
	char err[256];
	long status;
	json_t *out = NULL;
	const char *body = "{\"error\":{\"code\":\"paused\",\"message\":\"experiment paused\"}}";
	char answer[256];
	snprintf(answer, sizeof(answer),
	         "HTTP/1.1 409 Conflict\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
	         strlen(body), body);
	start_tcp(&s, answer);
	struct http_client *c = client_for(&s, NULL);
	int rv = http_client_json(c, "GET", "/api/v1/x", NULL, &out, &status, err, sizeof(err));
	stop(&s);
	assert_int_equal(rv, -1);
	assert_int_equal(status, 409);
	assert_string_equal(err, "experiment paused");
	assert_null(out);
	assert_null(strstr(s.request, "Authorization:"));
	http_client_free(c);
}

/* An auth source: a new value per request ("Munge cred-N"), failing when told to. */
struct source {
	int calls;
	int fail;
};

static int count_source(void *arg, char *buf, size_t len, char *err, size_t errlen)
{
	struct source *src = arg;
	src->calls++;
	if (src->fail) {
		snprintf(err, errlen, "no credential today");
		return -1;
	}
	snprintf(buf, len, "Munge cred-%d", src->calls);
	return 0;
}

static void test_auth_source_per_request(void **state)
{
	struct server s = {0};
	struct source src = {0};
	char err[256];
	long status;
	json_t *out = NULL;
	const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
	struct http_client *c = NULL;

	for (int i = 1; i <= 2; i++) {
		memset(&s, 0, sizeof(s));
		start_tcp(&s, ok);
		if (!c) {
			c = client_for(&s, "Bearer stale");
			http_client_set_auth_source(c, count_source, &src);
		} else {
			char addr[64];
			snprintf(addr, sizeof(addr), "http://127.0.0.1:%d/", s.port);
			http_client_free(c);
			c = http_client_new(addr, NULL, err, sizeof(err));
			assert_non_null(c);
			http_client_set_auth_source(c, count_source, &src);
		}
		assert_int_equal(
		    http_client_json(c, "GET", "/api/v1/me", NULL, &out, &status, err, sizeof(err)),
		    0);
		stop(&s);
		char want[64];
		snprintf(want, sizeof(want), "Authorization: Munge cred-%d\r\n", i);
		assert_non_null(strstr(s.request, want));
		assert_null(strstr(s.request, "Bearer"));
		json_decref(out);
		out = NULL;
	}
	/* A source that fails: no request goes out, its reason is the error. */
	src.fail = 1;
	assert_int_equal(
	    http_client_json(c, "GET", "/api/v1/me", NULL, &out, &status, err, sizeof(err)), -1);
	assert_int_equal(status, 0);
	assert_string_equal(err, "no credential today");
	assert_int_equal(src.calls, 3);
	http_client_free(c);
}

static void test_unix_socket(void **state)
{
	struct server s = {0};
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char addr[160], err[256];
	struct http_response resp;
	snprintf(s.sock_path, sizeof(s.sock_path), "/tmp/det-http-test-%d.sock", (int)getpid());
	unlink(s.sock_path);
	strcpy(a.sun_path, s.sock_path);
	s.fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s.fd, 4), 0);
	s.answer = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
	s.answer_len = strlen(s.answer);
	assert_int_equal(pthread_create(&s.thread, NULL, serve_one, &s), 0);
	snprintf(addr, sizeof(addr), "unix:%s", s.sock_path);
	struct http_client *c = http_client_new(addr, NULL, err, sizeof(err));
	assert_non_null(c);
	int rv = http_client_request(c, "GET", "/health", NULL, NULL, 0, &resp, err, sizeof(err));
	stop(&s);
	assert_int_equal(rv, 0);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.len, 5);
	assert_string_equal(resp.body, "hello");
	assert_non_null(strstr(s.request, "GET /health HTTP/1.1"));
	http_response_free(&resp);
	http_client_free(c);
}

static void test_timeout(void **state)
{
	struct server s = {.delay_ms = 1500};
	char err[256];
	struct http_response resp;
	start_tcp(&s, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	struct http_client *c = client_for(&s, NULL);
	http_client_set_timeout_ms(c, 200);
	int rv = http_client_request(c, "GET", "/slow", NULL, NULL, 0, &resp, err, sizeof(err));
	stop(&s);
	assert_int_equal(rv, -1);
	assert_int_equal(resp.status, 0);
	assert_non_null(strstr(err, "/slow"));
	http_client_free(c);
}

static void test_response_bound(void **state)
{
	struct server s = {0};
	char err[256];
	struct http_response resp;
	static char answer[70000];
	int head =
	    snprintf(answer, sizeof(answer),
	             "HTTP/1.1 200 OK\r\nContent-Length: 65536\r\nConnection: close\r\n\r\n");
	memset(answer + head, 'x', 65536);
	answer[head + 65536] = '\0';
	start_tcp(&s, answer);
	struct http_client *c = client_for(&s, NULL);
	http_client_set_max_response(c, 1000);
	int rv = http_client_request(c, "GET", "/big", NULL, NULL, 0, &resp, err, sizeof(err));
	stop(&s);
	assert_int_equal(rv, -1);
	assert_non_null(strstr(err, "larger than 1000 bytes"));
	http_client_free(c);
}

static void test_connection_refused(void **state)
{
	struct server s = {0};
	char err[256];
	long status = -1;
	/* Bind a port, then close it, so nothing listens there. */
	start_tcp(&s, "");
	stop(&s);
	struct http_client *c = client_for(&s, NULL);
	int rv =
	    http_client_json(c, "GET", "/api/v1/master", NULL, NULL, &status, err, sizeof(err));
	assert_int_equal(rv, -1);
	assert_int_equal(status, 0);
	http_client_free(c);
}

static void test_bad_addresses(void **state)
{
	char err[256];
	const char *bad[] = {"",        "h:1?q=1", "unix:relative.sock",
	                     "http://", "ftp://x", "http://h:1/?q=1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(http_client_new(bad[i], NULL, err, sizeof(err)));
		assert_true(strlen(err) > 0);
	}
	struct http_client *c = http_client_new("http://127.0.0.1:1", NULL, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(http_client_set_auth(c, "Bearer x\r\nX-Evil: 1"), -1);
	struct http_response resp;
	assert_int_equal(
	    http_client_request(c, "GET", "no-slash", NULL, NULL, 0, &resp, err, sizeof(err)), -1);
	assert_int_equal(
	    http_client_request(c, "GET", "/a b", NULL, NULL, 0, &resp, err, sizeof(err)), -1);
	http_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_round_trip),
	    cmocka_unit_test(test_host_port_master_is_plain_http),
	    cmocka_unit_test(test_error_message_from_server),
	    cmocka_unit_test(test_auth_source_per_request),
	    cmocka_unit_test(test_unix_socket),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_response_bound),
	    cmocka_unit_test(test_connection_refused),
	    cmocka_unit_test(test_bad_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
