# SPDX-License-Identifier: GPL-2.0-or-later
# bench-webui: bytes to open the charts of a 100,000-row trial, every row
# (the old way) against the master's downsampled series, in the same run
# (not part of make check). bench/webui_metrics.sh; then the idle experiment
# and trial pages (CPU, bytes/s) and the trial page's render time in headless
# Chromium, bench/webui_idle.sh.
EXTRA_DIST += bench/webui_metrics.sh bench/webui_idle.sh bench/webui_idle.mjs

bench-webui: all
	top_builddir=$(abs_top_builddir) top_srcdir=$(abs_top_srcdir) $(srcdir)/bench/webui_metrics.sh
	top_builddir=$(abs_top_builddir) top_srcdir=$(abs_top_srcdir) $(srcdir)/bench/webui_idle.sh
.PHONY: bench-webui
