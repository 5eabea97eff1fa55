/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spank_det's per-step resources on one node: the private temp dir that
 * becomes the ranks' TMPDIR, and the rendezvous port pair of the step.
 * Non-obvious decisions: the dir is removed in slurmstepd's exit phase, as
 * root, in a tree the user controls, so the removal walks it with
 * openat/unlinkat relative to directory descriptors opened O_NOFOLLOW and
 * never leaves the dir's file system: a symlink or mount swapped in cannot
 * send it elsewhere. Ports start from a pair derived from the job and step
 * ids, so two steps on one node start from different pairs, and bind tells
 * whether a pair is taken.
 */
#include "spank_det_step.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define STEP_EXTERN 0xfffffffcu /* SLURM_EXTERN_CONT */
#define REMOVE_DEPTH_MAX 64

int det_step_tmpdir_path(const char *base, uint32_t job_id, uint32_t step_id, char *out,
                         size_t outlen)
{
	int n;

	if (step_id == DET_STEP_BATCH)
		n = snprintf(out, outlen, "%s/det-%u.batch", base, job_id);
	else if (step_id == STEP_EXTERN)
		n = snprintf(out, outlen, "%s/det-%u.extern", base, job_id);
	else
		n = snprintf(out, outlen, "%s/det-%u.%u", base, job_id, step_id);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int det_step_tmpdir_create(const char *path, uid_t uid, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid ||
	    (st.st_mode & 07777) != 0700) {
		snprintf(err, errlen, "%s exists and is not a 0700 dir of uid %u", path,
		         (unsigned)uid);
		return -1;
	}
	return 0;
}

/* Empty the dir open at fd (consumed); depth bounds the recursion. */
static int remove_under(int fd, dev_t dev, int depth, char *err, size_t errlen)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	int rv = -1;

	if (!d) {
		close(fd);
		snprintf(err, errlen, "fdopendir: %s", strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		struct stat st;
		int sub;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		if (!S_ISDIR(st.st_mode)) {
			if (unlinkat(fd, e->d_name, 0) < 0 && errno != ENOENT) {
				snprintf(err, errlen, "unlink %.64s: %s", e->d_name,
				         strerror(errno));
				goto fail;
			}
			continue;
		}
		if (st.st_dev != dev || depth >= REMOVE_DEPTH_MAX) {
			snprintf(err, errlen, "%.64s: another file system or too deep", e->d_name);
			goto fail;
		}
		sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 || remove_under(sub, dev, depth + 1, err, errlen) < 0) {
			if (sub < 0)
				snprintf(err, errlen, "open %.64s: %s", e->d_name, strerror(errno));
			goto fail;
		}
		if (unlinkat(fd, e->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "rmdir %.64s: %s", e->d_name, strerror(errno));
			goto fail;
		}
	}
	rv = 0;
fail:
	closedir(d);
	return rv;
}

int det_step_tmpdir_remove(const char *path, uid_t uid, char *err, size_t errlen)
{
	struct stat st;
	char sub[256];
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || st.st_uid != uid) {
		close(fd);
		snprintf(err, errlen, "%s is not owned by uid %u: left alone", path, (unsigned)uid);
		return -1;
	}
	if (remove_under(fd, st.st_dev, 0, sub, sizeof(sub)) < 0) {
		snprintf(err, errlen, "%s: %s", path, sub);
		return -1;
	}
	if (rmdir(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "rmdir %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int det_step_port_pick(uint32_t job_id, uint32_t step_id, int lo, int hi, int (*is_free)(int port))
{
	long pairs;
	long first;

	if (lo < 1 || hi > 65535 || hi - lo < 1)
		return -1;
	pairs = (hi - lo + 1) / 2;
	first = (long)(((uint64_t)job_id * 7u + step_id) % (uint64_t)pairs);
	for (long i = 0; i < pairs; i++) {
		int p = lo + (int)((first + i) % pairs) * 2;

		if (!is_free || (is_free(p) && is_free(p + 1)))
			return p;
	}
	return -1;
}

int det_step_port_free(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ok;

	if (fd < 0)
		return 0;
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}
