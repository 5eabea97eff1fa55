/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spank_det's per-step resources on one node: a private temp dir and the
 * trial's rendezvous ports. No Slurm headers, so it is unit-tested on its own.
 */
#ifndef DET_SPANK_STEP_H
#define DET_SPANK_STEP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The step id Slurm gives the batch script's step (SLURM_BATCH_SCRIPT). */
#define DET_STEP_BATCH 0xfffffffbu

/* "<base>/det-<job>.<step>" ("batch", "extern" or the number) into out;
 * 0, or -1 when it does not fit. */
int det_step_tmpdir_path(const char *base, uint32_t job_id, uint32_t step_id, char *out,
                         size_t outlen);

/* Create path as the calling user with mode 0700; an existing dir is taken
 * when it is a real dir owned by uid with mode 0700. 0, or -1 with err. */
int det_step_tmpdir_create(const char *path, uid_t uid, char *err, size_t errlen);

/* Remove path and everything under it without following symlinks or
 * crossing into another file system; only when path is a dir owned by uid.
 * Safe as root against a user who changes the tree meanwhile. 0, or -1 with err. */
int det_step_tmpdir_remove(const char *path, uid_t uid, char *err, size_t errlen);

/* The first port p of a pair (p, p+1) in [lo, hi] for this step: the pair
 * (job_id * 7 + step_id) picks first, then the next pairs in turn; a pair
 * counts when is_free says yes for both ports (NULL: every port is free).
 * The port, or -1 when none is free or the range holds no pair. */
int det_step_port_pick(uint32_t job_id, uint32_t step_id, int lo, int hi, int (*is_free)(int port));

/* Can a TCP socket bind port on every IPv4 address right now? 1 or 0. */
int det_step_port_free(int port);

#endif
