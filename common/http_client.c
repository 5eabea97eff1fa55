/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HTTP client for det-master, on libcurl. One struct http_client holds one
 * curl easy handle, reused for every request so connections stay alive.
 * "unix:/path" addresses go through CURLOPT_UNIX_SOCKET_PATH with a fixed
 * "http://localhost" URL; the path part of the URL is what the master sees.
 * Response bodies are collected up to a bound and refused past it, so a
 * misbehaving peer cannot make a client allocate without limit.
 * https:// masters are verified by libcurl (peer and host name) against the
 * CA file named by DET_MASTER_CERT_FILE, or the system store without it.
 * http_client_raw_* give a connect-only connection (curl_easy_send/recv) for a
 * protocol of the caller's own after an upgrade (det shell proxy's tunnel).
 */
#include "http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct http_client {
	CURL *curl;
	char *base_url;              /* "http://host:port" or "http://localhost" */
	char *unix_socket;           /* NULL for TCP */
	char *auth_header;           /* "Authorization: ..." or NULL */
	char *ca_file;               /* CA certificates for https://; NULL = system store */
	http_client_auth_fn auth_fn; /* fresh credential per request, or NULL */
	void *auth_arg;
	long timeout_ms;
	size_t max_response;
};

struct body_sink {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	int overflow;
};

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body_sink *sink = userdata;
	size_t n = size * nmemb;

	if (sink->len + n + 1 > sink->max) {
		sink->overflow = 1;
		return 0; /* makes curl fail with CURLE_WRITE_ERROR */
	}
	if (sink->len + n + 1 > sink->cap) {
		size_t cap = sink->cap ? sink->cap : 4096;
		while (cap < sink->len + n + 1)
			cap *= 2;
		char *grown = realloc(sink->data, cap);
		if (!grown)
			return 0;
		sink->data = grown;
		sink->cap = cap;
	}
	memcpy(sink->data + sink->len, ptr, n);
	sink->len += n;
	sink->data[sink->len] = '\0';
	return n;
}

static int parse_master(struct http_client *c, const char *master, char *err, size_t errlen)
{
	if (strncmp(master, "unix:", 5) == 0) {
		const char *path = master + 5;
		if (path[0] != '/') {
			snprintf(err, errlen,
			         "master address %s: unix socket path must be absolute", master);
			return -1;
		}
		c->unix_socket = strdup(path);
		c->base_url = strdup("http://localhost");
		return (c->unix_socket && c->base_url) ? 0 : -1;
	}
	if (!strstr(master, "://") && master[0] != '/') {
		/* HOST:PORT, as Determined's CLI takes DET_MASTER: plain http */
		char *url = NULL;
		if (asprintf(&url, "http://%s", master) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		int rv = parse_master(c, url, err, errlen);
		free(url);
		return rv;
	}
	if (strncmp(master, "http://", 7) != 0 && strncmp(master, "https://", 8) != 0) {
		snprintf(err, errlen,
		         "master address %s: expected http://HOST:PORT, https://HOST:PORT or "
		         "unix:/PATH",
		         master);
		return -1;
	}
	size_t len = strlen(master);
	while (len > 0 && master[len - 1] == '/')
		len--;
	if (len <= 8 || strchr(master + 8, '?') || strchr(master + 8, '#')) {
		snprintf(err, errlen, "master address %s: no host, or a query in it", master);
		return -1;
	}
	c->base_url = strndup(master, len);
	return c->base_url ? 0 : -1;
}

struct http_client *http_client_new(const char *master, const char *auth, char *err, size_t errlen)
{
	struct http_client *c = NULL;

	if (!master || !*master) {
		snprintf(err, errlen, "no master address given");
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl initialisation failed");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	c->timeout_ms = 30000;
	c->max_response = HTTP_CLIENT_MAX_RESPONSE_BYTES;
	err[0] = '\0';
	if (parse_master(c, master, err, errlen) < 0) {
		if (!err[0])
			goto nomem;
		goto fail;
	}
	if (http_client_set_auth(c, auth) < 0)
		goto nomem;
	const char *ca = getenv("DET_MASTER_CERT_FILE");
	if (ca && *ca) {
		if (access(ca, R_OK) != 0) {
			snprintf(err, errlen, "DET_MASTER_CERT_FILE %s: %s", ca, strerror(errno));
			goto fail;
		}
		c->ca_file = strdup(ca);
		if (!c->ca_file)
			goto nomem;
	}
	c->curl = curl_easy_init();
	if (!c->curl)
		goto nomem;
	return c;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	http_client_free(c);
	return NULL;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->base_url);
	free(c->unix_socket);
	free(c->ca_file);
	free(c->auth_header);
	free(c);
	curl_global_cleanup();
}

int http_client_is_unix(const struct http_client *c)
{
	return c && c->unix_socket;
}

/* Protocols, certificate checks and the Unix socket: the same for every request. */
static void client_transport(const struct http_client *c, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->unix_socket)
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_socket);
}

int http_client_raw_connect(struct http_client *c, char *err, size_t errlen)
{
	CURL *h = c->curl;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, c->base_url);
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms ? c->timeout_ms : 10000L);
	client_transport(c, h);
	CURLcode rc = curl_easy_perform(h);
	if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
		snprintf(err, errlen,
		         "%s: %s: the master's TLS certificate is not trusted (name its CA "
		         "certificate with DET_MASTER_CERT_FILE%s)",
		         c->base_url, curl_easy_strerror(rc),
		         c->ca_file ? "; this one does not vouch for it" : "");
		return -1;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", c->unix_socket ? c->unix_socket : c->base_url,
		         curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

int http_client_raw_fd(struct http_client *c)
{
	curl_socket_t fd = CURL_SOCKET_BAD;
	if (curl_easy_getinfo(c->curl, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	    fd == CURL_SOCKET_BAD)
		return -1;
	return (int)fd;
}

long http_client_raw_send(struct http_client *c, const void *buf, size_t n)
{
	size_t sent = 0;
	CURLcode rc = curl_easy_send(c->curl, buf, n, &sent);
	if (rc == CURLE_AGAIN)
		return HTTP_CLIENT_RAW_AGAIN;
	return rc == CURLE_OK ? (long)sent : -1;
}

long http_client_raw_recv(struct http_client *c, void *buf, size_t n)
{
	size_t got = 0;
	CURLcode rc = curl_easy_recv(c->curl, buf, n, &got);
	if (rc == CURLE_AGAIN)
		return HTTP_CLIENT_RAW_AGAIN;
	return rc == CURLE_OK ? (long)got : -1;
}

int http_client_set_auth(struct http_client *c, const char *auth)
{
	char *header = NULL;

	if (auth) {
		if (strpbrk(auth, "\r\n"))
			return -1; /* would split the header */
		if (asprintf(&header, "Authorization: %s", auth) < 0)
			return -1;
	}
	free(c->auth_header);
	c->auth_header = header;
	return 0;
}

void http_client_set_auth_source(struct http_client *c, http_client_auth_fn fn, void *arg)
{
	c->auth_fn = fn;
	c->auth_arg = arg;
}

void http_client_set_timeout_ms(struct http_client *c, long timeout_ms)
{
	c->timeout_ms = timeout_ms < 0 ? 0 : timeout_ms;
}

void http_client_set_max_response(struct http_client *c, size_t max_bytes)
{
	c->max_response = max_bytes;
}

void http_response_free(struct http_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

static int valid_path(const char *path)
{
	if (path[0] != '/')
		return 0;
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

int http_client_request(struct http_client *c, const char *method, const char *path,
                        const char *content_type, const void *body, size_t body_len,
                        struct http_response *resp, char *err, size_t errlen)
{
	struct curl_slist *headers = NULL;
	struct body_sink sink = {.max = c->max_response};
	char *url = NULL;
	char *ctype = NULL;
	int rv = -1;

	memset(resp, 0, sizeof(*resp));
	if (!valid_path(path)) {
		snprintf(err, errlen, "invalid request path");
		goto fail;
	}
	if (c->auth_fn) {
		/* A credential that is good for one request only (MUNGE refuses replays). */
		char value[HTTP_CLIENT_MAX_AUTH_BYTES];
		if (c->auth_fn(c->auth_arg, value, sizeof(value), err, errlen) != 0)
			goto fail;
		if (http_client_set_auth(c, value) < 0) {
			snprintf(err, errlen, "credential: malformed or out of memory");
			goto fail;
		}
	}
	if (asprintf(&url, "%s%s", c->base_url, path) < 0) {
		url = NULL;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	CURL *h = c->curl;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms ? c->timeout_ms : 10000L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
	client_transport(c, h);
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
	}
	/* curl adds "Expect: 100-continue" for large bodies; the master answers directly. */
	headers = curl_slist_append(headers, "Expect:");
	if (!headers)
		goto nomem;
	if (content_type) {
		if (asprintf(&ctype, "Content-Type: %s", content_type) < 0) {
			ctype = NULL;
			goto nomem;
		}
		struct curl_slist *more = curl_slist_append(headers, ctype);
		if (!more)
			goto nomem;
		headers = more;
	}
	if (c->auth_header) {
		struct curl_slist *more = curl_slist_append(headers, c->auth_header);
		if (!more)
			goto nomem;
		headers = more;
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

	CURLcode rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		if (sink.overflow)
			snprintf(err, errlen, "%s %s: response larger than %zu bytes", method, path,
			         c->max_response);
		else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
			snprintf(
			    err, errlen,
			    "%s %s: %s: the master's TLS certificate is not trusted (name its CA "
			    "certificate with DET_MASTER_CERT_FILE%s)",
			    method, path, curl_easy_strerror(rc),
			    c->ca_file ? "; this one does not vouch for it" : "");
		else
			snprintf(err, errlen, "%s %s: %s", method, path, curl_easy_strerror(rc));
		goto fail;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = sink.data;
	resp->len = sink.len;
	sink.data = NULL;
	rv = 0;
	goto fail;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	curl_slist_free_all(headers);
	free(sink.data);
	free(ctype);
	free(url);
	return rv;
}

/* Turn a non-2xx answer into a message: the server's error text when it sent one. */
static void error_message(const struct http_response *resp, const char *method, const char *path,
                          char *err, size_t errlen)
{
	json_t *doc = NULL;
	const char *msg = NULL;

	if (resp->body)
		doc = json_loadb(resp->body, resp->len, 0, NULL);
	json_t *e = json_object_get(doc, "error");
	msg = json_string_value(json_object_get(e, "message"));
	if (msg)
		snprintf(err, errlen, "%s", msg);
	else
		snprintf(err, errlen, "%s %s: HTTP status %ld", method, path, resp->status);
	json_decref(doc);
}

int http_client_json(struct http_client *c, const char *method, const char *path,
                     const json_t *body, json_t **out, long *status, char *err, size_t errlen)
{
	struct http_response resp;
	char *text = NULL;
	int rv = -1;

	if (out)
		*out = NULL;
	if (status)
		*status = 0;
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	if (http_client_request(c, method, path, body ? "application/json" : NULL, text,
	                        text ? strlen(text) : 0, &resp, err, errlen) < 0)
		goto fail;
	if (status)
		*status = resp.status;
	if (resp.status < 200 || resp.status > 299) {
		error_message(&resp, method, path, err, errlen);
		goto fail;
	}
	if (out && resp.len > 0) {
		json_error_t jerr;
		*out = json_loadb(resp.body, resp.len, 0, &jerr);
		if (!*out) {
			snprintf(err, errlen, "%s %s: answer is not JSON: %s", method, path,
			         jerr.text);
			goto fail;
		}
	}
	rv = 0;
fail:
	http_response_free(&resp);
	free(text);
	return rv;
}
