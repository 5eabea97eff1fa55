/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HTTP client for talking to det-master (libcurl): the CLI, det-launch,
 * libdetcore and the SPANK plugin use it. A master address is either
 * "http://host:port" or "unix:/path/to/socket". Responses are bounded in size
 * and every call has a timeout, so a hung master never hangs a caller forever.
 */
#ifndef DET_HTTP_CLIENT_H
#define DET_HTTP_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#define HTTP_CLIENT_MAX_RESPONSE_BYTES (128L * 1024 * 1024) /* default bound on a body */

struct http_client;

/* A response: status and body (NUL-terminated, also binary-safe with len). */
struct http_response {
	long status; /* HTTP status; 0 when the request never got an answer */
	char *body;  /* owned; NULL when empty */
	size_t len;
};

/* Client for master address (http://host:port, https://host:port or unix:/path).
 * auth is the full Authorization header value ("Bearer TOKEN", "Munge CRED") or
 * NULL. An https:// master's certificate is verified against the PEM CA file
 * named by DET_MASTER_CERT_FILE, else the system store. NULL with err on a
 * malformed address or an unreadable DET_MASTER_CERT_FILE. */
struct http_client *http_client_new(const char *master, const char *auth, char *err, size_t errlen);

/* Free (NULL is fine). */
void http_client_free(struct http_client *c);

/* Replace the Authorization header value (NULL removes it). 0 or -1 (no memory). */
int http_client_set_auth(struct http_client *c, const char *auth);

#define HTTP_CLIENT_MAX_AUTH_BYTES 4096 /* largest Authorization value a source may give */

/* Fills buf with a full Authorization value; 0, or -1 with err (no request is sent). */
typedef int (*http_client_auth_fn)(void *arg, char *buf, size_t len, char *err, size_t errlen);

/* Ask fn for a fresh Authorization value before every request (NULL: no source). */
void http_client_set_auth_source(struct http_client *c, http_client_auth_fn fn, void *arg);

/* Per-request total timeout in milliseconds (default 30000; 0 = none). */
void http_client_set_timeout_ms(struct http_client *c, long timeout_ms);

/* Largest body accepted in a response (default HTTP_CLIENT_MAX_RESPONSE_BYTES). */
void http_client_set_max_response(struct http_client *c, size_t max_bytes);

/* 1 when c talks to the master over its Unix socket (unix:/PATH), 0 over TCP. */
int http_client_is_unix(const struct http_client *c);

/* Send method to path ("/api/v1/...") with an optional body of content_type.
 * Returns 0 when an HTTP answer arrived (any status) and fills resp; -1 with
 * err when none did (connection refused, timeout, body over the bound). */
int http_client_request(struct http_client *c, const char *method, const char *path,
                        const char *content_type, const void *body, size_t body_len,
                        struct http_response *resp, char *err, size_t errlen);

/* JSON round trip: body (may be NULL) is sent as application/json; a 2xx JSON
 * answer is returned in *out (new reference, may be NULL for empty bodies).
 * Non-2xx: -1 with the server's {"error":{"message"}} text in err and
 * *status set; transport failures: -1 with *status 0. */
int http_client_json(struct http_client *c, const char *method, const char *path,
                     const json_t *body, json_t **out, long *status, char *err, size_t errlen);

/* Release a response's memory and zero it. */
void http_response_free(struct http_response *resp);

/* Connect to c's master for a byte stream of the caller's own (an upgraded
 * connection), TLS verified as for requests: 0, or -1 with err. Then use only
 * the http_client_raw_* calls on c. */
int http_client_raw_connect(struct http_client *c, char *err, size_t errlen);

/* The connected socket, to poll; -1 when not connected. */
int http_client_raw_fd(struct http_client *c);

#define HTTP_CLIENT_RAW_AGAIN (-2L) /* nothing can be read or sent now: poll */

/* Send up to n bytes: how many, HTTP_CLIENT_RAW_AGAIN, or -1 on an error. */
long http_client_raw_send(struct http_client *c, const void *buf, size_t n);

/* Receive up to n bytes: how many, 0 when the master closed, HTTP_CLIENT_RAW_AGAIN
 * (none now; TLS may hold bytes the socket no longer shows, so read until this
 * before polling), or -1 on an error. */
long http_client_raw_recv(struct http_client *c, void *buf, size_t n);

#endif
