/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Static files for the web UI: the webui directory at "/" and Debian's
 * Chart.js directory at /vendor/chart.js/. A request path is checked segment
 * by segment (letters, digits, '.', '_', '-'; no empty or dot-leading
 * segment), then resolved with realpath(3) and served only when the result is
 * a regular file inside the resolved root.
 * Non-obvious decision: symbolic links are followed (Debian's chart.js
 * directory has Chart.js -> chart.js) but the resolved target must stay under
 * the root, so a link never lets a request escape the directory.
 */
#include <config.h>

#include "static.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATIC_MAX_REL 255
#define STATIC_MAX_DEPTH 8

int static_path_ok(const char *rel, char *err, size_t errlen)
{
	size_t n = strlen(rel), seg = 0;
	int depth = 1;

	if (n == 0 || n > STATIC_MAX_REL) {
		snprintf(err, errlen, "path length %zu not in 1..%d", n, STATIC_MAX_REL);
		return 0;
	}
	for (size_t i = 0; i <= n; i++) {
		char ch = rel[i];
		if (ch == '/' || ch == '\0') {
			if (seg == 0) {
				snprintf(err, errlen, "empty path segment at byte %zu", i);
				return 0;
			}
			if (ch == '/' && ++depth > STATIC_MAX_DEPTH) {
				snprintf(err, errlen, "more than %d path segments",
				         STATIC_MAX_DEPTH);
				return 0;
			}
			seg = 0;
			continue;
		}
		if (seg == 0 && ch == '.') {
			snprintf(err, errlen, "segment starting with '.' at byte %zu", i);
			return 0;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-')) {
			snprintf(err, errlen, "character 0x%02x not allowed at byte %zu",
			         (unsigned char)ch, i);
			return 0;
		}
		seg++;
	}
	return 1;
}

const char *static_content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".mjs", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	    {".json", "application/json"},
	    {".map", "application/json"},
	    {".txt", "text/plain; charset=utf-8"},
	};
	const char *dot = strrchr(name, '.');
	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcmp(dot, types[i].ext))
				return types[i].type;
	return "application/octet-stream";
}

static void text_reply(struct http_reply *rep, int status, const char *text)
{
	free(rep->body);
	rep->body = strdup(text);
	rep->len = rep->body ? strlen(rep->body) : 0;
	rep->status = rep->body ? status : 500;
	rep->content_type = "text/plain; charset=utf-8";
	http_reply_header(rep, "X-Content-Type-Options", "nosniff");
	http_reply_header(rep, "Cache-Control", "no-store");
}

/* Read the regular file at the resolved path real into rep. 0 or an HTTP status. */
static int read_file(const char *real, struct stat *st, char **out)
{
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *buf = NULL;
	size_t got = 0;

	if (fd < 0)
		return errno == ENOENT || errno == ELOOP ? 404 : 403;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))
		goto notfound;
	if (st->st_size > STATIC_MAX_FILE_BYTES) {
		close(fd);
		return 403;
	}
	buf = malloc((size_t)st->st_size + 1);
	if (!buf) {
		close(fd);
		return 500;
	}
	while (got < (size_t)st->st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st->st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)st->st_size) {
		free(buf);
		return 500;
	}
	buf[got] = '\0';
	*out = buf;
	return 0;
notfound:
	close(fd);
	return 404;
}

int static_serve(const char *webui_dir, const char *chartjs_dir, const struct http_request *req,
                 struct http_reply *rep)
{
	char rel[STATIC_MAX_REL + 16], full[PATH_MAX + STATIC_MAX_REL + 32], err[128];
	char root_real[PATH_MAX], real[PATH_MAX], etag[64], lastmod[64];
	const char *root = webui_dir;
	int vendor = 0, status;
	char *data = NULL;
	struct stat st;

	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
		return 0;
	if (!strncmp(req->path, "/api/", 5) || !strcmp(req->path, "/api"))
		return 0;
	if (!strncmp(req->path, STATIC_VENDOR_PREFIX, strlen(STATIC_VENDOR_PREFIX))) {
		vendor = 1;
		root = chartjs_dir;
		snprintf(rel, sizeof(rel), "%s", req->path + strlen(STATIC_VENDOR_PREFIX));
	} else {
		size_t n = strlen(req->path);
		if (req->path[0] != '/' || n > STATIC_MAX_REL) {
			text_reply(rep, 404, "not found\n");
			return 1;
		}
		snprintf(rel, sizeof(rel), "%s%s", req->path + 1,
		         n == 1 || req->path[n - 1] == '/' ? "index.html" : "");
	}
	if (!root || !*root || !static_path_ok(rel, err, sizeof(err))) {
		text_reply(rep, 404, "not found\n");
		return 1;
	}
	if (!realpath(root, root_real)) {
		text_reply(rep, 404, "the web UI is not installed on this master\n");
		return 1;
	}
	snprintf(full, sizeof(full), "%s/%s", root_real, rel);
	size_t rl = strlen(root_real);
	if (!realpath(full, real) || strncmp(real, root_real, rl) ||
	    (real[rl] != '/' && strcmp(root_real, "/"))) {
		text_reply(rep, 404, "not found\n");
		return 1;
	}
	status = read_file(real, &st, &data);
	if (status) {
		text_reply(rep, status, status == 404 ? "not found\n" : "cannot read the file\n");
		return 1;
	}
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
	         (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
	             (unsigned long long)st.st_mtim.tv_nsec);
	struct tm tm;
	time_t mt = st.st_mtim.tv_sec;
	if (!gmtime_r(&mt, &tm) ||
	    !strftime(lastmod, sizeof(lastmod), "%a, %d %b %Y %H:%M:%S GMT", &tm))
		lastmod[0] = '\0';
	free(rep->body);
	rep->content_type = static_content_type(rel);
	const char *inm = http_request_header(req, "If-None-Match");
	if (inm && !strcmp(inm, etag)) {
		free(data);
		rep->body = strdup("");
		rep->len = 0;
		rep->status = rep->body ? 304 : 500;
	} else {
		rep->body = data;
		rep->len = (size_t)st.st_size;
		rep->status = 200;
	}
	http_reply_header(rep, "ETag", "%s", etag);
	if (lastmod[0])
		http_reply_header(rep, "Last-Modified", "%s", lastmod);
	/* Vendor files change only with a Debian update; the UI's own files are
	 * revalidated each time (cheap 304s) so an upgrade shows at once. */
	http_reply_header(rep, "Cache-Control", "%s",
	                  vendor ? "public, max-age=86400" : "no-cache");
	http_reply_header(rep, "X-Content-Type-Options", "nosniff");
	if (!strncmp(rep->content_type, "text/html", 9)) {
		http_reply_header(
		    rep, "Content-Security-Policy",
		    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
		    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
		http_reply_header(rep, "X-Frame-Options", "DENY");
		http_reply_header(rep, "Referrer-Policy", "no-referrer");
	}
	return 1;
}
