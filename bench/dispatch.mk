# SPDX-License-Identifier: GPL-2.0-or-later
# bench-dispatch: 200 short trials through det-slurm vs a raw sbatch --array
# on the test cluster (root; not part of make check). bench/dispatch.sh.
EXTRA_DIST += bench/dispatch.sh

bench-dispatch: all
	top_builddir=$(abs_top_builddir) BENCH_ROUNDS="$(ROUNDS)" $(srcdir)/bench/dispatch.sh
.PHONY: bench-dispatch
