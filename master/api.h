/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The REST API: routes requests to handlers after authenticating them. */
#ifndef DET_API_H
#define DET_API_H

#include "app.h"
#include "http_server.h"

/* Body limits: experiment creation may carry a model definition. */
#define API_MAX_BODY_BYTES (1024 * 1024)
#define API_MAX_CREATE_BYTES (130L * 1024 * 1024)
#define API_MAX_MODEL_BYTES (95L * 1024 * 1024)
/* Smaller caps for routes whose bodies are a few fields. */
#define API_MAX_SMALL_BYTES (64 * 1024)
#define API_MAX_LOGIN_BYTES 4096

/* The server callbacks (ctx is the struct app). */
extern const struct http_server_ops api_ops_template;

/* Load users and tokens; create the admin on first start (password printed and
 * written to state_dir/admin-password). 0 or -1 with err. */
int api_auth_init(struct app *a, char *err, size_t errlen);

#endif
