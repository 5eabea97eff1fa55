/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bare OCI-bundle runtime (container_runtime: oci, doc/containers.md):
 * det-launch unpacks the image's root file system itself, writes an OCI
 * config.json and runs `RUNTIME --root STATE run --bundle BUNDLE ID` (runc by
 * default) as the trial's owner, without podman.
 * The root file systems are cached per user and node under
 * /tmp/det-oci-UID/rootfs/<digest> (0700, the user's own; unpacked by tar
 * running as the user into a temporary directory, then renamed, so ranks
 * racing on one node keep one copy) and shared read-only by the user's
 * containers. Non-obvious: as a non-root user the container gets a user
 * namespace mapping only the owner's uid and gid, to 0 inside (runc 1.1
 * wants container root mapped, and an unprivileged user can map only its own
 * ids), with no capabilities and no_new_privileges: files it writes are the
 * owner's, and its supplementary groups still grant access (setgroups is
 * denied in such a namespace, so they are kept; they show as nogroup).
 * det-launch running as root gives root's process.user with its groups.
 */
#include "launch_oci.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int launch_oci_run_wait(char *const *argv, char *const *env)
{
	pid_t pid = fork();
	int status;
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execve(argv[0], argv, env);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* mkdir dir 0700, then check it is a directory of ours that only we can use; the
 * error says which of those it is not. A directory removed between the mkdir and
 * the check (a cleanup of /tmp) is made again. */
int launch_oci_private_dir(const char *dir, const char *what, char *err, size_t errlen)
{
	struct stat st;
	for (int tries = 0;; tries++) {
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s (%s): %s", dir, what, strerror(errno));
			return -1;
		}
		if (lstat(dir, &st) == 0)
			break;
		if (errno != ENOENT || tries == 3) {
			snprintf(err, errlen, "%s (%s): %s", dir, what, strerror(errno));
			return -1;
		}
	}
	const char *why = NULL;
	char owner[64];
	if (S_ISLNK(st.st_mode))
		why = "it is a symbolic link";
	else if (!S_ISDIR(st.st_mode))
		why = "it is not a directory";
	else if (st.st_uid != getuid()) {
		snprintf(owner, sizeof owner, "it belongs to uid %u", (unsigned)st.st_uid);
		why = owner;
	} else if (st.st_mode & 077) {
		snprintf(owner, sizeof owner, "its mode %04o lets others in",
		         (unsigned)(st.st_mode & 07777));
		why = owner;
	}
	if (why) {
		snprintf(err, errlen, "%s (%s): not a private directory of uid %u: %s", dir, what,
		         (unsigned)getuid(), why);
		return -1;
	}
	return 0;
}

int launch_oci_dirs(char *base, size_t baselen, char *err, size_t errlen)
{
	char sub[PATH_MAX];
	if ((size_t)snprintf(base, baselen, "/tmp/det-oci-%u", (unsigned)getuid()) >= baselen)
		goto toolong;
	if (launch_oci_private_dir(base, "OCI bundle cache", err, errlen))
		return -1;
	if ((size_t)snprintf(sub, sizeof(sub), "%s/rootfs", base) >= sizeof(sub))
		goto toolong;
	if (launch_oci_private_dir(sub, "OCI bundle cache", err, errlen))
		return -1;
	if ((size_t)snprintf(sub, sizeof(sub), "%s/state", base) >= sizeof(sub))
		goto toolong;
	return launch_oci_private_dir(sub, "OCI bundle cache", err, errlen);
toolong:
	snprintf(err, errlen, "OCI bundle cache path too long");
	return -1;
}

int launch_oci_rootfs(const char *base, const char *tarball, const char *hex, char *const *env,
                      char *out, size_t outlen, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	struct stat st;
	if ((size_t)snprintf(out, outlen, "%s/rootfs/%s", base, hex) >= outlen ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/rootfs/.tmp-%s-%d", base, hex, (int)getpid()) >=
	        sizeof(tmp)) {
		snprintf(err, errlen, "OCI bundle cache path too long");
		return -1;
	}
	if (lstat(out, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (access(tarball, R_OK) < 0) {
		snprintf(err, errlen, "image tarball %s: %s (removed from the image cache?)",
		         tarball, strerror(errno));
		return -1;
	}
	char *rm[] = {"/bin/rm", "-rf", "--", tmp, NULL};
	launch_oci_run_wait(rm, env);
	if (mkdir(tmp, 0700) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	/* device nodes cannot be made without privilege: runc gives the container its own /dev */
	char *tar[] = {"/bin/tar",        "-x",         "-f",
	               (char *)tarball,   "-C",         tmp,
	               "--no-same-owner", "--anchored", "--exclude=./dev/*",
	               "--exclude=dev/*", NULL};
	int rc = launch_oci_run_wait(tar, env);
	if (rc != 0) {
		snprintf(err, errlen, "tar -x %s into %s failed (exit status %d; see above)",
		         tarball, tmp, rc);
		launch_oci_run_wait(rm, env);
		return -1;
	}
	if (rename(tmp, out) < 0) {
		int e = errno;
		launch_oci_run_wait(rm, env);
		if (e != EEXIST && e != ENOTEMPTY) { /* else another rank unpacked it first */
			snprintf(err, errlen, "%s: %s", out, strerror(e));
			return -1;
		}
	}
	return 0;
}

static int add_mount(json_t *mounts, const char *dst, const char *type, const char *src,
                     const char *opts)
{
	json_t *o = json_array(), *m;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", opts);
	for (char *save = NULL, *t = strtok_r(buf, ",", &save); o && t;
	     t = strtok_r(NULL, ",", &save))
		if (json_array_append_new(o, json_string(t)) < 0) {
			json_decref(o);
			o = NULL;
		}
	m = o ? json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src,
	                  "options", o)
	      : NULL;
	return m ? json_array_append_new(mounts, m) : -1;
}

int launch_oci_bind(json_t *config, const char *src, const char *dst, int read_only)
{
	return add_mount(json_object_get(config, "mounts"), dst, "bind", src,
	                 read_only ? "rbind,ro,nosuid" : "rbind,nosuid");
}

/* One rlimit as det-launch has it; NULL when unlimited (JSON has no uint64 maximum:
 * left out, the container inherits it from the runtime, which has ours). */
static json_t *rlimit_entry(const char *name, int resource)
{
	struct rlimit r;
	if (getrlimit(resource, &r) < 0 || r.rlim_max == RLIM_INFINITY)
		return NULL;
	return json_pack("{s:s, s:I, s:I}", "type", name, "hard", (json_int_t)r.rlim_max, "soft",
	                 (json_int_t)(r.rlim_cur == RLIM_INFINITY ? r.rlim_max : r.rlim_cur));
}

/* The rlimits det-launch has (what the container may not exceed anyway). */
static json_t *rlimits(void)
{
	static const struct {
		const char *name;
		int resource;
	} lim[] = {{"RLIMIT_NOFILE", RLIMIT_NOFILE},
	           {"RLIMIT_NPROC", RLIMIT_NPROC},
	           {"RLIMIT_CORE", RLIMIT_CORE},
	           {"RLIMIT_STACK", RLIMIT_STACK},
	           {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}};
	json_t *a = json_array();
	for (size_t i = 0; a && i < sizeof(lim) / sizeof(lim[0]); i++) {
		json_t *e = rlimit_entry(lim[i].name, lim[i].resource);
		if (e && json_array_append_new(a, e) < 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

/* process.user: uid 0 either way (root itself, or the owner mapped to 0 in its
 * namespace); as root its supplementary groups too (a non-root user's namespace
 * cannot set groups: the process keeps its own). */
static json_t *process_user(void)
{
	gid_t groups[256];
	int n = getuid() == 0 ? getgroups(256, groups) : 0;
	json_t *g = json_array();
	for (int i = 0; g && i < n; i++)
		if (json_array_append_new(g, json_integer(groups[i])) < 0) {
			json_decref(g);
			g = NULL;
		}
	if (!g)
		return NULL;
	return json_pack("{s:i, s:I, s:o}", "uid", 0, "gid", (json_int_t)(getuid() ? 0 : getgid()),
	                 "additionalGids", g);
}

static json_t *capabilities(void)
{
	static const char *const root_caps[] = {"CAP_CHOWN",       "CAP_DAC_OVERRIDE",
	                                        "CAP_FSETID",      "CAP_FOWNER",
	                                        "CAP_MKNOD",       "CAP_SETGID",
	                                        "CAP_SETUID",      "CAP_SETFCAP",
	                                        "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE",
	                                        "CAP_SYS_CHROOT",  "CAP_KILL",
	                                        "CAP_AUDIT_WRITE", NULL};
	json_t *set = json_array();
	for (size_t i = 0; set && getuid() == 0 && root_caps[i]; i++)
		json_array_append_new(set, json_string(root_caps[i]));
	if (!set)
		return NULL;
	return json_pack("{s:O, s:O, s:O, s:O, s:o}", "bounding", set, "effective", set,
	                 "inheritable", json_array(), "permitted", set, "ambient", json_array());
}

/* linux: namespaces (no network: the host's), the id maps of a non-root user. */
static json_t *linux_section(void)
{
	json_t *ns = json_pack("[{s:s}, {s:s}, {s:s}, {s:s}]", "type", "pid", "type", "ipc", "type",
	                       "uts", "type", "mount");
	json_t *l =
	    json_pack("{s:o, s:[s,s,s,s,s,s,s,s], s:[s,s,s,s,s,s]}", "namespaces", ns,
	              "maskedPaths", "/proc/acpi", "/proc/kcore", "/proc/keys",
	              "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
	              "/proc/sched_debug", "/sys/firmware", "readonlyPaths", "/proc/asound",
	              "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");
	if (!l || getuid() == 0)
		return l;
	if (json_array_append_new(ns, json_pack("{s:s}", "type", "user")) < 0 ||
	    json_object_set_new(l, "uidMappings",
	                        json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
	                                  (json_int_t)getuid(), "size", 1)) < 0 ||
	    json_object_set_new(l, "gidMappings",
	                        json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
	                                  (json_int_t)getgid(), "size", 1)) < 0) {
		json_decref(l);
		return NULL;
	}
	return l;
}

/* The standard file systems of a container; /sys bound from the host when in a
 * user namespace (sysfs cannot be mounted there without a network namespace). */
static json_t *base_mounts(void)
{
	json_t *m = json_array();
	if (!m || add_mount(m, "/proc", "proc", "proc", "nosuid,noexec,nodev") ||
	    add_mount(m, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k") ||
	    add_mount(m, "/dev/pts", "devpts", "devpts",
	              getuid() ? "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"
	                       : "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5") ||
	    add_mount(m, "/dev/shm", "tmpfs", "shm", "nosuid,noexec,nodev,mode=1777,size=65536k") ||
	    add_mount(m, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev") ||
	    add_mount(m, "/tmp", "tmpfs", "tmpfs", "nosuid,nodev,mode=1777") ||
	    (getuid() ? add_mount(m, "/sys", "none", "/sys", "rbind,nosuid,noexec,nodev,ro")
	              : add_mount(m, "/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"))) {
		json_decref(m);
		return NULL;
	}
	return m;
}

json_t *launch_oci_config(const char *rootfs, char *const *env, const char *cwd)
{
	json_t *e = json_array(), *c = NULL;
	for (size_t i = 0; e && env && env[i]; i++)
		if (json_array_append_new(e, json_string(env[i])) < 0) {
			json_decref(e);
			e = NULL;
		}
	if (!e)
		return NULL;
	c = json_pack("{s:s, s:{s:b, s:o, s:[], s:o, s:s, s:o, s:o, s:b}, s:{s:s, s:b}, s:s, "
	              "s:o, s:o}",
	              "ociVersion", "1.0.2", "process", "terminal", 0, "user", process_user(),
	              "args", "env", e, "cwd", cwd, "capabilities", capabilities(), "rlimits",
	              rlimits(), "noNewPrivileges", 1, "root", "path", rootfs, "readonly", 1,
	              "hostname", "det-trial", "mounts", base_mounts(), "linux", linux_section());
	return c;
}

int launch_oci_write(json_t *config, const char *const *args, const char *path, char *err,
                     size_t errlen)
{
	json_t *a = json_array();
	int fd = -1, rv = -1;
	for (size_t i = 0; a && args[i]; i++)
		if (json_array_append_new(a, json_string(args[i])) < 0)
			goto oom;
	if (!a || json_object_set_new(json_object_get(config, "process"), "args", a) < 0) {
		a = NULL;
		goto oom;
	}
	a = NULL;
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || json_dumpfd(config, fd, JSON_COMPACT) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	rv = 0;
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	json_decref(a);
	if (fd >= 0 && close(fd) < 0 && rv == 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rv = -1;
	}
	return rv;
}
