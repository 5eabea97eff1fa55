# SPDX-License-Identifier: GPL-2.0-or-later
# bench-slurm-rpc: slurmctld RPCs per trial-minute of a 1,000-trial experiment,
# det-master as shipped vs per-task polling in the same run (root; not part of
# make check). bench/slurm_rpc.sh.
EXTRA_DIST += bench/slurm_rpc.sh

bench-slurm-rpc: all
	top_builddir=$(abs_top_builddir) $(srcdir)/bench/slurm_rpc.sh
.PHONY: bench-slurm-rpc
