/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to the expconf module: collecting diagnostics while parsing. */
#ifndef DET_EXPCONF_DIAG_H
#define DET_EXPCONF_DIAG_H

#include <stdarg.h>

#include "expconf.h"

/* Empty the diagnostics and set the file name used in messages. */
void expconf_diags_init(struct expconf_diags *d, const char *file);

/* Record one diagnostic (kept up to EXPCONF_MAX_DIAGS, then counted as dropped). */
void expconf_diag_add(struct expconf_diags *d, enum expconf_severity sev, int line, int column,
                      const char *path, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* As expconf_diag_add, with a va_list. */
void expconf_diag_vadd(struct expconf_diags *d, enum expconf_severity sev, int line, int column,
                       const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

/* Put the diagnostics in file order (stable). */
void expconf_diags_sort(struct expconf_diags *d);

#endif
