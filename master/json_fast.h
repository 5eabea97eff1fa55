/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A fast parse of the plain JSON objects that request bodies usually are. */
#ifndef DET_MASTER_JSON_FAST_H
#define DET_MASTER_JSON_FAST_H

#include <jansson.h>
#include <stddef.h>

/* The object json_loadb(buf, len, 0, ...) would return, when buf is a plain
 * object (keys and strings of printable ASCII without escapes, numbers,
 * true/false/null, nested objects a few levels deep, no repeated key);
 * NULL for anything else (then json_loadb decides, errors included). */
json_t *json_fast_object(const char *buf, size_t len);

#endif
