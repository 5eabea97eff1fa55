/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libdetcore's link to det-master: the trial-side REST calls of doc/api.md,
 * authenticated with the trial token. Non-obvious: reports are retried for
 * a while when the master is unreachable (it may be restarting), because a
 * lost report would make the searcher wait for a validation forever.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"
#include "http_client.h"
#include "http_retry.h"

#define REMOTE_RETRY_SECONDS 300 /* how long a report waits for a restarting master */
#define REMOTE_TIMEOUT_MS 65000  /* above the longest long poll */

struct http_client *det_core_remote_open(const char *master, const char *token, char *err,
                                         size_t errlen)
{
	char *auth = NULL;
	struct http_client *c = NULL;
	size_t n = strlen(token) + sizeof("Bearer ");
	auth = malloc(n);
	if (!auth) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(auth, n, "Bearer %s", token);
	c = http_client_new(master, auth, err, errlen);
	free(auth);
	if (c)
		http_client_set_timeout_ms(c, REMOTE_TIMEOUT_MS);
	return c;
}

void det_core_remote_close(struct http_client *http)
{
	http_client_free(http);
}

/* One JSON call; retried with backoff while no answer arrives at all. */
static int remote_call(struct det_core *core, const char *method, const char *path, json_t *body,
                       json_t **out, char *err, size_t errlen)
{
	json_t *o = NULL;

	if (http_retry_json(core->http, method, path, body, REMOTE_RETRY_SECONDS, 0, &o, NULL, err,
	                    errlen) < 0)
		return -1;
	if (out)
		*out = o;
	else
		json_decref(o);
	return 0;
}

int det_core_remote_post(struct det_core *core, const char *what, json_t *body, json_t **out,
                         char *err, size_t errlen)
{
	char path[128];
	snprintf(path, sizeof(path), "/api/v1/trials/%lld/%s", (long long)core->trial_id, what);
	if (out)
		*out = NULL;
	int rv = remote_call(core, "POST", path, body, out, err, errlen);
	json_decref(body);
	return rv;
}

int det_core_remote_get(struct det_core *core, const char *path, json_t **out, char *err,
                        size_t errlen)
{
	char full[512];
	if (snprintf(full, sizeof(full), "/api/v1%s", path) >= (int)sizeof(full)) {
		snprintf(err, errlen, "request path too long");
		return -1;
	}
	*out = NULL;
	return remote_call(core, "GET", full, NULL, out, err, errlen);
}
