/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running the entrypoint: spawn, relay its output, honour preemption and
 * aborts, collect the exit status.
 */
#ifndef DET_LAUNCH_CHILD_H
#define DET_LAUNCH_CHILD_H

#include <jansson.h>

#include "launch_logq.h"
#include "launch_reason.h"

struct launch_child_opts {
	const json_t *entrypoint; /* "string" (run by /bin/sh -c) or ["argv", ...] */
	char **env;               /* the child's whole environment */
	const char *cwd;          /* the unpacked model definition */
	int rank;
	int prefix_lines;         /* prefix "[rank N] " on our own stdout/stderr */
	struct launch_logq *logq; /* NULL: output is not sent anywhere else */
	int signal_fd;            /* signalfd for SIGTERM/SIGUSR1/SIGINT, or -1 */
	const char *preempt_file; /* created when a signal asks for preemption */
	const char *abort_file;   /* created on failure; another rank's one stops ours */
	int grace_seconds;        /* after a preemption request, then SIGKILL */
	/* gets the first error line of stderr; NULL: not kept */
	struct launch_reason *reason;
};

struct launch_child_result {
	int exit_code; /* when it exited */
	int signal;    /* when a signal ended it, else 0 */
	int preempted; /* a signal asked us to preempt */
	int aborted;   /* another rank's failure stopped it */
};

/* 1 when s is Determined's legacy MODULE:CLASS entrypoint (dotted Python names), else 0. */
int launch_entrypoint_is_trial_class(const char *s);

/* argv for an entrypoint (NULL-terminated, strings borrowed from the JSON): a list as
 * is, MODULE:CLASS as python3 -m determined.exec.harness MODULE:CLASS, another string
 * through /bin/sh -c; NULL with err when the entrypoint is neither a string nor a list
 * of strings. */
const char **launch_child_argv(const json_t *entrypoint, char *err, size_t errlen);

/* The model directory's hook, run by sh before the entrypoint (doc/trial-environment.md). */
#define LAUNCH_STARTUP_HOOK "startup-hook.sh"

/* 1 when dir holds a regular file LAUNCH_STARTUP_HOOK (not a link), else 0. */
int launch_child_has_hook(const char *dir);

/* argv run through sh: source ./startup-hook.sh, then exec the original argv with the
 * hook's exports; a failing hook ends it with the hook's status and a message on
 * stderr. A new array (free it; strings are argv's and static), NULL when out of memory. */
const char **launch_child_hook_argv(const char **argv);

/* Run the entrypoint to its end. -1 with err when it could not be started. */
int launch_child_run(const struct launch_child_opts *o, struct launch_child_result *r, char *err,
                     size_t errlen);

#endif
