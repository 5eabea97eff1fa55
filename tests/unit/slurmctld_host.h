/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What slurmctld provides to job_submit_det (allocator and logger), for the
 * programs that load the plugin's code without slurmctld: the unit test and
 * the bench. Strings are malloc'd; the last log line is kept for checks.
 */
#ifndef DET_SLURMCTLD_HOST_H
#define DET_SLURMCTLD_HOST_H

#include <slurm/slurm.h>

/* The plugin's entry points (slurm-plugin/job_submit_det.c). */
extern int init(void);
extern int fini(void);
extern int job_submit(job_desc_msg_t *job_desc, uint32_t submit_uid, char **err_msg);
extern int job_modify(job_desc_msg_t *job_desc, void *job_ptr, uint32_t submit_uid);

/* slurmctld's helpers the plugin calls. */
extern void slurm_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int slurm_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern char *slurm_xstrdup(const char *str);
extern void slurm_xfree(void **item);

/* The last line slurm_info or slurm_error wrote. */
const char *slurmctld_host_last_log(void);
/* The last line with "warning:" in it. */
const char *slurmctld_host_last_warning(void);

#endif
