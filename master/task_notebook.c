/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Notebook tasks (doc/tasks.md): the fixed argv the master runs for one (the
 * det-notebook-launch script, never text from the user) and the end reasons
 * its exit codes stand for. Non-obvious decision: the idle watchdog lives in
 * the launcher, inside the task, so a notebook on Slurm frees its job by
 * itself; the master only maps the launcher's exit code to "idle".
 */
#include "task_notebook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int task_notebook_idle_parse(json_t *v, long *secs, char *err, size_t errlen)
{
	long n = -1, unit = 1;

	if (json_is_integer(v)) {
		n = (long)json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end = NULL;
		errno = 0;
		if (*s >= '0' && *s <= '9')
			n = strtol(s, &end, 10);
		if (errno || !end || end == s)
			n = -1;
		else if (!strcmp(end, "m"))
			unit = 60;
		else if (!strcmp(end, "h"))
			unit = 3600;
		else if (!strcmp(end, "d"))
			unit = 86400;
		else if (*end && strcmp(end, "s"))
			n = -1;
	}
	if (n < 0 || n > TASK_NOTEBOOK_MAX_IDLE_S / unit) {
		snprintf(err, errlen,
		         "idle_timeout: expected seconds (0: never) or \"N[smhd]\", at most %ld s",
		         TASK_NOTEBOOK_MAX_IDLE_S);
		return -1;
	}
	*secs = n * unit;
	return 0;
}

void task_notebook_argv(const char *launcher, long idle, char *num, size_t numlen,
                        const char *argv[4])
{
	snprintf(num, numlen, "%ld", idle);
	argv[0] = launcher;
	argv[1] = "--idle-timeout";
	argv[2] = num;
	argv[3] = NULL;
}

const char *task_notebook_end_reason(int wait_status)
{
	if (wait_status < 0 || !WIFEXITED(wait_status))
		return NULL;
	switch (WEXITSTATUS(wait_status)) {
	case TASK_NOTEBOOK_EXIT_IDLE:
		return "idle";
	case TASK_NOTEBOOK_EXIT_NO_JUPYTER:
		return "jupyter not found in PATH";
	default:
		return NULL;
	}
}
