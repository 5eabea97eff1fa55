# SPDX-License-Identifier: GPL-2.0-or-later
# doc: build fragment included by the top-level Makefile.am.
include doc/master.mk
