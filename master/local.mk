# SPDX-License-Identifier: GPL-2.0-or-later
# master: build fragment included by the top-level Makefile.am.
