/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Leveled logging to a stream or syslog. One line per message, written with a
 * single stdio call so that lines from several threads do not interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *name, enum log_level *level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "unknown";
	return level_names[level];
}

void log_msg(const struct log_sink *sink, enum log_level level, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	if (sink && level > sink->level)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (sink && sink->use_syslog) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		syslog(prio[level], "%s", text);
		return;
	}
	FILE *out = (sink && sink->out) ? sink->out : stderr;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(out, "%s %s: %s: %s\n", stamp, (sink && sink->ident) ? sink->ident : "det",
	        log_level_name(level), text);
	fflush(out);
}
