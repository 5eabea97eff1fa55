# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers shared by the Python tests: a clean DET_* environment per test."""

import os
import shutil
import tempfile
import unittest

DET_VARS = [k for k in os.environ if k.startswith("DET_")] + [
    "MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK"]


class EnvTestCase(unittest.TestCase):
    def setUp(self):
        self._saved = dict(os.environ)
        for k in list(os.environ):
            if k.startswith("DET_") or k in DET_VARS:
                del os.environ[k]
        self.dir = tempfile.mkdtemp(prefix="det-pytest-")
        os.environ["DET_LOCAL_DIR"] = self.dir

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self._saved)
        shutil.rmtree(self.dir, ignore_errors=True)
