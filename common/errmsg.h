/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one printf-style setter for the error messages that travel in a
 * caller's (char *err, size_t errlen) buffer. Plain C with no dependencies,
 * so the Slurm plugins compile it in as well as libdetcommon.
 */
#ifndef DET_ERRMSG_H
#define DET_ERRMSG_H

#include <stddef.h>

/* Format the message into err (truncated to errlen); nothing when err is NULL or errlen 0. */
void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
