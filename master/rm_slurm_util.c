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
#include <sys/wait.h>

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

long rm_slurm_parse_time(const char *s)
{
	long v[4] = {0, 0, 0, 0}, days = 0;
	int n = 0;
	const char *p = s;
	if (!s || !*s)
		return -1;
	const char *dash = strchr(s, '-');
	if (dash) {
		days = number(&p, 100000);
		if (days < 0 || p != dash)
			return -1;
		p++;
	}
	for (;;) {
		if (n == 3)
			return -1;
		v[n] = number(&p, 1000000);
		if (v[n] < 0)
			return -1;
		n++;
		if (*p == '\0')
			break;
		if (*p++ != ':')
			return -1;
	}
	long sec;
	if (dash) /* D-H, D-H:M, D-H:M:S */
		sec = days * 86400 + v[0] * 3600 + v[1] * 60 + v[2];
	else if (n == 1) /* MIN */
		sec = v[0] * 60;
	else if (n == 2) /* MIN:SEC */
		sec = v[0] * 60 + v[1];
	else /* H:M:S */
		sec = v[0] * 3600 + v[1] * 60 + v[2];
	return (sec + 59) / 60;
}

long rm_slurm_walltime_lead(long lead_s, long time_min)
{
	if (lead_s <= 0)
		return 0;
	if (time_min >= 0 && lead_s * 2 >= time_min * 60)
		return 0;
	return lead_s;
}

int rm_slurm_time_limit(long time_min, long default_min, long max_min, const char *partition,
                        long *limit_min, char *err, size_t errlen)
{
	if (time_min >= 0 && max_min >= 0 && time_min > max_min) {
		snprintf(err, errlen,
		         "slurm.sbatch_args: --time of %ld minutes is above partition %s's MaxTime "
		         "of %ld minutes",
		         time_min, partition && *partition ? partition : "(default)", max_min);
		return -1;
	}
	*limit_min = time_min >= 0 ? time_min : default_min >= 0 ? default_min : max_min;
	return 0;
}

int rm_slurm_parse_sbatch_args(const char *const *args, int n, struct rm_slurm_opts *o, char *err,
                               size_t errlen)
{
	static const struct {
		const char *lng, *shrt;
	} known[] = {{"--partition", "-p"},
	             {"--account", "-A"},
	             {"--qos", "-q"},
	             {"--constraint", "-C"},
	             {"--time", "-t"}};
	memset(o, 0, sizeof(*o));
	o->time_min = -1;
	for (int i = 0; i < n; i++) {
		const char *a = args[i], *val = NULL;
		int k = -1;
		for (int j = 0; j < 5 && k < 0; j++) {
			size_t l = strlen(known[j].lng);
			if (!strncmp(a, known[j].lng, l) && a[l] == '=') {
				k = j;
				val = a + l + 1;
			} else if (!strcmp(a, known[j].lng) || !strcmp(a, known[j].shrt)) {
				k = j;
				val = i + 1 < n ? args[++i] : NULL;
			} else if (!strncmp(a, known[j].shrt, 2) && a[2]) {
				k = j;
				val = a + 2;
			}
		}
		if (k < 0) {
			snprintf(err, errlen,
			         "slurm.sbatch_args: %.64s is not applied when det-master submits "
			         "(det submit passes any sbatch argument)",
			         a);
			return -1;
		}
		if (!val || !*val) {
			snprintf(err, errlen, "slurm.sbatch_args: %s needs a value", known[k].lng);
			return -1;
		}
		char *dst[] = {o->partition, o->account, o->qos, o->constraint};
		size_t cap[] = {sizeof(o->partition), sizeof(o->account), sizeof(o->qos),
		                sizeof(o->constraint)};
		if (k == 4) {
			o->time_min = rm_slurm_parse_time(val);
			if (o->time_min < 0) {
				snprintf(err, errlen,
				         "slurm.sbatch_args: --time %.32s: not a time limit", val);
				return -1;
			}
		} else if (strlen(val) >= cap[k]) {
			snprintf(err, errlen, "slurm.sbatch_args: %s: longer than %zu characters",
			         known[k].lng, cap[k] - 1);
			return -1;
		} else {
			snprintf(dst[k], cap[k], "%s", val);
		}
	}
	return 0;
}

void rm_slurm_throttle_plan(const struct rm_slurm_part_load *parts, int n, int max_concurrent,
                            enum rm_slurm_throttle_act *act, uint32_t *throttle)
{
	int running = 0, cur = -1;

	for (int i = 0; i < n; i++) {
		act[i] = RM_SLURM_TH_NONE;
		throttle[i] = parts[i].throttle;
		if (parts[i].gone)
			continue;
		running += parts[i].running;
		if (cur < 0 && parts[i].pending > 0)
			cur = i;
	}
	if (max_concurrent <= 0 || cur < 0)
		return;
	int room = max_concurrent - (running - parts[cur].running);
	uint32_t want = room > 0 ? (uint32_t)room : 1;
	if (parts[cur].waiting) {
		if (room - parts[cur].running > 0) {
			act[cur] = RM_SLURM_TH_SET_RELEASE;
			throttle[cur] = want;
		}
	} else if (parts[cur].throttle != want) {
		act[cur] = RM_SLURM_TH_SET;
		throttle[cur] = want;
	}
	for (int i = cur + 1; i < n; i++)
		if (!parts[i].gone && !parts[i].waiting && parts[i].pending > 0)
			act[i] = RM_SLURM_TH_HOLD;
}

/* det-launch's "run me again" (EX_TEMPFAIL), which only Slurm's state can tell apart from an
 * scancel's SIGTERM that the trial answered the same way. */
#define REPORT_EXIT_REQUEUE 75

enum rm_slurm_report_act rm_slurm_report_end(enum rm_slurm_tstate st, int wait_status, int canceled,
                                             int paused)
{
	if (st == RM_SLURM_T_DONE)
		return RM_SLURM_REPORT_IGNORE;
	if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) == REPORT_EXIT_REQUEUE ||
	    canceled || paused)
		return RM_SLURM_REPORT_RECHECK;
	return RM_SLURM_REPORT_END;
}

int rm_slurm_poll_interval(int poll_ms, int reports_trusted, int list_awaited)
{
	if (!reports_trusted || list_awaited || poll_ms >= RM_SLURM_REPORTING_MAX_MS)
		return poll_ms;
	long ms = (long)poll_ms * RM_SLURM_REPORTING_FACTOR;
	return ms > RM_SLURM_REPORTING_MAX_MS ? RM_SLURM_REPORTING_MAX_MS : (int)ms;
}

int rm_slurm_report_start(enum rm_slurm_tstate st, unsigned last_restarts, unsigned restart_count)
{
	if (restart_count < last_restarts)
		return 0;
	return !(st == RM_SLURM_T_DONE && restart_count == last_restarts);
}
