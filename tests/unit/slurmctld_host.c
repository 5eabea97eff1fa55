/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stand-in for the parts of slurmctld that job_submit_det calls: xstrdup and
 * xfree on malloc, info and error into one line buffer. Non-obvious
 * decision: the buffer is this program's only global state, as slurmctld's
 * logger is a global in slurmctld too.
 */
#include "slurmctld_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char last_log[1024];
static char last_warning[1024];

/* Keep line as the last line, and as the last warning when it is one. */
static void keep(const char *line)
{
	snprintf(last_log, sizeof(last_log), "%s", line);
	if (strstr(line, "warning:"))
		snprintf(last_warning, sizeof(last_warning), "%s", line);
}

static void keepv(const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	keep(line);
}

void slurm_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	keepv(fmt, ap);
	va_end(ap);
}

int slurm_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	keepv(fmt, ap);
	va_end(ap);
	return -1;
}

char *slurm_xstrdup(const char *str)
{
	char *copy = str ? strdup(str) : NULL;

	if (str && !copy)
		abort(); /* slurmctld's xstrdup never returns NULL either */
	return copy;
}

void slurm_xfree(void **item)
{
	free(*item);
	*item = NULL;
}

const char *slurmctld_host_last_log(void)
{
	return last_log;
}

const char *slurmctld_host_last_warning(void)
{
	return last_warning;
}
