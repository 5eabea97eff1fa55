# SPDX-License-Identifier: GPL-2.0-or-later
# doc: build fragment included by the top-level Makefile.am.
EXTRA_DIST += doc/containers.md
EXTRA_DIST += doc/expconf.md doc/limits.md doc/api.md doc/architecture.md doc/tensorboard.md
EXTRA_DIST += doc/security.md
EXTRA_DIST += doc/collaboration.md
include doc/master.mk
include doc/admin.mk
EXTRA_DIST += doc/tasks.md
