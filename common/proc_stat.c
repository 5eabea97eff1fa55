/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A process's start time from /proc/PID/stat, for the master's local resource
 * manager and det-launch (both record it next to a pid, to know the process
 * again after a restart).
 */
#include "proc_stat.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

long long proc_stat_start_time(long pid)
{
	char path[64], buf[1024];
	long long start = 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the command name may hold anything */
	/* after the name: fields 3 (state) to 21, then 22 (starttime) */
	if (!p || sscanf(p + 1,
	                 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d "
	                 "%*d %*d %*d %*d %lld",
	                 &start) != 1)
		return 0;
	return start;
}
