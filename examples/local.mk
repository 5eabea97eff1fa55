# SPDX-License-Identifier: GPL-2.0-or-later
# examples: build fragment included by the top-level Makefile.am.
include examples/fashion-mnist.mk
