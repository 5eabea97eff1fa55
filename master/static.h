/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The web UI's files served by det-master at / (and Chart.js under /vendor/chart.js/). */
#ifndef DET_MASTER_STATIC_H
#define DET_MASTER_STATIC_H

#include <stddef.h>

#include "http_server.h"

#define STATIC_MAX_FILE_BYTES (16L * 1024 * 1024) /* largest file served */
#define STATIC_VENDOR_PREFIX "/vendor/chart.js/"

/* Serve req when it is a GET or HEAD outside /api/: 1 with rep filled (file, 304 or
 * 404), 0 when req is not for a file (the caller answers it). */
int static_serve(const char *webui_dir, const char *chartjs_dir, const struct http_request *req,
                 struct http_reply *rep);

/* Whether rel is a safe relative file path: 1 yes, 0 no (err says why). */
int static_path_ok(const char *rel, char *err, size_t errlen);

/* Content-Type for a file name, by its extension. */
const char *static_content_type(const char *name);

#endif
