/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whole writes to a file descriptor, retried across short writes and EINTR. */
#ifndef DET_FDIO_H
#define DET_FDIO_H

#include <stddef.h>

/* Write all n bytes of buf to fd (a socket: with send and MSG_NOSIGNAL, so a closed peer
 * is an error rather than SIGPIPE): 0, or -1 with errno set (EIO when fd took nothing). */
int fdio_write_all(int fd, const void *buf, size_t n, int socket);

#endif
