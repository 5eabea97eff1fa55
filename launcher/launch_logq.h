/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The entrypoint's output on its way to the master: a bounded queue of
 * lines that never blocks the producer, spilled to a local file when full
 * or when the master cannot be reached, sent in batches.
 */
#ifndef DET_LAUNCH_LOGQ_H
#define DET_LAUNCH_LOGQ_H

#include <jansson.h>
#include <stddef.h>

#define LAUNCH_LOGQ_MAX_LINE 16384 /* longer lines are cut */

struct launch_logq;

/* Sends one batch body {"logs": [...]}; 0 when the master took it. */
typedef int (*launch_logq_send_fn)(void *ctx, const json_t *body, char *err, size_t errlen);

/* A queue of at most max_lines lines of rank, spilling to spill_path
 * (at most max_spill_bytes, then lines are dropped and counted). */
struct launch_logq *launch_logq_new(int rank, size_t max_lines, const char *spill_path,
                                    size_t max_spill_bytes, char *err, size_t errlen);

/* Free (NULL is fine); the spill file stays. */
void launch_logq_free(struct launch_logq *q);

/* Add one line ("stdout"/"stderr"); never waits for the network. NUL and
 * bytes that are not valid UTF-8 are sent as the text \xNN, the rest as is. */
void launch_logq_push(struct launch_logq *q, const char *stream, const char *line, size_t len);

/* Send what is spilled, then what is queued, in batches of max_batch lines.
 * A failed batch goes to the spill file and the call returns -1 with err;
 * otherwise the number of lines sent. */
long launch_logq_ship(struct launch_logq *q, size_t max_batch, launch_logq_send_fn send, void *ctx,
                      char *err, size_t errlen);

/* Lines queued in memory plus lines waiting in the spill file. */
size_t launch_logq_pending(struct launch_logq *q);

/* Lines dropped because the spill file was full. */
size_t launch_logq_dropped(struct launch_logq *q);

/* Block until lines are queued or timeout_ms passes (for the shipping thread). */
void launch_logq_wait(struct launch_logq *q, long timeout_ms);

/* End the current wait and make later ones return at once (the shipper stops). */
void launch_logq_wake(struct launch_logq *q);

#endif
