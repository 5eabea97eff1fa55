/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The trial's container, as its owner (det-launch already runs as the
 * trial's owner): rootless podman with --userns=keep-id and --user UID:GID
 * (root's own podman for root's trials),
 * host network, the caller's own rlimits (podman's defaults exceed some
 * hosts' hard limits), the OCI runtime the master names (runc by default),
 * the image imported once per user and node from the image cache's tarball
 * into the user's own podman store (localhost/det-image:<digest>).
 * Mounted at their host paths, so every DET_* path means the same inside:
 * the model directory, det-launch's job directory (preempt and early-exit
 * files), the checkpoint directory, the master's Unix socket, det-launch and
 * the determined package (read-only), then the config's bind_mounts.
 * Non-obvious: the environment goes through an --env-file (0600, in the job
 * directory), never the command line, which other users can read in ps.
 */
#include "launch_container.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch_oci.h"
#include "launch_rtargv.h"
#include "launch_rank.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

void launch_container_free(struct launch_container *c)
{
	launch_rt_argv_free(c->argv);
	launch_rt_argv_free(c->env);
	json_decref(c->oci_config);
	free(c->oci_config_path);
	c->argv = c->env = NULL;
	c->oci_config = NULL;
	c->oci_config_path = NULL;
}

static const char *slot_str(const json_t *as, const char *key, const char *slot)
{
	return json_string_value(
	    json_object_get(json_object_get(json_object_get(as, "environment"), key), slot));
}

int launch_container_wanted(const json_t *as, const char *slot_type)
{
	return slot_str(as, "image", slot_type) != NULL;
}

/* A path podman's -v syntax can carry: absolute, no ':' or ','. */
static int mount_path_ok(const char *p)
{
	return p && p[0] == '/' && !strpbrk(p, ":,\n");
}

/* program found in a directory of path (a copy of the first match into out). */
static int find_program(const char *path, const char *program, char *out, size_t outlen)
{
	for (const char *p = path && *path ? path : DEFAULT_PATH; *p;) {
		size_t n = strcspn(p, ":");
		if (n > 0 &&
		    (size_t)snprintf(out, outlen, "%.*s/%s", (int)n, p, program) < outlen &&
		    access(out, X_OK) == 0)
			return 0;
		p += n + (p[n] == ':');
	}
	return -1;
}

/* A private runtime directory for podman: XDG_RUNTIME_DIR when it is ours, else
 * /tmp/det-podman-UID (made 0700, refused when someone else's or a link). */
static int runtime_dir(char *const *host_env, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *x = launch_env_lookup(host_env, "XDG_RUNTIME_DIR");
	struct stat st;
	if (x && *x && stat(x, &st) == 0 && st.st_uid == getuid() && S_ISDIR(st.st_mode)) {
		snprintf(out, outlen, "%s", x);
		return 0;
	}
	snprintf(out, outlen, "/tmp/det-podman-%u", (unsigned)getuid());
	return launch_oci_private_dir(out, "podman's runtime directory", err, errlen);
}

/* The image in this user's podman store, imported from the cache's tarball when
 * it is not there yet (or always, with force_pull_image). */
static int ensure_image(const char *podman, const char *ref, const char *tarball, int force,
                        char **env, char *err, size_t errlen)
{
	char *exists[] = {(char *)podman, "image", "exists", (char *)ref, NULL};
	char *import[] = {(char *)podman, "import", "--quiet", (char *)tarball, (char *)ref, NULL};
	if (!force && launch_oci_run_wait(exists, env) == 0)
		return 0;
	if (access(tarball, R_OK) < 0) {
		snprintf(err, errlen, "image tarball %s: %s (removed from the image cache?)",
		         tarball, strerror(errno));
		return -1;
	}
	int rc = launch_oci_run_wait(import, env);
	if (rc != 0) {
		snprintf(err, errlen, "podman import %s failed (exit status %d; see above)",
		         tarball, rc);
		return -1;
	}
	return 0;
}

/* The line of variable var (NAME=VALUE) in the container, a new string (NULL when out
 * of memory): CUDA_VISIBLE_DEVICES of a cuda trial renumbered from 0 (only the
 * allocated GPUs are in the container). */
static char *env_line(const char *var, const char *slot)
{
	if (strncmp(var, "CUDA_VISIBLE_DEVICES=", 21) || strcmp(slot, "cuda"))
		return strdup(var);
	char *out = malloc(21 + 12 * (strlen(var) + 1));
	if (!out)
		return NULL;
	size_t len = (size_t)sprintf(out, "CUDA_VISIBLE_DEVICES=");
	for (int n = 0, k = 0; var[21 + n]; n++)
		if (var[21 + n] == ',' || n == 0)
			len += (size_t)sprintf(out + len, n ? ",%d" : "%d", k++);
	return out;
}

/* The entrypoint's environment as an --env-file (0600): each NAME=VALUE on a line. */
static int write_env_file(const char *path, char **env, const char *slot, char *err, size_t errlen)
{
	int fd, rv = -1, have_path = 0;
	FILE *f = NULL;
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (size_t i = 0; env && env[i]; i++) {
		if (strchr(env[i], '\n')) {
			snprintf(err, errlen,
			         "environment variable %.*s: a value with a newline cannot be "
			         "passed into a container",
			         (int)strcspn(env[i], "="), env[i]);
			goto fail;
		}
		char *line = env_line(env[i], slot);
		if (!line) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		have_path |= !strncmp(env[i], "PATH=", 5);
		fprintf(f, "%s\n", line);
		free(line);
	}
	if (!have_path)
		fprintf(f, "PATH=%s\n", DEFAULT_PATH);
	rv = 0;
fail:
	if (fclose(f) != 0 && rv == 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rv = -1;
	}
	if (rv)
		unlink(path);
	return rv;
}

/* mkdir -p dir (as this user, mode 0777 less the umask). 0, or -1 with errno. */
static int make_dirs(const char *dir)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST)
			return -1;
		if (!c)
			return 0;
		*s = c;
	}
}

static void add_ulimit(struct launch_strv *a, const char *name, int resource)
{
	struct rlimit r;
	if (getrlimit(resource, &r) < 0)
		return;
	launch_strv_add(a, "--ulimit");
	if (r.rlim_max == RLIM_INFINITY && r.rlim_cur == RLIM_INFINITY)
		launch_strv_add(a, "%s=-1:-1", name);
	else if (r.rlim_max == RLIM_INFINITY)
		launch_strv_add(a, "%s=%llu:-1", name, (unsigned long long)r.rlim_cur);
	else
		launch_strv_add(a, "%s=%llu:%llu", name, (unsigned long long)r.rlim_cur,
		                (unsigned long long)r.rlim_max);
}

/* A mount in list m: three entries, host path, container path, "ro" or "rw". */
static void add_mount(struct launch_strv *m, const char *src, const char *dst, int ro)
{
	launch_strv_add(m, "%s", src);
	launch_strv_add(m, "%s", dst);
	launch_strv_add(m, "%s", ro ? "ro" : "rw");
}

/* Mount a host path at the same path (when it exists). */
static void same_path(struct launch_strv *m, const char *p, int ro)
{
	if (p && mount_path_ok(p) && access(p, F_OK) == 0)
		add_mount(m, p, p, ro);
}

/* The config's bind_mounts, each host path readable by this user. */
static int user_mounts(struct launch_strv *a, const json_t *mounts, char *err, size_t errlen)
{
	size_t i;
	json_t *m;
	json_array_foreach (mounts, i, m) {
		const char *hp = json_string_value(json_object_get(m, "host_path"));
		const char *cp = json_string_value(json_object_get(m, "container_path"));
		if (!mount_path_ok(hp) || !mount_path_ok(cp) || strstr(cp, "/..")) {
			snprintf(
			    err, errlen,
			    "bind_mounts[%zu]: paths must be absolute, without ':', ',' or \"..\"",
			    i);
			return -1;
		}
		if (access(hp, R_OK) < 0) {
			snprintf(err, errlen,
			         "bind_mounts[%zu].host_path %s: not readable by uid %u: %s", i, hp,
			         (unsigned)getuid(), strerror(errno));
			return -1;
		}
		add_mount(a, hp, cp, json_is_true(json_object_get(m, "read_only")));
	}
	return 0;
}

/* The GPUs of a cuda trial (launch_gpu_plan_make) from this node's NVIDIA device
 * nodes and hook. 0 or -1 (memory). */
static int gpu_plan(char **env, char *const *host_env, const char *slot, struct launch_gpu_plan *p)
{
	struct launch_strv present = {0};
	char hook[PATH_MAX];
	DIR *dir = strcmp(slot, "cuda") ? NULL : opendir("/dev");
	struct dirent *de;
	while (dir && (de = readdir(dir)))
		if (!strncmp(de->d_name, "nvidia", 6))
			launch_strv_add(&present, "/dev/%s", de->d_name);
	if (dir)
		closedir(dir);
	int with_hook = find_program(launch_env_lookup(host_env, "PATH"),
	                             "nvidia-container-runtime-hook", hook, sizeof(hook)) == 0;
	int rv = present.oom
	             ? -1
	             : launch_gpu_plan_make(slot, launch_env_lookup(env, "CUDA_VISIBLE_DEVICES"),
	                                    (const char *const *)present.v, with_hook, p);
	launch_rt_argv_free(present.v);
	return rv;
}

/* The OCI runtime (runc, crun, or an absolute path) on this node, into out. */
static int find_oci_runtime(char *const *host_env, const char *oci, char *out, size_t outlen)
{
	if (oci[0] == '/')
		return (size_t)snprintf(out, outlen, "%s", oci) >= outlen || access(oci, X_OK) ? -1
		                                                                               : 0;
	return find_program(launch_env_lookup(host_env, "PATH"), oci, out, outlen);
}

/* The bare OCI bundle (launch_oci.c): rootfs from the cache, config.json (its args
 * set by launch_container_finish), argv RUNTIME --root STATE run --bundle DIR ID. */
static int prepare_oci(const struct launch_container_input *in, struct launch_container *c,
                       const char *runtime, const char *tarball, const char *hex,
                       const struct launch_strv *mounts, const struct launch_gpu_plan *gpu,
                       char **env, char *err, size_t errlen)
{
	char base[PATH_MAX], rootfs[PATH_MAX], bundle[PATH_MAX], cfgpath[PATH_MAX];
	struct launch_strv a = {0}, ev = {0};
	json_t *cfg = NULL;
	int rv = -1, have_path = 0;

	if (launch_oci_dirs(base, sizeof(base), err, errlen) ||
	    launch_oci_rootfs(base, tarball, hex, env, rootfs, sizeof(rootfs), err, errlen))
		goto fail;
	if ((size_t)snprintf(bundle, sizeof(bundle), "%s/oci-r%d", in->job_dir, in->rank) >=
	        sizeof(bundle) ||
	    (size_t)snprintf(cfgpath, sizeof(cfgpath), "%s/config.json", bundle) >=
	        sizeof(cfgpath)) {
		snprintf(err, errlen, "job directory path too long");
		goto fail;
	}
	if (mkdir(bundle, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", bundle, strerror(errno));
		goto fail;
	}
	for (size_t i = 0; in->trial_env && in->trial_env[i]; i++) {
		char *line = env_line(in->trial_env[i], in->slot_type);
		have_path |= !strncmp(in->trial_env[i], "PATH=", 5);
		if (line)
			launch_strv_add(&ev, "%s", line);
		else
			ev.oom = 1;
		free(line);
	}
	if (!have_path)
		launch_strv_add(&ev, "PATH=%s", DEFAULT_PATH);
	cfg = ev.oom ? NULL : launch_oci_config(rootfs, ev.v, in->model_dir);
	for (size_t i = 0; cfg && i + 2 < mounts->n; i += 3)
		if (launch_oci_bind(cfg, mounts->v[i], mounts->v[i + 1],
		                    !strcmp(mounts->v[i + 2], "ro")))
			goto oom;
	for (size_t i = 0; cfg && gpu->devices && gpu->devices[i]; i++)
		if (launch_oci_bind(cfg, gpu->devices[i], gpu->devices[i], 0))
			goto oom;
	launch_strv_add(&a, "%s", runtime);
	launch_strv_add(&a, "--root");
	launch_strv_add(&a, "%s/state", base);
	launch_strv_add(&a, "run");
	launch_strv_add(&a, "--bundle");
	launch_strv_add(&a, "%s", bundle);
	launch_strv_add(&a, "det-%d-r%d", (int)getpid(), in->rank);
	if (!cfg || a.oom)
		goto oom;
	c->argv = a.v;
	c->oci_config = cfg;
	c->oci_config_path = strdup(cfgpath);
	a.v = NULL;
	cfg = NULL;
	if (!c->oci_config_path)
		goto oom;
	rv = 0;
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	json_decref(cfg);
	launch_rt_argv_free(a.v);
	launch_rt_argv_free(ev.v);
	return rv;
}

/* podman's runtime environment (PATH, HOME, a private XDG_RUNTIME_DIR) into e. */
static int podman_env(char *const *host_env, struct launch_strv *e, char *err, size_t errlen)
{
	char xdg[PATH_MAX];
	/* root's podman keeps its state under /run: no runtime directory to make */
	if (getuid() == 0)
		snprintf(xdg, sizeof(xdg), "%s",
		         launch_env_lookup(host_env, "XDG_RUNTIME_DIR")
		             ? launch_env_lookup(host_env, "XDG_RUNTIME_DIR")
		             : "");
	else if (runtime_dir(host_env, xdg, sizeof(xdg), err, errlen))
		return -1;
	if (*xdg)
		launch_strv_add(e, "XDG_RUNTIME_DIR=%s", xdg);
	return 0;
}

/* The podman run command line: ensure the image, write the env file, then argv. */
static int prepare_podman(const struct launch_container_input *in, struct launch_container *c,
                          const char *podman, const char *oci, const char *tarball, const char *hex,
                          const struct launch_strv *mounts, const struct launch_gpu_plan *gpu,
                          struct launch_strv *e, char *err, size_t errlen)
{
	char ref[128], envfile[PATH_MAX];
	struct launch_strv a = {0};
	int rv = -1;

	envfile[0] = '\0';
	if (podman_env(in->host_env, e, err, errlen))
		goto fail;
	snprintf(ref, sizeof(ref), "localhost/det-image:%s", hex);
	if ((size_t)snprintf(envfile, sizeof(envfile), "%s/container-env-r%d", in->job_dir,
	                     in->rank) >= sizeof(envfile)) {
		snprintf(err, errlen, "job directory path too long");
		envfile[0] = '\0';
		goto fail;
	}
	if (e->oom)
		goto oom;
	if (ensure_image(podman, ref, tarball,
	                 json_is_true(json_object_get(
	                     json_object_get(in->assignment, "environment"), "force_pull_image")),
	                 e->v, err, errlen) ||
	    write_env_file(envfile, in->trial_env, in->slot_type, err, errlen))
		goto fail;
	launch_strv_add(&a, "%s", podman);
	if (oci && *oci && oci[0] != '-')
		launch_strv_add(&a, "--runtime=%s", oci);
	launch_strv_add(&a, "run");
	launch_strv_add(&a, "--rm");
	launch_strv_add(&a, "--pull=never");
	launch_strv_add(&a, "--network=host");
	if (getuid() != 0) /* rootless: the owner's uid inside too; root's podman is root's */
		launch_strv_add(&a, "--userns=keep-id");
	launch_strv_add(&a, "--user=%u:%u", (unsigned)getuid(), (unsigned)getgid());
	add_ulimit(&a, "nofile", RLIMIT_NOFILE);
	/* nproc: ours, at most 32768, podman's own limit (runc cannot raise it
	 * without CAP_SYS_RESOURCE, which rootless podman and some root setups lack) */
	struct rlimit np;
	if (getrlimit(RLIMIT_NPROC, &np) == 0) {
		unsigned long long cur = np.rlim_cur, max = np.rlim_max;
		max = np.rlim_max == RLIM_INFINITY || max > 32768 ? 32768 : max;
		cur = np.rlim_cur == RLIM_INFINITY || cur > max ? max : cur;
		launch_strv_add(&a, "--ulimit");
		launch_strv_add(&a, "nproc=%llu:%llu", cur, max);
	}
	launch_strv_add(&a, "--env-file=%s", envfile);
	launch_strv_add(&a, "--workdir=%s", in->model_dir);
	for (size_t i = 0; i + 2 < mounts->n; i += 3) {
		launch_strv_add(&a, "-v");
		launch_strv_add(&a, "%s:%s%s", mounts->v[i], mounts->v[i + 1],
		                strcmp(mounts->v[i + 2], "ro") ? "" : ":ro");
	}
	char **ga = launch_gpu_podman_args(gpu);
	for (size_t i = 0; ga && ga[i]; i++)
		launch_strv_add(&a, "%s", ga[i]);
	if (!ga)
		a.oom = 1;
	launch_rt_argv_free(ga);
	launch_strv_add(&a, "%s", ref);
	if (a.oom)
		goto oom;
	c->argv = a.v;
	a.v = NULL;
	rv = 0;
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (rv && envfile[0])
		unlink(envfile);
	launch_rt_argv_free(a.v);
	return rv;
}

/* enroot or Apptainer (untested here: neither is packaged for Debian 12) on the image
 * unpacked in the user's cache (launch_oci_rootfs): enroot finds it as a container
 * named by its digest in ENROOT_DATA_PATH, Apptainer runs the directory. */
static int prepare_rt(const struct launch_container_input *in, struct launch_container *c,
                      const char *rt, const char *program, const char *tarball, const char *hex,
                      const struct launch_strv *mounts, const struct launch_gpu_plan *gpu,
                      struct launch_strv *e, char *err, size_t errlen)
{
	char base[PATH_MAX], rootfs[PATH_MAX], envfile[PATH_MAX];
	struct launch_rt_mount *mv = calloc(mounts->n / 3 + 1, sizeof(*mv));
	struct launch_strv names = {0};
	int rv = -1, enroot = !strcmp(rt, "enroot");

	envfile[0] = '\0';
	if (!mv) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i + 2 < mounts->n; i += 3)
		mv[i / 3] = (struct launch_rt_mount){mounts->v[i], mounts->v[i + 1],
		                                     !strcmp(mounts->v[i + 2], "ro")};
	if (launch_oci_dirs(base, sizeof(base), err, errlen) ||
	    launch_oci_rootfs(base, tarball, hex, e->v, rootfs, sizeof(rootfs), err, errlen))
		goto fail;
	struct launch_rt_spec spec = {
	    program, enroot ? hex : rootfs, in->model_dir, mv, mounts->n / 3, NULL, NULL, gpu,
	    NULL};
	if (enroot) {
		/* enroot takes the values from its own environment, the names from --env;
		 * PATH and HOME stay enroot's own (the image's inside) */
		launch_strv_add(e, "ENROOT_DATA_PATH=%s/rootfs", base);
		for (size_t i = 0; in->trial_env && in->trial_env[i]; i++) {
			const char *v = in->trial_env[i];
			if (strncmp(v, "PATH=", 5) && strncmp(v, "HOME=", 5)) {
				char *line = env_line(v, in->slot_type);
				launch_strv_add(e, "%s", line ? line : "");
				launch_strv_add(&names, "%s", line ? line : "");
				free(line);
			}
		}
		spec.env = names.v;
	} else {
		if ((size_t)snprintf(envfile, sizeof(envfile), "%s/container-env-r%d", in->job_dir,
		                     in->rank) >= sizeof(envfile)) {
			snprintf(err, errlen, "job directory path too long");
			envfile[0] = '\0';
			goto fail;
		}
		if (write_env_file(envfile, in->trial_env, in->slot_type, err, errlen)) {
			envfile[0] = '\0';
			goto fail;
		}
		spec.env_file = envfile;
	}
	if (e->oom || names.oom)
		goto oom;
	c->argv = enroot ? launch_rt_enroot_argv(&spec) : launch_rt_apptainer_argv(&spec);
	if (!c->argv)
		goto oom;
	rv = 0;
	goto fail;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	if (rv && envfile[0])
		unlink(envfile);
	free(mv);
	launch_rt_argv_free(names.v);
	return rv;
}

/* The program of runtime rt into prog; -1 with err when this node lacks it. */
static int find_runtime(const struct launch_container_input *in, const char *rt, const char *oci,
                        const char *image, char *prog, size_t proglen, char *err, size_t errlen)
{
	int is_oci = !strcmp(rt, "oci");
	if (is_oci ? find_oci_runtime(in->host_env, oci, prog, proglen)
	           : find_program(launch_env_lookup(in->host_env, "PATH"), rt, prog, proglen)) {
		snprintf(err, errlen,
		         "environment.image \"%s\": %s%s is not installed on this "
		         "node; the trial is not run on the host instead",
		         image, is_oci ? "the OCI runtime " : "", is_oci ? oci : rt);
		return -1;
	}
	return 0;
}

int launch_container_prepare(const struct launch_container_input *in, struct launch_container *c,
                             char *err, size_t errlen)
{
	const json_t *ct = json_object_get(in->assignment, "container");
	const char *image = slot_str(in->assignment, "image", in->slot_type);
	const char *hex = slot_str(in->assignment, "image_digest", in->slot_type);
	const char *rt = json_string_value(json_object_get(ct, "runtime"));
	const char *oci = json_string_value(json_object_get(ct, "oci_runtime"));
	const char *cache = json_string_value(json_object_get(ct, "image_cache_dir"));
	char prog[PATH_MAX], tarball[PATH_MAX];
	struct launch_strv e = {0}, m = {0};
	struct launch_gpu_plan gpu = {0};
	int rv = -1;

	memset(c, 0, sizeof(*c));
	if (!ct || !hex || strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64 || !cache) {
		snprintf(err, errlen,
		         "environment.image \"%s\": the master sent no image digest "
		         "or runtime for it",
		         image ? image : "?");
		goto fail;
	}
	if (!rt || (strcmp(rt, "podman") && strcmp(rt, "oci") && strcmp(rt, "enroot") &&
	            strcmp(rt, "apptainer"))) {
		snprintf(err, errlen,
		         "environment.image \"%s\": container runtime \"%s\" is not "
		         "supported by this det-launch (podman, oci, enroot, apptainer)",
		         image, rt ? rt : "none");
		goto fail;
	}
	if (!oci || !*oci || oci[0] == '-')
		oci = "runc";
	if (find_runtime(in, rt, oci, image, prog, sizeof(prog), err, errlen))
		goto fail;
	const char *home = launch_env_lookup(in->host_env, "HOME");
	const char *path = launch_env_lookup(in->host_env, "PATH");
	launch_strv_add(&e, "PATH=%s", path ? path : DEFAULT_PATH);
	if (home)
		launch_strv_add(&e, "HOME=%s", home);
	snprintf(tarball, sizeof(tarball), "%s/sha256/%s.tar", cache, hex);
	/* the checkpoint directory must exist to be mounted, or checkpoints stay inside */
	const char *ckpt = json_string_value(json_object_get(in->assignment, "checkpoint_dir"));
	if (ckpt && *ckpt && (!mount_path_ok(ckpt) || make_dirs(ckpt) < 0)) {
		snprintf(err, errlen, "checkpoint directory %s: %s", ckpt,
		         mount_path_ok(ckpt) ? strerror(errno) : "cannot be mounted (':' or ',')");
		goto fail;
	}
	same_path(&m, in->model_dir, 0);
	same_path(&m, in->job_dir, 0);
	same_path(&m, ckpt, 0);
	if (in->master && !strncmp(in->master, "unix:", 5))
		same_path(&m, in->master + 5, 0);
	same_path(&m, in->pythondir, 1);
	same_path(&m, in->self_exe, 1);
	if (user_mounts(&m, json_object_get(ct, "bind_mounts"), err, errlen))
		goto fail;
	if (e.oom || m.oom || gpu_plan(in->trial_env, in->host_env, in->slot_type, &gpu)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!strcmp(rt, "oci") ? prepare_oci(in, c, prog, tarball, hex, &m, &gpu, e.v, err, errlen)
	    : !strcmp(rt, "podman")
	        ? prepare_podman(in, c, prog, oci, tarball, hex, &m, &gpu, &e, err, errlen)
	        : prepare_rt(in, c, rt, prog, tarball, hex, &m, &gpu, &e, err, errlen))
		goto fail;
	if (e.oom) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	c->env = e.v;
	e.v = NULL;
	rv = 0;
fail:
	if (rv)
		launch_container_free(c);
	launch_gpu_plan_free(&gpu);
	launch_rt_argv_free(e.v);
	launch_rt_argv_free(m.v);
	return rv;
}

int launch_container_finish(struct launch_container *c, const char *const *args, char *err,
                            size_t errlen)
{
	struct launch_strv a = {c->argv, 0, 0, 0};
	if (c->oci_config)
		return launch_oci_write(c->oci_config, args, c->oci_config_path, err, errlen);
	while (a.v && a.v[a.n])
		a.n++;
	a.cap = a.n + 1;
	for (size_t i = 0; args[i]; i++)
		launch_strv_add(&a, "%s", args[i]);
	c->argv = a.v;
	if (a.oom) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
