/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * slurmctld's private headers (job_record_t, job_array_struct_t), from the
 * Slurm source tree that configure --with-slurm-src names. They are not
 * written for this project's warning flags (old-style declarations such as
 * f()), so those flags are relaxed around them and nowhere else.
 */
#ifndef DET_SLURMCTLD_H
#define DET_SLURMCTLD_H

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include "src/slurmctld/slurmctld.h"
#pragma GCC diagnostic pop

#endif
