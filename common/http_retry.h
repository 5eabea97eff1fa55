/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A JSON call to det-master retried with backoff while the master is away
 * (restarting, behind a proxy that answers 502/503), shared by det-launch
 * and libdetcore.
 */
#ifndef DET_HTTP_RETRY_H
#define DET_HTTP_RETRY_H

#include <jansson.h>
#include <stddef.h>

#include "http_client.h"

#define HTTP_RETRY_409 0x1u /* also retry a 409 (the master is not ready for this yet) */

/* http_client_json, retried for up to wait_seconds (backoff from 250 ms,
 * doubling to 5 s) while no answer arrives or the answer is 502/503 (or 409
 * with HTTP_RETRY_409). 0 with *out as http_client_json leaves it, or -1
 * with err and *status (may be NULL) of the last try (0: no answer). */
int http_retry_json(struct http_client *c, const char *method, const char *path, const json_t *body,
                    int wait_seconds, unsigned flags, json_t **out, long *status, char *err,
                    size_t errlen);

#endif
