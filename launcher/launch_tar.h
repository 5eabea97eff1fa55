/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A reader of tar archives held in memory, gzip-compressed or not: ustar,
 * pax (path, linkpath, size) and GNU long names. It parses only; judging
 * and writing the entries is launch_unpack.c's.
 */
#ifndef DET_LAUNCH_TAR_H
#define DET_LAUNCH_TAR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum launch_tar_type {
	LAUNCH_TAR_FILE,
	LAUNCH_TAR_DIR,
	LAUNCH_TAR_SYMLINK,
	LAUNCH_TAR_HARDLINK,
	LAUNCH_TAR_SPECIAL /* device, fifo */
};

struct launch_tar_entry {
	const char *path; /* owned by the reader, valid until the next call */
	const char *link; /* symlink or hard link target, else NULL; same lifetime */
	enum launch_tar_type type;
	unsigned mode; /* permission bits */
	uint64_t size; /* data bytes that follow (regular files) */
};

struct launch_tar;

/* A reader over data (not copied: it must outlive the reader); NULL with err. */
struct launch_tar *launch_tar_open(const void *data, size_t len, char *err, size_t errlen);

/* The next entry: 1, 0 at the end of the archive, -1 with err (corrupt, truncated,
 * an unsupported entry type). Data the caller did not read is skipped. */
int launch_tar_next(struct launch_tar *t, struct launch_tar_entry *e, char *err, size_t errlen);

/* Up to len bytes of the current entry's data: the count, 0 at its end, -1 with err. */
ssize_t launch_tar_read(struct launch_tar *t, void *buf, size_t len, char *err, size_t errlen);

/* Frees the reader; NULL is fine. */
void launch_tar_free(struct launch_tar *t);

#endif
