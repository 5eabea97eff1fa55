/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers shared by the store unit tests: a fresh directory for a SQLite
 * database, and its removal (with the database's -wal and -shm files). */
#ifndef DET_STORE_TEST_UTIL_H
#define DET_STORE_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A fresh directory from tmpl (ending in XXXXXX) into dir, and path = dir/m.db. 0 or -1. */
static inline int store_test_mkdir(char *dir, size_t dirlen, const char *tmpl, char *path,
                                   size_t pathlen)
{
	snprintf(dir, dirlen, "%s", tmpl);
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, pathlen, "%s/m.db", dir);
	return 0;
}

/* Remove the database path, its -wal and -shm files, and then the directory dir. */
static inline void store_test_rmdir(const char *dir, const char *path)
{
	char p[400];
	const char *suffix[] = {"", "-wal", "-shm"};
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
}

#endif
