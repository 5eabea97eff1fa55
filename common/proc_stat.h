/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What /proc/PID/stat says of a process: its start time, which tells a live
 * process from another that was given the same pid later. */
#ifndef DET_PROC_STAT_H
#define DET_PROC_STAT_H

/* The start time of pid in clock ticks after boot (/proc/PID/stat field 22),
 * or 0 when there is no such process. */
long long proc_stat_start_time(long pid);

#endif
