/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spank_det in the contexts that create a job: the allocator (sbatch,
 * salloc) and local (srun). Both turn the det options into the job control
 * env, which is how job_submit_det recognises a det job
 * (job_desc->spank_job_env) and how the job's steps learn their experiment
 * (SLURM_SPANK_DET_*); an srun inside an allocation forwards the options to
 * slurmstepd by itself (SPANK does that for registered options). No network
 * I/O here: submission must stay fast.
 */
#include "spank_det.h"

int det_submit_post_opt(spank_t sp)
{
	const struct det_spank_options *o = det_options_get();

	if ((o->pool[0] || o->slots[0]) && !o->experiment[0]) {
		slurm_error(DET_SPANK_PREFIX "--det-pool and --det-slots need --det-experiment");
		return -1;
	}
	return det_options_to_job_control(sp);
}
