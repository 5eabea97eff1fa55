# SPDX-License-Identifier: GPL-2.0-or-later
# Example configuration of the Slurm plugins (doc/admin.md), installed under
# $(pkgdatadir)/examples/etc/ for admins to copy.
detslurmexampledir = $(pkgdatadir)/examples
nobase_dist_detslurmexample_DATA = etc/det.conf etc/plugstack.conf.d/det.conf \
	etc/slurm.conf.fragment
