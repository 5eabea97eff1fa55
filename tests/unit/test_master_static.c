/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The web UI's static files: path checks, content types, serving from a directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "master/static.h"
#include "unit_tmpdir.h"

static void test_path_ok(void **state)
{
	char err[128];
	const char *good[] = {"index.html", "js/app.js", "a/b/c/d.css", "chart.min.js", "x_y-z.1"};
	const char *bad[] = {
	    "",     "..",  "../x", "js/../x", ".hidden",           "js/.x", "a//b", "a/",
	    "/abs", "a b", "a%2e", "a\\b",    "a/b/c/d/e/f/g/h/i", "\x80x"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(static_path_ok(good[i], err, sizeof(err)));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_false(static_path_ok(bad[i], err, sizeof(err)));
		assert_true(err[0] != '\0');
	}
	char longp[300];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_false(static_path_ok(longp, err, sizeof(err)));
}

static void test_content_types(void **state)
{
	assert_string_equal(static_content_type("index.html"), "text/html; charset=utf-8");
	assert_string_equal(static_content_type("js/app.js"), "text/javascript; charset=utf-8");
	assert_string_equal(static_content_type("chart.mjs"), "text/javascript; charset=utf-8");
	assert_string_equal(static_content_type("style.css"), "text/css; charset=utf-8");
	assert_string_equal(static_content_type("favicon.svg"), "image/svg+xml");
	assert_string_equal(static_content_type("noext"), "application/octet-stream");
	assert_string_equal(static_content_type("a.exe"), "application/octet-stream");
}

struct fixture {
	char dir[64], ui[96], out[96];
};

static int setup(void **state)
{
	struct fixture *f = unit_dir_fixture_new(sizeof(*f), sizeof(f->dir), "test-static.");
	char p[256];
	FILE *fp;
	if (!f)
		return -1;
	snprintf(f->ui, sizeof(f->ui), "%s/ui", f->dir);
	snprintf(f->out, sizeof(f->out), "%s/out", f->dir);
	mkdir(f->ui, 0700);
	mkdir(f->out, 0700);
	snprintf(p, sizeof(p), "%s/js", f->ui);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/index.html", f->ui);
	fp = fopen(p, "w");
	fputs("<!DOCTYPE html>hello", fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/secret.txt", f->out);
	fp = fopen(p, "w");
	fputs("secret", fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/escape.txt", f->ui);
	assert_int_equal(symlink("../out/secret.txt", p), 0);
	snprintf(p, sizeof(p), "%s/same.html", f->ui);
	assert_int_equal(symlink("index.html", p), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(unit_rmtree(f->dir), 0);
	free(f);
	return 0;
}

static int serve(struct fixture *f, const char *method, const char *path, struct http_reply *rep)
{
	struct http_request req = {.method = method, .path = path};
	memset(rep, 0, sizeof(*rep));
	return static_serve(f->ui, f->out, &req, rep);
}

static void test_serve(void **state)
{
	struct fixture *f = *state;
	struct http_reply rep;

	assert_int_equal(serve(f, "GET", "/", &rep), 1);
	assert_int_equal(rep.status, 200);
	assert_int_equal(rep.len, 20);
	assert_memory_equal(rep.body, "<!DOCTYPE html>hello", 20);
	assert_string_equal(rep.content_type, "text/html; charset=utf-8");
	int etag = 0, csp = 0;
	for (int i = 0; i < rep.nheaders; i++) {
		etag |= !strcmp(rep.headers[i].name, "ETag") && rep.headers[i].value[0] == '"';
		csp |= !strcmp(rep.headers[i].name, "Content-Security-Policy");
	}
	assert_true(etag && csp);
	free(rep.body);

	assert_int_equal(serve(f, "HEAD", "/same.html", &rep), 1);
	assert_int_equal(rep.status, 200); /* a link inside the root */
	free(rep.body);
	const char *notfound[] = {"/escape.txt",
	                          "/js",
	                          "/js/",
	                          "/../out/secret.txt",
	                          "/nope",
	                          "/.x",
	                          "/vendor/chart.js/../secret.txt"};
	for (size_t i = 0; i < sizeof(notfound) / sizeof(notfound[0]); i++) {
		assert_int_equal(serve(f, "GET", notfound[i], &rep), 1);
		assert_int_equal(rep.status, 404);
		assert_null(strstr(rep.body, "secret"));
		free(rep.body);
	}
	/* The vendor root is another directory: its files are reachable there only. */
	assert_int_equal(serve(f, "GET", "/vendor/chart.js/secret.txt", &rep), 1);
	assert_int_equal(rep.status, 200);
	assert_string_equal(rep.content_type, "text/plain; charset=utf-8");
	free(rep.body);
	/* Not files: the API and other methods are left to the caller. */
	assert_int_equal(serve(f, "GET", "/api/v1/experiments", &rep), 0);
	assert_int_equal(serve(f, "POST", "/", &rep), 0);
	assert_int_equal(serve(f, "DELETE", "/index.html", &rep), 0);
}

static void test_missing_root(void **state)
{
	struct http_reply rep = {0};
	struct http_request req = {.method = "GET", .path = "/"};
	assert_int_equal(static_serve("/nonexistent/webui", "", &req, &rep), 1);
	assert_int_equal(rep.status, 404);
	assert_non_null(strstr(rep.body, "not installed"));
	free(rep.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path_ok),
	    cmocka_unit_test(test_content_types),
	    cmocka_unit_test_setup_teardown(test_serve, setup, teardown),
	    cmocka_unit_test(test_missing_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
