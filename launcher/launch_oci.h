/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The bare OCI-bundle runtime (container_runtime: oci): the root file system
 * cache, config.json and its writing (doc/containers.md).
 */
#ifndef DET_LAUNCH_OCI_H
#define DET_LAUNCH_OCI_H

#include <jansson.h>
#include <stddef.h>

/* Run argv (a runtime, tar: an absolute path) as this user with env, stdin /dev/null and
 * stdout to our stderr; its exit status (128 + signal when killed), or -1. */
int launch_oci_run_wait(char *const *argv, char *const *env);
/* mkdir dir 0700 and check it is ours and private (what names it in err). */
int launch_oci_private_dir(const char *dir, const char *what, char *err, size_t errlen);

/* Make this user's private cache /tmp/det-oci-UID (rootfs/, state/) into base. 0 or -1. */
int launch_oci_dirs(char *base, size_t baselen, char *err, size_t errlen);

/* The image's root file system under base/rootfs/<hex> (its path into out), unpacked
 * from tarball by tar as this user when not there yet. 0, or -1 with err. */
int launch_oci_rootfs(const char *base, const char *tarball, const char *hex, char *const *env,
                      char *out, size_t outlen, char *err, size_t errlen);

/* A new config.json (without process.args) for rootfs, env and cwd; NULL when out of memory. */
json_t *launch_oci_config(const char *rootfs, char *const *env, const char *cwd);

/* Add a bind mount of src at dst (read-only when read_only) to config. 0 or -1 (memory). */
int launch_oci_bind(json_t *config, const char *src, const char *dst, int read_only);

/* Set process.args and write config to path (0600, replaced). 0, or -1 with err. */
int launch_oci_write(json_t *config, const char *const *args, const char *path, char *err,
                     size_t errlen);

#endif
