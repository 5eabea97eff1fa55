/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How det-launch ranks share a trial: files in a per-job directory that
 * every rank can see (doc/launcher.md, "Sharing the assignment").
 */
#ifndef DET_LAUNCH_SHARE_H
#define DET_LAUNCH_SHARE_H

#include <jansson.h>
#include <stddef.h>

/* The job directory: $DET_JOB_DIR, or $DET_RUN_DIR (default
 * $HOME/.det-slurm/run) / "e<exp>-t<task>-<job key>" where the key comes from
 * the launcher (Slurm job, step and restart count; Open MPI job; PMIx
 * namespace). Created with mode 0700. */
int launch_share_dir(char *const envp[], long long experiment, long long task, char *out,
                     size_t outlen, char *err, size_t errlen);

/* Path of a file in dir: "<dir>/<name>" where name is printf-formatted. */
int launch_share_path(char *out, size_t outlen, const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Write value to dir/name atomically (temporary file, then rename). */
int launch_share_put(const char *dir, const char *name, const json_t *value, char *err,
                     size_t errlen);

/* Read dir/name, waiting up to timeout_ms for it to appear; NULL with err on
 * timeout, or when the file stop_name (may be NULL) appears first. */
json_t *launch_share_wait(const char *dir, const char *name, const char *stop_name, long timeout_ms,
                          char *err, size_t errlen);

/* Create an empty marker dir/name (0 or -1). */
int launch_share_touch(const char *dir, const char *name);

/* 1 when dir/name exists. */
int launch_share_exists(const char *dir, const char *name);

/* This rank (of size) is done with dir: leave its "finished-<rank>" marker;
 * with remove_dir, the rank that finds every marker removes dir and all in
 * it, unless it holds unsent log lines (logs-*.jsonl). 1 when removed. */
int launch_share_finish(const char *dir, int rank, int size, int remove_dir);

/* For a job directory keyed by this process's pid, record its owner (host,
 * pid, start time) in owner.json; then remove the pid-keyed siblings whose
 * owner ran on this host and is gone (unless they hold unsent log lines).
 * Best effort. */
void launch_share_sweep_stale(const char *job_dir);

#endif
