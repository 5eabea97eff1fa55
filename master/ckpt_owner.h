/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File work in checkpoint storage, done in a child process as the experiment's owner. */
#ifndef DET_MASTER_CKPT_OWNER_H
#define DET_MASTER_CKPT_OWNER_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "ckpt_tar.h"

#define CKPT_OWNER_MAX_GROUPS 256 /* supplementary groups kept for the owner */

/* Whom the file work runs as (filled by ckpt_owner_lookup). */
struct ckpt_owner {
	int drop; /* 1: the master is root and becomes uid/gid/groups in the child */
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[CKPT_OWNER_MAX_GROUPS];
	char home[PATH_MAX];
};

/* The identity for an experiment owned by Unix uid (-1: none): that user when the master
 * is root, the master's own user otherwise. 0, or -1 with err (no Unix account). */
int ckpt_owner_lookup(long uid, struct ckpt_owner *o, char *err, size_t errlen);

/* As o: is dir under the storage roots (storage_roots with "~" = o's home, plus
 * default_host)? 0, or -1 with err. */
int ckpt_owner_check(const struct ckpt_owner *o, const json_t *storage_roots,
                     const char *default_host, const char *dir, char *err, size_t errlen);

/* As o: check dir, then remove each entry of names (single path components) in dir with
 * all below it, never following a symlink. How many existed and were removed, or -1 with
 * err (nothing is removed when the check fails). */
int ckpt_owner_remove(const struct ckpt_owner *o, const json_t *storage_roots,
                      const char *default_host, const char *dir, const json_t *names, char *err,
                      size_t errlen);

/* As o: check dir, make its relative subdirectory sub (and dir itself) as needed, and open
 * in it the file name: a new one (O_EXCL; "name.1", "name.2"... when taken; the name used
 * goes to used, PATH_MAX bytes) or, with append, the existing one. No symlink is followed.
 * The open fd (the caller closes it), or -1 with err. */
int ckpt_owner_open(const struct ckpt_owner *o, const json_t *storage_roots,
                    const char *default_host, const char *dir, const char *sub, const char *name,
                    int append, char *used, char *err, size_t errlen);

/* As o: open path (any file o may read, O_NONBLOCK) for reading; with tar_dirs, a
 * directory comes back as a tarball of its contents (an unlinked temporary file made
 * by tar as o). The fd (the caller closes it), or -1 with err. */
int ckpt_owner_open_read(const struct ckpt_owner *o, const char *path, int tar_dirs, char *err,
                         size_t errlen);

/* As o: check dir, then archive its subdirectory uuid (ckpt_tar_write: regular files
 * and directories, no symlink followed, within lim) into an unlinked temporary file.
 * The fd at the archive's start (the caller closes it; how many entries were left out
 * goes to skipped, may be NULL), or -1 with err. */
int ckpt_owner_tar(const struct ckpt_owner *o, const json_t *storage_roots,
                   const char *default_host, const char *dir, const char *uuid,
                   const struct ckpt_tar_limits *lim, unsigned long long *skipped, char *err,
                   size_t errlen);

#endif
