/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure helpers of the Slurm resource manager: splitting an experiment over
 * several arrays (MaxArraySize), the job id string that names them, Slurm's
 * array task lists, and the per-task state step that turns what Slurm shows
 * at each poll into started/ended events.
 *
 * Main structure: none kept; callers own the task states. Non-obvious
 * decision: a poll can miss a whole run of a short task, or a requeue and
 * restart between two polls; Slurm's restart count tells those apart, so the
 * step compares it with the one seen before and emits the missed events.
 */
#include "rm_slurm_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rm_slurm_split(int num_tasks, int max_array_size, struct rm_slurm_part *parts, int max,
                   char *err, size_t errlen)
{
	int n = 0;
	if (num_tasks <= 0 || max_array_size <= 0) {
		snprintf(err, errlen, "empty array");
		return -1;
	}
	for (int off = 0; off < num_tasks; off += max_array_size) {
		if (n == max) {
			snprintf(err, errlen,
			         "%d tasks need more than %d arrays of MaxArraySize %d", num_tasks,
			         max, max_array_size);
			return -1;
		}
		parts[n].job_id = 0;
		parts[n].offset = off;
		parts[n].count =
		    num_tasks - off < max_array_size ? num_tasks - off : max_array_size;
		n++;
	}
	return n;
}

int rm_slurm_format_ids(const struct rm_slurm_part *parts, int n, char *out, size_t len)
{
	size_t used = 0;
	if (len == 0)
		return -1;
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		int w = snprintf(out + used, len - used, "%s%u+%d", i ? "," : "",
		                 (unsigned)parts[i].job_id, parts[i].offset);
		if (w < 0 || (size_t)w >= len - used)
			return -1;
		used += (size_t)w;
	}
	return 0;
}

/* Parse a decimal number in [0, max] at *p, advancing it. -1 when there is none. */
static long number(const char **p, long max)
{
	char *end;
	if (**p < '0' || **p > '9')
		return -1;
	errno = 0;
	long v = strtol(*p, &end, 10);
	if (errno || v > max)
		return -1;
	*p = end;
	return v;
}

int rm_slurm_parse_ids(const char *s, struct rm_slurm_part *parts, int max, char *err,
                       size_t errlen)
{
	const char *p = s;
	int n = 0;
	if (!s || !*s)
		goto bad;
	for (;;) {
		long id = number(&p, 0xfffffff0L), off = 0;
		if (id <= 0 || n == max)
			goto bad;
		if (*p == '+') {
			p++;
			off = number(&p, 1L << 30);
			if (off < 0)
				goto bad;
		}
		parts[n++] = (struct rm_slurm_part){(uint32_t)id, (int)off, 0};
		if (*p == '\0')
			return n;
		if (*p++ != ',')
			goto bad;
	}
bad:
	snprintf(err, errlen, "job id \"%.64s\": expected ID[+OFFSET][,ID+OFFSET]...", s ? s : "");
	return -1;
}

int rm_slurm_parse_indices(const char *s, unsigned char *flags, int n, char *err, size_t errlen)
{
	const char *p = s;
	if (!s)
		goto bad;
	while (*p && *p != '%') {
		long lo = number(&p, 1L << 30), hi = lo, step = 1;
		if (lo < 0)
			goto bad;
		if (*p == '-') {
			p++;
			hi = number(&p, 1L << 30);
			if (hi < lo)
				goto bad;
			if (*p == ':') {
				p++;
				step = number(&p, 1L << 30);
				if (step <= 0)
					goto bad;
			}
		}
		for (long i = lo; i <= hi && i < n; i += step)
			flags[i] = 1;
		if (*p == ',')
			p++;
		else if (*p && *p != '%')
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "array task list \"%.64s\": malformed", s ? s : "");
	return -1;
}

int rm_slurm_step(enum rm_slurm_tstate *st, unsigned *last_restarts, enum rm_slurm_obs obs,
                  unsigned restarts)
{
	int again = restarts > *last_restarts, emit = 0;
	*last_restarts = restarts;
	switch (*st) {
	case RM_SLURM_T_PENDING:
		if (obs == RM_SLURM_OBS_RUNNING) {
			emit = RM_SLURM_EMIT_START;
			*st = RM_SLURM_T_RUNNING;
		} else if (obs == RM_SLURM_OBS_ENDED) {
			emit = RM_SLURM_EMIT_START | RM_SLURM_EMIT_END;
			*st = RM_SLURM_T_DONE;
		}
		break;
	case RM_SLURM_T_RUNNING:
		if (obs == RM_SLURM_OBS_PENDING || obs == RM_SLURM_OBS_REQUEUED) {
			emit = RM_SLURM_EMIT_END_REQUEUED;
			*st = RM_SLURM_T_PENDING;
		} else if (obs == RM_SLURM_OBS_RUNNING) {
			if (again)
				emit = RM_SLURM_EMIT_END_REQUEUED | RM_SLURM_EMIT_START;
		} else {
			emit = RM_SLURM_EMIT_END |
			       (again ? RM_SLURM_EMIT_END_REQUEUED | RM_SLURM_EMIT_START : 0);
			*st = RM_SLURM_T_DONE;
		}
		break;
	case RM_SLURM_T_DONE:
		if (obs == RM_SLURM_OBS_PENDING || obs == RM_SLURM_OBS_REQUEUED) {
			*st = RM_SLURM_T_PENDING;
		} else if (obs == RM_SLURM_OBS_RUNNING) {
			emit = RM_SLURM_EMIT_START;
			*st = RM_SLURM_T_RUNNING;
		} else if (again) {
			emit = RM_SLURM_EMIT_START | RM_SLURM_EMIT_END;
		}
		break;
	}
	return emit;
}
