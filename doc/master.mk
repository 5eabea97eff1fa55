# SPDX-License-Identifier: GPL-2.0-or-later
# Manual pages and the guide of det-master and det.
dist_man_MANS += doc/det-master.8 doc/det.1
EXTRA_DIST += doc/admin-local.md
