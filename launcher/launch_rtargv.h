/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure builders of container command lines (doc/containers.md): the GPU part
 * (device nodes of the allocated GPUs only, CUDA_VISIBLE_DEVICES renumbered,
 * the NVIDIA hook), and the argv of enroot and Apptainer. No I/O: what exists
 * on the node is an input.
 */
#ifndef DET_LAUNCH_RTARGV_H
#define DET_LAUNCH_RTARGV_H

#include <stddef.h>

/* A growing NULL-terminated vector of strings (an argv, an environment). */
struct launch_strv {
	char **v;
	size_t n, cap;
	int oom; /* an allocation failed: later adds do nothing; check once at the end */
};

/* Append a formatted string to s (free the vector with launch_rt_argv_free). */
void launch_strv_add(struct launch_strv *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* What a cuda trial's container gets. */
struct launch_gpu_plan {
	char **devices;       /* device nodes to pass in (NULL-terminated) */
	char *cuda_visible;   /* CUDA_VISIBLE_DEVICES inside: "0,1,..." (NULL: leave it) */
	char *nvidia_visible; /* NVIDIA_VISIBLE_DEVICES for the hook (host indices), NULL none */
};

/* Plan the GPUs of slot type slot ("cuda" only; others get an empty plan) from
 * CUDA_VISIBLE_DEVICES (host indices, NULL none): /dev/nvidiaN of each allocated
 * index and NVIDIA's control nodes, each only when listed in present (NULL-terminated
 * device paths that exist on the node); with_hook (the NVIDIA hook is installed) sets
 * nvidia_visible. Malformed indices are skipped. 0, or -1 when out of memory. */
int launch_gpu_plan_make(const char *slot, const char *cuda_visible, const char *const *present,
                         int with_hook, struct launch_gpu_plan *out);

/* Free what launch_gpu_plan_make filled. */
void launch_gpu_plan_free(struct launch_gpu_plan *p);

/* podman's arguments for a plan: --device NODE each, the hook's env. NULL when out of
 * memory; an empty array for an empty plan. */
char **launch_gpu_podman_args(const struct launch_gpu_plan *p);

/* A bind mount. */
struct launch_rt_mount {
	const char *src, *dst;
	int read_only;
};

/* A container to start with enroot or Apptainer, as the calling user. */
struct launch_rt_spec {
	const char *program; /* the runtime's path */
	const char
	    *image; /* enroot: container name (ENROOT_DATA_PATH); Apptainer: SIF or directory */
	const char *workdir; /* the entrypoint's working directory */
	const struct launch_rt_mount *mounts;
	size_t n_mounts;
	char *const *env;     /* NAME=VALUE: enroot gets the names (values through its own
	                         environment); Apptainer reads env_file */
	const char *env_file; /* Apptainer --env-file */
	const struct launch_gpu_plan *gpus; /* NULL or an empty plan: none */
	const char *const *args;            /* the entrypoint; NULL: appended later */
};

/* enroot start [--rw] --mount SRC:DST[:ro] --env NAME ... IMAGE sh -c 'cd "$1" ...' WORKDIR
 * ARGS (enroot has no working directory option; the script is fixed, the paths are its
 * arguments). A new NULL-terminated array, or NULL when out of memory or a mount
 * path holds ':' or ','. */
char **launch_rt_enroot_argv(const struct launch_rt_spec *s);

/* apptainer exec --containall --cleanenv --pwd WORKDIR --env-file FILE --bind SRC:DST[:ro]
 * [--nv] IMAGE ARGS. A new NULL-terminated array, or NULL as for enroot. */
char **launch_rt_apptainer_argv(const struct launch_rt_spec *s);

/* Free an array these returned. */
void launch_rt_argv_free(char **argv);

#endif
