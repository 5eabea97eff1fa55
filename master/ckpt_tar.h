/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A checkpoint directory written as a bounded ustar archive, never following a symlink. */
#ifndef DET_MASTER_CKPT_TAR_H
#define DET_MASTER_CKPT_TAR_H

#include <stddef.h>
#include <stdint.h>

/* Limits on one archive. */
struct ckpt_tar_limits {
	uint64_t max_bytes;   /* file contents in all */
	uint64_t max_entries; /* files and directories in all */
};

/* Write the tree below the open directory dirfd to out as ustar (entries "./name"):
 * regular files and directories only, opened with O_NOFOLLOW; symlinks, devices,
 * sockets and fifos are left out. Over a limit, a path too long for ustar or an
 * unreadable file: -1 with err (what and where), and out holds no usable archive.
 * The number of entries left out goes to *skipped. 0 on success. */
int ckpt_tar_write(int dirfd, int out, const struct ckpt_tar_limits *lim, uint64_t *skipped,
                   char *err, size_t errlen);

#endif
