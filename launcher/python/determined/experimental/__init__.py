# SPDX-License-Identifier: GPL-2.0-or-later
"""``determined.experimental``: the Python SDK (``from determined.experimental import client``)."""

from determined.experimental import client
from determined.experimental.client import (Checkpoint, Determined, Experiment, Model,
                                            ModelVersion, Trial)

__all__ = ["Checkpoint", "Determined", "Experiment", "Model", "ModelVersion", "Trial", "client"]
