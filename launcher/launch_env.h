/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The environment det-launch gives the entrypoint (doc/trial-environment.md).
 */
#ifndef DET_LAUNCH_ENV_H
#define DET_LAUNCH_ENV_H

#include <jansson.h>
#include <stddef.h>

#include "launch_rank.h"

struct launch_env_input {
	const json_t *assignment; /* the claim answer plus master_addr, master_port */
	const struct launch_rank *rank;
	const char *det_master;      /* NULL off-cluster */
	const char *pythondir;       /* prepended to PYTHONPATH; NULL for none */
	const char *bindirs;         /* prepended to PATH (":"-separated); NULL for none */
	const char *preempt_file;    /* DET_PREEMPT_FILE */
	const char *early_exit_file; /* DET_EARLY_EXIT_FILE */
};

/* A new NULL-terminated "K=V" array: base without the launcher's own
 * secrets, then the experiment's environment_variables (the list of the
 * slot type, launch_env_slot_type), then the DET_* and
 * torch.distributed variables. NULL with err on a malformed assignment. */
char **launch_env_build(char *const base[], const struct launch_env_input *in, char *err,
                        size_t errlen);

/* The trial's slot type as the launcher's environment base shows it: "cuda"
 * when CUDA_VISIBLE_DEVICES names devices, "rocm" when ROCR_VISIBLE_DEVICES or
 * HIP_VISIBLE_DEVICES does, else "cpu". Picks environment.image and
 * environment_variables (static strings). */
const char *launch_env_slot_type(char *const base[]);

/* Free an array from launch_env_build (NULL is fine). */
void launch_env_free(char **env);

#endif
