/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Notebook tasks (doc/tasks.md): what the master runs for one, and what its end means. */
#ifndef DET_TASK_NOTEBOOK_H
#define DET_TASK_NOTEBOOK_H

#include <jansson.h>

/* The launcher's exit codes: idle for its idle timeout; no jupyter in PATH. */
#define TASK_NOTEBOOK_EXIT_IDLE 80
#define TASK_NOTEBOOK_EXIT_NO_JUPYTER 81

/* The longest idle timeout (s): 30 days. */
#define TASK_NOTEBOOK_MAX_IDLE_S (30L * 24 * 3600)

/* An idle timeout: seconds as an integer, or a string "N", "Ns", "Nm", "Nh", "Nd";
 * 0 = never. Into *secs: 0, or -1 with err. */
int task_notebook_idle_parse(json_t *v, long *secs, char *err, size_t errlen);

/* The launcher's argv for idle (s) into argv[4] (num: room for the number). */
void task_notebook_argv(const char *launcher, long idle, char *num, size_t numlen,
                        const char *argv[4]);

/* A notebook's end reason for its launcher's wait status, or NULL (the usual one). */
const char *task_notebook_end_reason(int wait_status);

#endif
