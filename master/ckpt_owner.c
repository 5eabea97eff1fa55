/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Everything det-master creates or deletes in checkpoint storage (checkpoint
 * GC, TensorBoard event files) runs here, in a forked child that has become
 * the experiment's owner (setgroups, setgid, setuid, checked) when the master
 * is root, so a path a user named is never touched with root's rights. The
 * child re-checks the directory against the storage roots (ckpt_path.c) as
 * that user, then walks the resolved path from "/" with O_NOFOLLOW one
 * component at a time and works with openat/unlinkat, so a symlink swapped in
 * after the check is refused, never followed.
 * The child answers over a SOCK_SEQPACKET pair: one message with a text (the
 * error, or the result) and, for ckpt_owner_open, the open file descriptor
 * (SCM_RIGHTS); its exit status says success (0) or failure.
 * Non-obvious decision: the owner's passwd entry and groups are looked up in
 * the parent (NSS is not safe after fork in a threaded program); the child
 * only makes system calls and formats text.
 */
#include <config.h>

#include "ckpt_owner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ckpt_path.h"
#include "ckpt_tar.h"

#define MSG_MAX 1024
#define TREE_MAX_DEPTH 64

enum job_kind { JOB_CHECK, JOB_REMOVE, JOB_OPEN, JOB_READ, JOB_TAR };

struct job {
	enum job_kind kind;
	json_t *roots;
	const char *dir;
	const json_t *names; /* JOB_REMOVE */
	const char *sub;     /* JOB_OPEN */
	const char *name;    /* JOB_OPEN */
	int append;          /* JOB_OPEN */
	int tar_dirs;        /* JOB_READ: a directory comes back as a tarball of it */
	const struct ckpt_tar_limits *tar_lim; /* JOB_TAR (sub: the checkpoint's uuid) */
};

int ckpt_owner_lookup(long uid, struct ckpt_owner *o, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rv = -1;

	memset(o, 0, sizeof(*o));
	o->drop = geteuid() == 0;
	if (!o->drop) {
		uid = (long)geteuid();
	} else if (uid < 0) {
		snprintf(err, errlen, "the experiment's owner has no Unix account");
		goto fail;
	}
	if (getpwuid_r((uid_t)uid, &pw, buf, sizeof(buf), &res) || !res) {
		if (!o->drop) { /* the master's own uid need not be in passwd: no "~" then */
			o->uid = (uid_t)uid;
			o->gid = getegid();
			rv = 0;
			goto fail;
		}
		snprintf(err, errlen, "uid %ld: no such user", uid);
		goto fail;
	}
	o->uid = res->pw_uid;
	o->gid = res->pw_gid;
	snprintf(o->home, sizeof(o->home), "%s", res->pw_dir ? res->pw_dir : "");
	o->ngroups = CKPT_OWNER_MAX_GROUPS;
	if (getgrouplist(res->pw_name, res->pw_gid, o->groups, &o->ngroups) < 0) {
		snprintf(err, errlen, "user %s: more than %d groups", res->pw_name,
		         CKPT_OWNER_MAX_GROUPS);
		goto fail;
	}
	rv = 0;
fail:
	return rv;
}

/* In the child: become o, and check that it took. */
static int become(const struct ckpt_owner *o, char *msg, size_t msglen)
{
	if (!o->drop)
		return 0;
	if (setgroups((size_t)o->ngroups, o->groups) || setgid(o->gid) || setuid(o->uid)) {
		snprintf(msg, msglen, "cannot become uid %u: %s", (unsigned)o->uid,
		         strerror(errno));
		return -1;
	}
	if (getuid() != o->uid || geteuid() != o->uid || getgid() != o->gid ||
	    getegid() != o->gid || (o->uid != 0 && setuid(0) == 0)) {
		snprintf(msg, msglen, "uid %u: privileges were not dropped", (unsigned)o->uid);
		return -1;
	}
	return 0;
}

/* Open the directory at the resolved absolute path real, one component at a time
 * from "/" with O_NOFOLLOW; with create, missing components are made (0755). */
static int open_dir_nofollow(const char *real, int create, char *msg, size_t msglen)
{
	char copy[PATH_MAX], *save = NULL;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	snprintf(copy, sizeof(copy), "%s", real);
	for (char *c = strtok_r(copy, "/", &save); fd >= 0 && c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		int nfd = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, c, 0755) == 0 || errno == EEXIST)
				nfd =
				    openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		int e = errno;
		if (nfd < 0)
			snprintf(msg, msglen, "%.600s: %.200s: %s", real, c,
			         e == ELOOP || e == ENOTDIR
			             ? "a symbolic link or not a directory (not followed)"
			             : strerror(e));
		close(fd);
		fd = nfd;
		errno = e;
	}
	return fd;
}

/* Remove name in dirfd and everything below it; symlinks are removed, not followed. */
static int remove_tree(int dirfd, const char *name, int depth)
{
	struct stat st;
	int rv = -1;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0);
	if (depth > TREE_MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	if (!d) {
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	rv = 0;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (remove_tree(fd, de->d_name, depth + 1))
			rv = -1;
	}
	closedir(d);
	if (rv == 0)
		rv = unlinkat(dirfd, name, AT_REMOVEDIR);
fail:
	return rv;
}

static int single_component(const char *s)
{
	return s && *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

static int do_remove(int dirfd, const struct job *j, char *msg, size_t msglen)
{
	size_t i;
	json_t *v;
	int n = 0, rv = -1;

	json_array_foreach (j->names, i, v) {
		const char *name = json_string_value(v);
		struct stat st;
		if (!single_component(name)) {
			snprintf(msg, msglen, "%s: not a single file name", name ? name : "(null)");
			goto fail;
		}
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (remove_tree(dirfd, name, 0)) {
			snprintf(msg, msglen, "%s/%s: %s", j->dir, name, strerror(errno));
			goto fail;
		}
		n++;
	}
	snprintf(msg, msglen, "%d", n);
	rv = 0;
fail:
	return rv;
}

static int do_open(int dirfd, const struct job *j, int *fd_out, char *msg, size_t msglen)
{
	int fd = -1, rv = -1;

	if (!single_component(j->name)) {
		snprintf(msg, msglen, "%s: not a single file name", j->name);
		goto fail;
	}
	if (j->append) {
		fd = openat(dirfd, j->name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		snprintf(msg, msglen, "%s", j->name);
	}
	for (int n = 0; !j->append && fd < 0 && n < 1000; n++) {
		snprintf(msg, msglen, "%s%s%.0d", j->name, n ? "." : "", n);
		fd = openat(dirfd, msg, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		int e = errno;
		char name[MSG_MAX];
		snprintf(name, sizeof(name), "%s", msg);
		snprintf(msg, msglen, "%.400s/%.100s/%.300s: %s", j->dir, j->sub, name,
		         e == ELOOP ? "a symbolic link (not followed)" : strerror(e));
		goto fail;
	}
	*fd_out = fd;
	rv = 0;
fail:
	return rv;
}

/* In the child, as the owner: dir packed by tar (exec'd, argv only) into an unlinked
 * temporary file, which is returned open at its start; -1 with msg when tar fails
 * (a file the owner cannot read, for example). */
static int tar_dir(const char *dir, char *msg, size_t msglen)
{
	char tmp[] = "/tmp/det-image-XXXXXX";
	int fd = mkostemp(tmp, O_CLOEXEC), status = 0;
	if (fd < 0) {
		snprintf(msg, msglen, "a temporary file for the tarball: %s", strerror(errno));
		return -1;
	}
	unlink(tmp);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
		    dup2(null, STDERR_FILENO) < 0)
			_exit(126);
		execl("/bin/tar", "tar", "--numeric-owner", "-C", dir, "-cf", "-", ".",
		      (char *)NULL);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		snprintf(msg, msglen,
		         "%.900s: packing the directory with tar failed (status %d): is every "
		         "file in it readable by you?",
		         dir, pid < 0 ? -1 : status);
		close(fd);
		return -1;
	}
	return fd;
}

/* In the child, as the owner: the directory dirfd as a ustar archive in an unlinked
 * temporary file, returned open at its start; msg gets how many entries were left out. */
static int do_tar(int dirfd, const struct job *j, int *fd_out, char *msg, size_t msglen)
{
	char tmp[] = "/tmp/det-ckpt-XXXXXX";
	uint64_t skipped = 0;
	int fd = mkostemp(tmp, O_CLOEXEC), rv = -1;

	if (fd < 0) {
		snprintf(msg, msglen, "a temporary file for the archive: %s", strerror(errno));
		goto fail;
	}
	unlink(tmp);
	if (ckpt_tar_write(dirfd, fd, j->tar_lim, &skipped, msg, msglen))
		goto fail;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		snprintf(msg, msglen, "the archive: %s", strerror(errno));
		goto fail;
	}
	snprintf(msg, msglen, "%llu", (unsigned long long)skipped);
	*fd_out = fd;
	fd = -1;
	rv = 0;
fail:
	if (fd >= 0)
		close(fd);
	return rv;
}

/* The child's work, as the owner: check, open the resolved directory, act. */
static int child_work(const struct job *j, int *fd_out, char *msg, size_t msglen)
{
	char real[PATH_MAX], full[PATH_MAX];
	int dirfd = -1, rv = -1;

	if (j->kind == JOB_READ) { /* any file the owner may read; the kernel decides */
		*fd_out = open(j->dir, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (*fd_out < 0) {
			snprintf(msg, msglen, "%.900s: %s", j->dir, strerror(errno));
			return -1;
		}
		struct stat st;
		if (j->tar_dirs && fstat(*fd_out, &st) == 0 && S_ISDIR(st.st_mode)) {
			close(*fd_out);
			*fd_out = tar_dir(j->dir, msg, msglen);
			return *fd_out < 0 ? -1 : 0;
		}
		return 0;
	}
	if (ckpt_path_confined(j->dir, j->roots, real, msg, msglen))
		goto fail;
	if (j->kind == JOB_CHECK) {
		rv = 0;
		goto fail;
	}
	int with_sub = j->kind == JOB_OPEN || j->kind == JOB_TAR;
	int n = snprintf(full, sizeof(full), "%s/%s", real, with_sub ? j->sub : "");
	if (n < 0 || (size_t)n >= sizeof(full) ||
	    (with_sub && (j->sub[0] == '/' || strstr(j->sub, "..")))) {
		snprintf(msg, msglen, "%s: bad subdirectory", j->dir);
		goto fail;
	}
	dirfd = open_dir_nofollow(full, j->kind == JOB_OPEN, msg, msglen);
	if (dirfd < 0) {
		if (j->kind == JOB_REMOVE && errno == ENOENT) { /* nothing there to remove */
			snprintf(msg, msglen, "0");
			rv = 0;
		}
		goto fail;
	}
	if (j->kind == JOB_TAR)
		rv = do_tar(dirfd, j, fd_out, msg, msglen);
	else
		rv = j->kind == JOB_REMOVE ? do_remove(dirfd, j, msg, msglen)
		                           : do_open(dirfd, j, fd_out, msg, msglen);
fail:
	if (dirfd >= 0)
		close(dirfd);
	return rv;
}

/* Send the text and, when fd >= 0, the descriptor. */
static void send_answer(int sock, const char *msg, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = strlen(msg) + 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	memset(ctl, 0, sizeof(ctl));
	if (fd >= 0) {
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* Receive the child's answer: text into msg, a descriptor (or -1) into *fd. */
static void recv_answer(int sock, char *msg, size_t msglen, int *fd)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = msg, .iov_len = msglen - 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
	ssize_t n;

	*fd = -1;
	while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	msg[n > 0 ? (size_t)n : 0] = '\0';
	for (struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
}

/* Fork, become o, do j; the answer's text into msg, a received descriptor into *fd. */
static int run_as(const struct ckpt_owner *o, const struct job *j, int *fd, char *msg,
                  size_t msglen)
{
	int sv[2] = {-1, -1}, status = -1, rv = -1;
	pid_t pid;

	*fd = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		snprintf(msg, msglen, "socketpair: %s", strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		char text[MSG_MAX] = "";
		int out = -1;
		close(sv[0]);
		int rc =
		    become(o, text, sizeof(text)) ? -1 : child_work(j, &out, text, sizeof(text));
		send_answer(sv[1], text, rc ? -1 : out);
		_exit(rc ? 1 : 0);
	}
	close(sv[1]);
	sv[1] = -1;
	recv_answer(sv[0], msg, msglen, fd);
	pid_t w;
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rv = 0;
	} else {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		if (!*msg)
			snprintf(msg, msglen, "the helper process failed (status %d)", status);
	}
fail:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return rv;
}

/* Build the roots for o and run j; err gets the child's text on failure. */
static int run_job(const struct ckpt_owner *o, const json_t *storage_roots,
                   const char *default_host, struct job *j, int *fd, char *msg, size_t msglen,
                   char *err, size_t errlen)
{
	int rv = -1;

	j->roots = ckpt_path_roots(storage_roots, default_host, o->home);
	if (!j->roots) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rv = run_as(o, j, fd, msg, msglen);
	if (rv)
		snprintf(err, errlen, "%s", msg);
fail:
	json_decref(j->roots);
	j->roots = NULL;
	return rv;
}

int ckpt_owner_check(const struct ckpt_owner *o, const json_t *storage_roots,
                     const char *default_host, const char *dir, char *err, size_t errlen)
{
	struct job j = {.kind = JOB_CHECK, .dir = dir};
	char msg[MSG_MAX];
	int fd;

	return run_job(o, storage_roots, default_host, &j, &fd, msg, sizeof(msg), err, errlen);
}

int ckpt_owner_remove(const struct ckpt_owner *o, const json_t *storage_roots,
                      const char *default_host, const char *dir, const json_t *names, char *err,
                      size_t errlen)
{
	struct job j = {.kind = JOB_REMOVE, .dir = dir, .names = names};
	char msg[MSG_MAX];
	int fd;

	if (run_job(o, storage_roots, default_host, &j, &fd, msg, sizeof(msg), err, errlen))
		return -1;
	return atoi(msg);
}

int ckpt_owner_open(const struct ckpt_owner *o, const json_t *storage_roots,
                    const char *default_host, const char *dir, const char *sub, const char *name,
                    int append, char *used, char *err, size_t errlen)
{
	struct job j = {.kind = JOB_OPEN, .dir = dir, .sub = sub, .name = name, .append = append};
	char msg[MSG_MAX];
	int fd = -1;

	if (run_job(o, storage_roots, default_host, &j, &fd, msg, sizeof(msg), err, errlen))
		return -1;
	if (fd < 0) {
		snprintf(err, errlen, "%s: no descriptor came back", dir);
		return -1;
	}
	snprintf(used, PATH_MAX, "%s", msg);
	return fd;
}

int ckpt_owner_open_read(const struct ckpt_owner *o, const char *path, int tar_dirs, char *err,
                         size_t errlen)
{
	struct job j = {.kind = JOB_READ, .dir = path, .tar_dirs = tar_dirs};
	char msg[MSG_MAX];
	int fd = -1;

	if (run_as(o, &j, &fd, msg, sizeof(msg))) {
		snprintf(err, errlen, "%s", msg);
		return -1;
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: no descriptor came back", path);
		return -1;
	}
	return fd;
}

int ckpt_owner_tar(const struct ckpt_owner *o, const json_t *storage_roots,
                   const char *default_host, const char *dir, const char *uuid,
                   const struct ckpt_tar_limits *lim, unsigned long long *skipped, char *err,
                   size_t errlen)
{
	struct job j = {.kind = JOB_TAR, .dir = dir, .sub = uuid, .tar_lim = lim};
	char msg[MSG_MAX];
	int fd = -1;

	if (!uuid || !*uuid || strchr(uuid, '/') || !strcmp(uuid, ".") || !strcmp(uuid, "..")) {
		snprintf(err, errlen, "%s: not a checkpoint directory name", uuid ? uuid : "");
		return -1;
	}
	if (run_job(o, storage_roots, default_host, &j, &fd, msg, sizeof(msg), err, errlen))
		return -1;
	if (fd < 0) {
		snprintf(err, errlen, "%s/%s: no descriptor came back", dir, uuid);
		return -1;
	}
	if (skipped)
		*skipped = strtoull(msg, NULL, 10);
	return fd;
}
