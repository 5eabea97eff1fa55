/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A rank dies between two allreduces (SIGKILL, as the OOM killer would do it); the
 * survivor must come back from the second allreduce with an error naming the dead rank
 * long before the timeout. run.sh checks the "survivor error:" line and the elapsed time.
 *
 * Data structure: one small buffer.
 *
 * Non-obvious decision: the survivor leaves with _exit right after printing, because
 * mpirun tears the job down once it notices the dead rank and MPI_Finalize cannot
 * complete without it.
 */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "det/comm.h"

int main(int argc, char **argv)
{
	struct detcomm *c = NULL;
	float b[1024] = {0};
	char err[512] = "";
	int rank, provided;

	MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	if (detcomm_init(MPI_COMM_WORLD, NULL, &c, err, sizeof(err)) != 0 ||
	    detcomm_allreduce(c, b, b, 1024, DETCOMM_F32, DETCOMM_SUM, err, sizeof(err)) != 0) {
		printf("setup failed: %s\n", err);
		fflush(stdout);
		_exit(1);
	}
	if (rank == 1)
		raise(SIGKILL);
	if (detcomm_allreduce(c, b, b, 1024, DETCOMM_F32, DETCOMM_SUM, err, sizeof(err)) != 0)
		printf("survivor error: %s\n", err);
	else
		printf("survivor: no error\n");
	fflush(stdout);
	_exit(0);
}
