/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-launch --command: run a command task in its context (Slurm).
 */
#ifndef DET_LAUNCH_COMMAND_H
#define DET_LAUNCH_COMMAND_H

#include <stddef.h>

/* Fetch the context of task DET_TASK_ID from DET_MASTER with DET_TASK_TOKEN (at most
 * max_bytes), unpack it into a new directory, run argv[0..argc-1] there (PATH lookup),
 * remove the directory and end as the command did (exit code or signal); 126 when the
 * context is refused or the command cannot start. */
int launch_command_run(int argc, char **argv, size_t max_bytes);

#endif
