# SPDX-License-Identifier: GPL-2.0-or-later
"""The launch layers of frameworks det-slurm does not ship: a clear error, exit 2."""

import sys


def refuse(layer, framework):
    sys.stderr.write(
        f"determined.launch.{layer}: {framework} is not installed on this cluster and det-slurm "
        f"does not support it (see doc/frameworks.md); use determined.launch.torch_distributed "
        "for PyTorch, or the Core API directly\n")
    sys.exit(2)
