/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The first error line of a trial's stderr. A Python traceback counts as one
 * error whose text is its exception line (the first unindented line after
 * "Traceback (most recent call last):"); the indented frames inside it are
 * never taken, and the first traceback wins over any other line (it is what
 * ended the program). Other lines count when they hold a word that error
 * messages use and are not warnings. Pure: no I/O.
 */
#include "launch_reason.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static const char *const error_words[] = {
    "error",   "exception",     "fatal",     "denied",        "not found", "no such",
    "cannot",  "can't",         "failed",    "out of memory", "killed",    "segmentation fault",
    "aborted", "not permitted", "unable to",
};

/* Case-insensitive substring search in a line that is not NUL-terminated. */
static int has_word(const char *s, size_t len, const char *w)
{
	size_t n = strlen(w);
	for (size_t i = 0; i + n <= len; i++) {
		if (!strncasecmp(s + i, w, n))
			return 1;
	}
	return 0;
}

static int looks_like_error(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(error_words) / sizeof(error_words[0]); i++) {
		if (has_word(s, len, error_words[i]))
			return 1;
	}
	return 0;
}

/* Copy s into r->line: ANSI escape sequences dropped, other control
 * characters as spaces, surrounding blanks trimmed. */
static void keep(struct launch_reason *r, const char *s, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len && o + 1 < sizeof(r->line); i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0x1b) { /* ESC [ params final-byte */
			if (i + 1 < len && s[i + 1] == '[') {
				i += 2;
				while (i < len && !(s[i] >= 0x40 && s[i] <= 0x7e))
					i++;
			}
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if (c == ' ' && o == 0)
			continue;
		r->line[o++] = (char)c;
	}
	/* do not end inside a UTF-8 sequence that was cut */
	if (o + 1 == sizeof(r->line)) {
		size_t k = o;
		while (k > 0 && ((unsigned char)r->line[k - 1] & 0xc0) == 0x80)
			k--;
		if (k > 0 && ((unsigned char)r->line[k - 1] & 0xc0) == 0xc0)
			o = k - 1;
	}
	while (o > 0 && r->line[o - 1] == ' ')
		o--;
	r->line[o] = '\0';
}

void launch_reason_feed(struct launch_reason *r, const char *line, size_t len)
{
	static const char tb[] = "Traceback (most recent call last):";
	if (r->from_traceback)
		return;
	if (len >= sizeof(tb) - 1 && !memcmp(line, tb, sizeof(tb) - 1)) {
		r->in_traceback = 1;
		return;
	}
	if (r->in_traceback) {
		if (len == 0 || isspace((unsigned char)line[0]))
			return; /* a frame or its source line */
		r->in_traceback = 0;
		r->from_traceback = 1;
		keep(r, line, len);
		return;
	}
	if (!r->line[0] && looks_like_error(line, len) && !has_word(line, len, "warning"))
		keep(r, line, len);
}

void launch_reason_set(struct launch_reason *r, const char *text)
{
	if (!r->line[0] && text)
		keep(r, text, strlen(text));
}
