/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * det-launch's calls to det-master (doc/api.md, "The trial side"), and the
 * two background threads: log shipping and the signals long poll.
 */
#ifndef DET_LAUNCH_MASTER_H
#define DET_LAUNCH_MASTER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "launch_logq.h"

/* POST /experiments/{exp}/claim with the allocation token. The answer (a
 * trial, or {"done": true}); retried while the master is unreachable or the
 * experiment is paused, up to wait_seconds. */
json_t *launch_master_claim(const char *master, const char *alloc_token, int64_t exp, int64_t task,
                            int wait_seconds, char *err, size_t errlen);

/* GET /experiments/{exp}/model_def into a new buffer (at most max_bytes). */
int launch_master_model_def(const char *master, const char *alloc_token, int64_t exp,
                            size_t max_bytes, char **data, size_t *len, char *err, size_t errlen);

/* GET /tasks/{task}/context (a command's context, tar.gz) with the task's own token
 * (DET_TASK_TOKEN) into a new buffer (at most max_bytes). */
int launch_master_task_context(const char *master, const char *task_token, int64_t task,
                               size_t max_bytes, char **data, size_t *len, char *err,
                               size_t errlen);

/* POST /trials/{id}/exit; signal 0 and an empty or NULL error (the first error line the
 * trial printed) are sent as null. The answer. */
json_t *launch_master_exit(const char *master, const char *trial_token, int64_t trial,
                           int exit_code, int signal, const char *error, int wait_seconds,
                           char *err, size_t errlen);

/* GET /trials/{id}/signals without waiting: *stop and *preempt. 0 or -1. */
int launch_master_signals(const char *master, const char *trial_token, int64_t trial, int *stop,
                          int *preempt, char *err, size_t errlen);

struct launch_shipper;

/* Start a thread sending q's lines to /trials/{trial}/logs. */
struct launch_shipper *launch_shipper_start(const char *master, const char *trial_token,
                                            int64_t trial, struct launch_logq *q, char *err,
                                            size_t errlen);

/* Flush for at most flush_seconds, stop and free (NULL is fine). */
void launch_shipper_stop(struct launch_shipper *s, int flush_seconds);

struct launch_poller;

/* Start a thread long-polling /trials/{trial}/signals; on stop or preempt it
 * creates preempt_file. */
struct launch_poller *launch_poller_start(const char *master, const char *trial_token,
                                          int64_t trial, const char *preempt_file, char *err,
                                          size_t errlen);

/* Tell the thread to stop; it ends (and frees itself) after its current poll. */
void launch_poller_stop(struct launch_poller *p);

#endif
