/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Safe unpacking of a model definition (tar, optionally gzip-compressed).
 */
#ifndef DET_LAUNCH_UNPACK_H
#define DET_LAUNCH_UNPACK_H

#include <stddef.h>
#include <stdint.h>

struct launch_unpack_limits {
	uint64_t max_total_bytes; /* sum of regular file sizes */
	size_t max_entries;       /* files, directories and links */
	size_t max_path_bytes;    /* length of one entry's path */
};

/* The defaults: 512 MiB, 100000 entries, 1024-byte paths. */
struct launch_unpack_limits launch_unpack_default_limits(void);

/* Unpack the archive in data into dest (created if missing). Refused with a
 * message naming the entry: absolute paths, "..", links that are absolute or
 * contain "..", devices, fifos, sockets, and anything over the limits. Files
 * are created fresh (never overwritten, never through a final symlink). */
int launch_unpack(const void *data, size_t len, const char *dest,
                  const struct launch_unpack_limits *limits, char *err, size_t errlen);

#endif
