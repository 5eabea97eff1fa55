# SPDX-License-Identifier: GPL-2.0-or-later
# etc: build fragment included by the top-level Makefile.am.
include etc/master.mk
include etc/slurm.mk
include etc/ops.mk
