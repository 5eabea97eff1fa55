# SPDX-License-Identifier: GPL-2.0-or-later
# tests/: unit tests (cmocka, TAP), fuzz corpora replayed as regression
# tests, integration tests against real services. Unit tests of a module are
# declared next to the module's build fragment; shared helpers live here.
EXTRA_DIST += tests/README.md
noinst_HEADERS += tests/unit/unit_tmpdir.h
include tests/slurm/slurm.mk
include tests/security/local.mk
include tests/deploy/local.mk
