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
detpytorchdir = $(detpkgdir)/pytorch
dist_detpytorch_DATA = launcher/python/determined/pytorch/__init__.py \
	launcher/python/determined/pytorch/_data.py launcher/python/determined/pytorch/_reducer.py \
	launcher/python/determined/pytorch/_trainer.py launcher/python/determined/pytorch/_trial.py
detlaunchdir = $(detpkgdir)/launch
dist_detlaunch_DATA = launcher/python/determined/launch/__init__.py \
	launcher/python/determined/launch/_missing.py launcher/python/determined/launch/deepspeed.py \
	launcher/python/determined/launch/horovod.py launcher/python/determined/launch/tensorflow.py \
	launcher/python/determined/launch/torch_distributed.py \
	launcher/python/determined/launch/wrap_rank.py
detexperimentaldir = $(detpkgdir)/experimental
dist_detexperimental_DATA = launcher/python/determined/experimental/__init__.py \
	launcher/python/determined/experimental/client.py
detexecdir = $(detpkgdir)/exec
dist_detexec_DATA = launcher/python/determined/exec/__init__.py \
	launcher/python/determined/exec/harness.py

TESTS += tests/python/test-python-core.sh
TESTS += tests/python/test-python-torch.sh
EXTRA_DIST += doc/frameworks.md
EXTRA_DIST += tests/python/test-python-core.sh tests/python/tap_runner.py tests/python/pyenv.py \
	tests/python/test_info.py tests/python/test_core_offcluster.py tests/python/test_distributed.py \
	tests/python/test-python-torch.sh tests/python/test_pytorch_data.py \
	tests/python/test_pytorch_trainer.py tests/python/pt_fixture.py \
	tests/python/test_pytorch_context.py
