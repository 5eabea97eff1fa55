/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * errmsg_set: formats an error message into a caller's buffer. It lives
 * here once instead of as a static copy in each module that reports errors.
 */
#include "errmsg.h"

#include <stdarg.h>
#include <stdio.h>

void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
