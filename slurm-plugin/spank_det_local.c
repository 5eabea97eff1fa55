/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spank_det in the local context (srun). An srun that creates its own job
 * marks it like sbatch does; an srun inside an allocation forwards the
 * options to slurmstepd by itself (SPANK does that for registered options).
 */
#include "spank_det.h"

int det_local_post_opt(spank_t sp, const struct det_spank_args *args)
{
	const struct det_spank_options *o = det_options_get();

	if ((o->pool[0] || o->slots[0]) && !o->experiment[0]) {
		slurm_error(DET_SPANK_PREFIX "--det-pool and --det-slots need --det-experiment");
		return -1;
	}
	return det_options_to_job_control(sp);
}
