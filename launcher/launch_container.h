/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a rank's entrypoint inside the trial's image (doc/containers.md):
 * the podman command line that wraps the entrypoint's argv, or the OCI runtime's
 * command line and the bundle's config.json that holds it.
 */
#ifndef DET_LAUNCH_CONTAINER_H
#define DET_LAUNCH_CONTAINER_H

#include <jansson.h>
#include <stddef.h>

struct launch_container_input {
	const json_t *assignment; /* the claim answer: environment, container, bind_mounts */
	const char *slot_type;    /* launch_env_slot_type */
	char **trial_env;         /* the entrypoint's environment (launch_env_build) */
	char *const *host_env;    /* det-launch's own environment (PATH, HOME for podman) */
	const char *model_dir;    /* the entrypoint's working directory */
	const char *job_dir;      /* det-launch's private files (env file, preempt file) */
	const char *pythondir;    /* the determined package, mounted read-only; NULL none */
	const char *self_exe;     /* det-launch itself, mounted read-only; NULL none */
	const char *master;       /* DET_MASTER ("unix:/path" mounts the socket) */
	int rank;
};

/* What to run: argv (podman run ... IMAGE [ARGS], or RUNTIME run --bundle DIR ID) and
 * the runtime's environment; for an OCI bundle its config.json, written by finish. */
struct launch_container {
	char **argv;
	char **env;
	json_t *oci_config;
	char *oci_config_path;
};

/* 1 when the assignment names an image for slot_type (the trial must run in it). */
int launch_container_wanted(const json_t *assignment, const char *slot_type);

/* Check the runtime and the bind mounts (readable by this user), make sure the image
 * is in this user's podman store (podman import of the cached tarball) or unpacked in
 * this user's OCI rootfs cache, and build the command line. 0, or -1 with err saying what is wrong;
 * c is then empty. */
int launch_container_prepare(const struct launch_container_input *in, struct launch_container *c,
                             char *err, size_t errlen);

/* Give the container its command args (NULL-terminated): appended to podman's argv, or
 * written into the bundle's config.json (0600). 0, or -1 with err. */
int launch_container_finish(struct launch_container *c, const char *const *args, char *err,
                            size_t errlen);

/* Free what launch_container_prepare filled (an empty one is fine). */
void launch_container_free(struct launch_container *c);

#endif
