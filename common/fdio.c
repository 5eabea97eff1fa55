/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whole writes to a file descriptor: the loop over short writes and EINTR that the
 * CLI's shell relay, the master's proxy relay and the checkpoint tar writer share.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "fdio.h"

int fdio_write_all(int fd, const void *buf, size_t n, int socket)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = socket ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}
