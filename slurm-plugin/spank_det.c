/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spank_det: the SPANK plugin's whole surface. Every slurm_spank_* entry
 * point lives here and only dispatches on spank_context() to the file of
 * that context (spank_det_submit.c for sbatch/salloc/srun, spank_det_remote.c).
 * Main data structure: the parsed plugstack arguments, shared by all
 * contexts. Non-obvious decision: options are registered in every context
 * that parses them (sbatch, srun, slurmstepd), or slurmstepd would never see
 * the values sbatch and srun forward.
 */
#include "spank_det.h"

#include <stdio.h>

SPANK_PLUGIN(det, 1);

extern int slurm_spank_init(spank_t sp, int ac, char **av);
extern int slurm_spank_init_post_opt(spank_t sp, int ac, char **av);
extern int slurm_spank_user_init(spank_t sp, int ac, char **av);
extern int slurm_spank_task_exit(spank_t sp, int ac, char **av);
extern int slurm_spank_exit(spank_t sp, int ac, char **av);

static struct det_spank_args args;

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	char err[256];

	det_spank_args_init(&args);
	if (det_spank_args_parse(&args, ac, av, err, sizeof(err)) < 0) {
		slurm_error(DET_SPANK_PREFIX "plugstack.conf: %s", err);
		return -1;
	}
	switch (spank_context()) {
	case S_CTX_ALLOCATOR:
	case S_CTX_LOCAL:
	case S_CTX_REMOTE:
		return det_options_register(sp);
	default:
		return 0;
	}
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	switch (spank_context()) {
	case S_CTX_ALLOCATOR:
	case S_CTX_LOCAL:
		return det_submit_post_opt(sp);
	default:
		return 0;
	}
}

int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
	return spank_context() == S_CTX_REMOTE ? det_remote_user_init(sp, &args) : 0;
}

int slurm_spank_task_exit(spank_t sp, int ac, char **av)
{
	return spank_context() == S_CTX_REMOTE ? det_remote_task_exit(sp) : 0;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	return spank_context() == S_CTX_REMOTE ? det_remote_exit(sp) : 0;
}
