# SPDX-License-Identifier: GPL-2.0-or-later
"""``determined.pytorch``: Determined's PyTorch Trial API on det-slurm."""

from determined.pytorch._data import DataLoader, TorchData, to_device
from determined.pytorch._reducer import MetricReducer, Reducer
from determined.pytorch._trainer import (Batch, Epoch, Record, Trainer, init,
                                         load_trial_from_checkpoint_path)
from determined.pytorch._trial import LRScheduler, PyTorchTrial, PyTorchTrialContext


class PyTorchCallback:
    """Hooks the Trainer calls: on_training_start, on_training_epoch_start(epoch),
    on_checkpoint_write_end(path)."""


__all__ = ["Batch", "DataLoader", "Epoch", "LRScheduler", "MetricReducer", "PyTorchCallback",
           "PyTorchTrial", "PyTorchTrialContext", "Record", "Reducer", "TorchData", "Trainer",
           "init", "load_trial_from_checkpoint_path", "to_device"]
