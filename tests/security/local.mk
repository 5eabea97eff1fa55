# SPDX-License-Identifier: GPL-2.0-or-later
# tests/security/: each finding of the hostile-user review (doc/security.md)
# as a test against a real det-master, with real second Unix users. They need
# root and skip themselves otherwise.
SECURITY_TESTS =
EXTRA_DIST += tests/security/security-lib.sh
TESTS += $(SECURITY_TESTS)
EXTRA_DIST += $(SECURITY_TESTS)
SECURITY_TESTS += tests/security/store-integrity.sh
SECURITY_TESTS += tests/security/control-chars.sh
SECURITY_TESTS += tests/security/disk-full.sh
