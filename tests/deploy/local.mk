# SPDX-License-Identifier: GPL-2.0-or-later
# tests/deploy/: the packages built, installed and run as a site would
# (doc/admin.md, "Packages and install"). They skip without the packaging
# tools (or, for the Debian one, without root) and say why.
DEPLOY_TESTS = tests/deploy/packages.sh tests/deploy/rpm.sh tests/deploy/install.sh
TESTS += $(DEPLOY_TESTS)
EXTRA_DIST += $(DEPLOY_TESTS)
# The .debs packages.sh caches by the hash of the sources.
clean-local: clean-deploy-debs
clean-deploy-debs:
	rm -rf tests/deploy/debs
.PHONY: clean-deploy-debs
