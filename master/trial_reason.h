/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The one-line reason a failed trial (and its experiment) shows: how the
 * process ended and the first error it printed. Pure: no I/O, no locks.
 */
#ifndef DET_TRIAL_REASON_H
#define DET_TRIAL_REASON_H

#include <stddef.h>
#include <stdint.h>

/* Longest error line the exit report may carry (bytes). */
#define TRIAL_REASON_ERROR_MAX 1024

/* 0 when error (the launcher's report) is one printable line of at most
 * TRIAL_REASON_ERROR_MAX bytes, else -1 with why in err. */
int trial_reason_check_error(const char *error, char *err, size_t errlen);

/* Why a trial failed, into buf (cut on a UTF-8 character boundary): "killed by signal 9
 * (SIGKILL)", "entrypoint not found (exit status 127)", "exit status 137 (signal 9, SIGKILL)"
 * or "exit status N", then ": error"
 * when error is not empty; prefixed "max_restarts (N) exceeded: " when the trial had
 * restarted max_restarts > 0 times. */
void trial_reason_of_exit(char *buf, size_t n, int exit_code, int sig, const char *error,
                          int64_t restarts, int64_t max_restarts);

#endif
