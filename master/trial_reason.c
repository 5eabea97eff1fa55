/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A failed trial's end_reason, composed from what det-launch reported (exit
 * status, signal, the first error line of the trial's stderr). The
 * experiment's own reason is its first failed trial's (master/exp_view.c).
 */
#include "trial_reason.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

int trial_reason_check_error(const char *error, char *err, size_t errlen)
{
	size_t len = strlen(error);
	if (len > TRIAL_REASON_ERROR_MAX) {
		snprintf(err, errlen, "error: at most %d bytes", TRIAL_REASON_ERROR_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)error[i];
		if (c < 0x20 || c == 0x7f) {
			snprintf(err, errlen,
			         "error: control character at byte %zu (one line expected)", i);
			return -1;
		}
	}
	return 0;
}

static const char *signal_name(int sig)
{
	static const struct {
		int sig;
		const char *name;
	} names[] = {{SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
	             {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},
	             {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"}, {SIGUSR1, "SIGUSR1"},
	             {SIGSEGV, "SIGSEGV"}, {SIGUSR2, "SIGUSR2"}, {SIGPIPE, "SIGPIPE"},
	             {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGXCPU, "SIGXCPU"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].sig == sig)
			return names[i].name;
	}
	return NULL;
}

/* Cut buf back so that it does not end inside a UTF-8 character. */
static void cut_on_character(char *buf, size_t n)
{
	size_t len = strlen(buf);
	if (len + 1 < n)
		return;
	size_t k = len;
	while (k > 0 && ((unsigned char)buf[k - 1] & 0xc0) == 0x80)
		k--;
	if (k > 0 && ((unsigned char)buf[k - 1] & 0xc0) == 0xc0) {
		/* the lead byte at k - 1 starts a sequence: complete only if its length fits */
		unsigned char lead = (unsigned char)buf[k - 1];
		size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
		if (len - (k - 1) < need)
			buf[k - 1] = '\0';
	}
}

void trial_reason_of_exit(char *buf, size_t n, int exit_code, int sig, const char *error,
                          int64_t restarts, int64_t max_restarts)
{
	char status[96], prefix[64] = "";
	if (sig && signal_name(sig))
		snprintf(status, sizeof(status), "killed by signal %d (%s)", sig, signal_name(sig));
	else if (sig)
		snprintf(status, sizeof(status), "killed by signal %d", sig);
	else if (exit_code == 127)
		snprintf(status, sizeof(status), "entrypoint not found (exit status 127)");
	else if (exit_code == 126)
		snprintf(status, sizeof(status), "entrypoint not executable (exit status 126)");
	else if (exit_code > 128 && signal_name(exit_code - 128))
		snprintf(status, sizeof(status), "exit status %d (signal %d, %s)", exit_code,
		         exit_code - 128, signal_name(exit_code - 128));
	else
		snprintf(status, sizeof(status), "exit status %d", exit_code);
	if (max_restarts > 0 && restarts >= max_restarts)
		snprintf(prefix, sizeof(prefix),
		         "max_restarts (%lld) exceeded: ", (long long)max_restarts);
	snprintf(buf, n, "%s%s%s%s", prefix, status, error && *error ? ": " : "",
	         error ? error : "");
	cut_on_character(buf, n);
}
