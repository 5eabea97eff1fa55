# SPDX-License-Identifier: GPL-2.0-or-later
# The administrator's guide to the Slurm plugins.
EXTRA_DIST += doc/admin.md
