/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spank_det's plugstack.conf arguments: strict key=value into a config
 * struct with defaults. No Slurm headers, so it is unit-tested on its own.
 */
#ifndef DET_SPANK_ARGS_H
#define DET_SPANK_ARGS_H

#include <stddef.h>

#define DET_SPANK_MASTER_MAX 512
#define DET_SPANK_PATH_MAX 512

struct det_spank_args {
	char master[DET_SPANK_MASTER_MAX];     /* "" when no master is configured */
	int required_master;                   /* 1: a failed report fails the step */
	long timeout_ms;                       /* per report, default 2000 */
	int auth_munge;                        /* send "Authorization: Munge CRED" */
	char munge_socket[DET_SPANK_PATH_MAX]; /* "" for munge's default socket */
	char tmpdir_base[DET_SPANK_PATH_MAX];  /* where step temp dirs go, default /tmp */
	int port_lo, port_hi;                  /* rendezvous ports, default 29500-30499 */
};

/* Defaults: no master, required_master=no, timeout_ms=2000, auth=munge,
 * tmpdir_base=/tmp, port_range=29500-30499. */
void det_spank_args_init(struct det_spank_args *args);

/* Parse argv (each "key=value"): master=URL, required_master=yes|no,
 * timeout_ms=N (1..60000), auth=munge|none, munge_socket=PATH,
 * tmpdir_base=PATH (absolute), port_range=LO-HI (1024..65535). Unknown keys
 * and bad values: -1 with err naming the argument. */
int det_spank_args_parse(struct det_spank_args *args, int argc, char **argv, char *err,
                         size_t errlen);

#endif
