# SPDX-License-Identifier: GPL-2.0-or-later
# The Python package `determined` (Core API, standard library only).
detpythondir = $(pkgdatadir)/python
