# SPDX-License-Identifier: GPL-2.0-or-later
# launcher: libdetcore (C Core API), det-launch, the Python package.
include launcher/core.mk
include launcher/launch.mk
include launcher/python.mk
EXTRA_DIST += doc/launcher.md doc/trial-environment.md doc/core-api.md
