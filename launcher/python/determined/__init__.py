# SPDX-License-Identifier: GPL-2.0-or-later
"""det-slurm's implementation of Determined's Core API (standard library only).

Scripts written for Determined's Core API run unchanged: ``import determined as
det``, ``det.get_cluster_info()``, ``det.core.init()``. Inside a det-slurm job the
environment that det-launch sets connects it to det-master; elsewhere it works
off-cluster and writes metrics and checkpoints under ``./det-local``.
"""

from determined._info import ClusterInfo, TrialInfo, get_cluster_info
from determined import core

LOG_FORMAT = "%(levelname)s: [%(process)s] %(name)s: %(message)s"

__version__ = "0.1.0"

__all__ = ["ClusterInfo", "TrialInfo", "LOG_FORMAT", "core", "get_cluster_info"]


def __getattr__(name):
    """``det.pytorch`` and ``det.launch`` on first use, so that Core API scripts
    never import torch."""
    if name in ("pytorch", "launch"):
        import importlib

        return importlib.import_module(f"determined.{name}")
    raise AttributeError(f"module 'determined' has no attribute {name!r}")
