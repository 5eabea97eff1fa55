# SPDX-License-Identifier: GPL-2.0-or-later
# bench-longpoll: det-master's CPU time with 1,000 idle parked long polls
# against none, in one run (root; not part of make check). bench/longpoll.sh.
EXTRA_DIST += bench/longpoll.sh

bench-longpoll: all
	top_builddir=$(abs_top_builddir) top_srcdir=$(abs_top_srcdir) $(srcdir)/bench/longpoll.sh
.PHONY: bench-longpoll
