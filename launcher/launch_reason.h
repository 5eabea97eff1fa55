/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Why a trial failed, as its own output says: the first line of its stderr
 * that looks like an error (a Python traceback's exception line first, "Error:",
 * "Permission denied", "not found"...), kept as one printable line for the
 * exit report.
 */
#ifndef DET_LAUNCH_REASON_H
#define DET_LAUNCH_REASON_H

#include <stddef.h>

#define LAUNCH_REASON_MAX 512 /* bytes of the kept line, NUL included */

struct launch_reason {
	int in_traceback;             /* inside a "Traceback (most recent call last):" block */
	int from_traceback;           /* line is a traceback's exception line: final */
	char line[LAUNCH_REASON_MAX]; /* "" until an error line is seen */
};

/* Look at one line of stderr (no newline); the first error-looking line is kept,
 * control characters and ANSI colour codes removed. */
void launch_reason_feed(struct launch_reason *r, const char *line, size_t len);

/* Keep text as the reason unless one is kept already (the launcher's own errors). */
void launch_reason_set(struct launch_reason *r, const char *text);

#endif
