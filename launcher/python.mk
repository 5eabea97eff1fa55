# SPDX-License-Identifier: GPL-2.0-or-later
# The Python package `determined` (Core API, standard library only),
# installed under $(pkgdatadir)/python; det-launch puts that on PYTHONPATH.
detpythondir = $(pkgdatadir)/python
detpkgdir = $(detpythondir)/determined
dist_detpkg_DATA = launcher/python/determined/__init__.py launcher/python/determined/_info.py \
	launcher/python/determined/_http.py
detcoredir = $(detpkgdir)/core
dist_detcore_DATA = launcher/python/determined/core/__init__.py \
	launcher/python/determined/core/_context.py launcher/python/determined/core/_train.py \
	launcher/python/determined/core/_checkpoint.py launcher/python/determined/core/_preempt.py \
	launcher/python/determined/core/_searcher.py launcher/python/determined/core/_distributed.py

TESTS += tests/python/test-python-core.sh
EXTRA_DIST += tests/python/test-python-core.sh tests/python/tap_runner.py tests/python/pyenv.py \
	tests/python/test_info.py tests/python/test_core_offcluster.py tests/python/test_distributed.py
