/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging with levels for the daemons and tools. The logger is a value the
 * caller owns (no global state): main() makes one and passes it down.
 */
#ifndef DET_LOG_H
#define DET_LOG_H

#include <stdio.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

struct log_sink {
	enum log_level level; /* messages above this level are dropped */
	FILE *out;            /* stderr when NULL */
	int use_syslog;       /* send to syslog(3) instead of out */
	const char *ident;    /* program name in each line */
};

/* Parse "error", "warn", "info" or "debug"; -1 if unknown. */
int log_level_parse(const char *name, enum log_level *level);

/* Name of a level ("info"). */
const char *log_level_name(enum log_level level);

/* Write one line: "ident: level: message". */
void log_msg(const struct log_sink *sink, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
