/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the unit tests that work in a directory of their own under
 * /tmp: its creation and its removal with everything below it (no shell), and
 * files written into it. */
#ifndef DET_UNIT_TMPDIR_H
#define DET_UNIT_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

/* A fresh directory /tmp/<prefix>XXXXXX into dir (len bytes). 0 or -1. */
static inline int unit_tmpdir(char *dir, size_t len, const char *prefix)
{
	if ((size_t)snprintf(dir, len, "/tmp/%sXXXXXX", prefix) >= len)
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

/* nftw callback of unit_rmtree: remove one entry (deepest first). */
static inline int unit_rmtree_entry(const char *path, const struct stat *st, int flag,
                                    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove dir and everything below it (symbolic links not followed). 0 or -1. */
static inline int unit_rmtree(const char *dir)
{
	return nftw(dir, unit_rmtree_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/* Writes text into the file dir/rel (made, or emptied first). 0 or -1. */
static inline int unit_put(const char *dir, const char *rel, const char *text)
{
	char path[512];
	FILE *f;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) >= sizeof(path) ||
	    !(f = fopen(path, "w")))
		return -1;
	rc = fputs(text, f) < 0 ? -1 : 0;
	return fclose(f) ? -1 : rc;
}

/* A zeroed fixture of size bytes whose first member, char dir[dirlen], holds a fresh
 * directory /tmp/<prefix>XXXXXX (cmocka setups). NULL on failure. */
static inline void *unit_dir_fixture_new(size_t size, size_t dirlen, const char *prefix)
{
	char *f = calloc(1, size);
	if (f && unit_tmpdir(f, dirlen, prefix)) {
		free(f);
		return NULL;
	}
	return f;
}

/* cmocka teardown of a unit_dir_fixture_new fixture (what else it holds released
 * first): removes its directory with everything below it and frees it. 0 or -1. */
static inline int unit_dir_fixture_free(void **state)
{
	char *dir = *state;
	int rc = unit_rmtree(dir);
	free(dir);
	return rc;
}

#endif
