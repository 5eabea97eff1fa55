# SPDX-License-Identifier: GPL-2.0-or-later
# bench-exp-list: GET /experiments with 20,000 experiments and 4 pollers,
# against GET /health in the same run (not part of make check). bench/exp_list.sh.
EXTRA_DIST += bench/exp_list.sh

bench-exp-list: all
	top_builddir=$(abs_top_builddir) top_srcdir=$(abs_top_srcdir) $(srcdir)/bench/exp_list.sh
.PHONY: bench-exp-list

# bench-exp-list-100k: a page of 50 of 100,000 experiments, sorted by each
# column and searched by name, against GET /health (bench/exp_list_100k.sh).
EXTRA_DIST += bench/exp_list_100k.sh

bench-exp-list-100k: all
	top_builddir=$(abs_top_builddir) top_srcdir=$(abs_top_srcdir) $(srcdir)/bench/exp_list_100k.sh
.PHONY: bench-exp-list-100k
