# SPDX-License-Identifier: GPL-2.0-or-later
"""``PyTorchTrial``, ``PyTorchTrialContext`` and ``LRScheduler``, after
Determined's PyTorch Trial API: the trial says how to build the model, the
data and one training/validation batch; the context wraps models, optimizers
and schedulers so the Trainer can place, parallelise, checkpoint and step them."""

import abc
import enum
import logging

import torch
import torch.nn as nn

from determined.pytorch import _data, _reducer

logger = logging.getLogger("determined.pytorch")


class LRScheduler:
    """A torch LR scheduler and when the Trainer steps it."""

    class StepMode(enum.Enum):
        STEP_EVERY_EPOCH = 1
        STEP_EVERY_BATCH = 2
        MANUAL_STEP = 3
        STEP_EVERY_OPTIMIZER_STEP = 4

    def __init__(self, scheduler, step_mode, frequency=1):
        if not isinstance(step_mode, LRScheduler.StepMode):
            raise TypeError("step_mode: an LRScheduler.StepMode")
        if not isinstance(frequency, int) or frequency < 1:
            raise ValueError(f"frequency {frequency!r}: a positive int")
        self.scheduler = scheduler
        self.step_mode = step_mode
        self.frequency = frequency

    def step(self, *args, **kwargs):
        self.scheduler.step(*args, **kwargs)

    def get_last_lr(self):
        return self.scheduler.get_last_lr()

    def state_dict(self):
        return self.scheduler.state_dict()

    def load_state_dict(self, state):
        self.scheduler.load_state_dict(state)


class PyTorchTrialContext:
    """What a PyTorchTrial gets: hyperparameters, ranks, and the wrap_* calls."""

    def __init__(self, core_context, hparams, *, global_batch_size=None, device=None,
                 exp_conf=None, trial_seed=0):
        self._core = core_context
        self.distributed = core_context.distributed
        self._hparams = dict(hparams or {})
        self._exp_conf = exp_conf or {}
        self.trial_seed = trial_seed
        if global_batch_size is None:
            global_batch_size = self._hparams.get("global_batch_size")
        if global_batch_size is not None:
            if isinstance(global_batch_size, bool) or not isinstance(global_batch_size, int) \
                    or global_batch_size < 1:
                raise ValueError(f"global_batch_size {global_batch_size!r}: a positive int")
            if global_batch_size % self.distributed.size:
                logger.warning("global_batch_size %d is not a multiple of %d ranks",
                               global_batch_size, self.distributed.size)
        self._global_batch_size = global_batch_size
        self.device = device or torch.device("cpu")
        self.models = []
        self.optimizers = []
        self.lr_schedulers = []
        self._reducers = []
        self._backward_passes = {}
        self._passes_done = {}
        self._epoch_len = None
        self._batch_idx = 0
        self._test_mode = False

    # hyperparameters and sizes
    def get_hparams(self):
        return dict(self._hparams)

    def get_hparam(self, name):
        if name not in self._hparams:
            raise ValueError(f"hyperparameter {name!r} is not in this trial's hyperparameters "
                             f"({', '.join(sorted(self._hparams)) or 'none'})")
        return self._hparams[name]

    def get_experiment_config(self):
        return dict(self._exp_conf)

    def get_global_batch_size(self):
        if self._global_batch_size is None:
            raise ValueError("no global_batch_size: set the hyperparameter global_batch_size")
        return self._global_batch_size

    def get_per_slot_batch_size(self):
        return max(1, self.get_global_batch_size() // self.distributed.size)

    def get_data_config(self):
        return dict(self._exp_conf.get("data") or {})

    def get_trial_seed(self):
        return self.trial_seed

    def get_stop_requested(self):
        return getattr(self, "_stop_requested", False)

    def set_stop_requested(self, stop):
        self._stop_requested = bool(stop)

    # position in training, kept by the Trainer
    def current_train_batch(self):
        return self._batch_idx

    def current_train_epoch(self):
        return self._batch_idx // self._epoch_len if self._epoch_len else 0

    def is_epoch_start(self):
        return bool(self._epoch_len) and self._batch_idx % self._epoch_len == 0

    def is_epoch_end(self):
        return bool(self._epoch_len) and (self._batch_idx + 1) % self._epoch_len == 0

    # wrapping
    def wrap_model(self, model):
        """model on this rank's device; data parallel (DDP) when there are several ranks."""
        if not isinstance(model, nn.Module):
            raise TypeError("wrap_model: expected a torch.nn.Module")
        model = model.to(self.device)
        if self.distributed.size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
        self.models.append(model)
        return model

    def wrap_optimizer(self, optimizer, backward_passes_per_step=1, fp16_compression=False,
                       average_aggregated_gradients=True):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError("wrap_optimizer: expected a torch.optim.Optimizer")
        if not isinstance(backward_passes_per_step, int) or backward_passes_per_step < 1:
            raise ValueError("backward_passes_per_step: a positive int")
        self.optimizers.append(optimizer)
        self._backward_passes[id(optimizer)] = backward_passes_per_step
        self._passes_done[id(optimizer)] = 0
        return optimizer

    def wrap_lr_scheduler(self, lr_scheduler, step_mode, frequency=1):
        sched = LRScheduler(lr_scheduler, step_mode, frequency)
        self.lr_schedulers.append(sched)
        return sched

    def wrap_reducer(self, reducer, name=None, for_training=False, for_validation=True):
        """Register a MetricReducer (or a function of a list of values) for validation."""
        if not isinstance(reducer, _reducer.MetricReducer):
            raise TypeError("wrap_reducer: expected a det.pytorch.MetricReducer")
        self._reducers.append((name, reducer))
        return reducer

    def to_device(self, data):
        return _data.to_device(data, self.device)

    # training steps
    def backward(self, loss, gradient=None, retain_graph=False, create_graph=False):
        loss.backward(gradient=gradient, retain_graph=retain_graph, create_graph=create_graph)

    def step_optimizer(self, optimizer, clip_grads=None, auto_zero_grads=True, scaler=None):
        """Step optimizer (every backward_passes_per_step calls); clip_grads(params) first."""
        key = id(optimizer)
        if key not in self._backward_passes:
            raise ValueError("step_optimizer: wrap the optimizer with wrap_optimizer first")
        self._passes_done[key] += 1
        if self._passes_done[key] < self._backward_passes[key]:
            return
        self._passes_done[key] = 0
        if clip_grads is not None:
            params = [p for g in optimizer.param_groups for p in g["params"]]
            clip_grads(params)
        if scaler is not None:
            scaler.step(optimizer)
        else:
            optimizer.step()
        if auto_zero_grads:
            optimizer.zero_grad()
        for s in self.lr_schedulers:
            if s.step_mode == LRScheduler.StepMode.STEP_EVERY_OPTIMIZER_STEP:
                s.step()


class PyTorchTrial(abc.ABC):
    """Subclass with __init__(context), the data loaders, train_batch and evaluate_batch
    (or evaluate_full_dataset)."""

    trial_context_class = PyTorchTrialContext

    @abc.abstractmethod
    def __init__(self, context):
        pass

    @abc.abstractmethod
    def train_batch(self, batch, epoch_idx, batch_idx):
        """One training step; a dict of metrics (or a tensor loss)."""

    @abc.abstractmethod
    def build_training_data_loader(self):
        pass

    @abc.abstractmethod
    def build_validation_data_loader(self):
        pass

    def build_callbacks(self):
        return {}

    def evaluate_batch(self, batch, batch_idx=None):
        raise NotImplementedError("implement evaluate_batch or evaluate_full_dataset")

    def evaluate_full_dataset(self, data_loader):
        raise NotImplementedError("implement evaluate_batch or evaluate_full_dataset")

    def evaluation_reducer(self):
        """Reducer (one for all) or a dict of metric name -> Reducer; default AVG."""
        return _reducer.Reducer.AVG

    def get_batch_length(self, batch):
        if isinstance(batch, torch.Tensor):
            return len(batch)
        if isinstance(batch, (list, tuple)) and batch:
            return self.get_batch_length(batch[0])
        if isinstance(batch, dict) and batch:
            return self.get_batch_length(next(iter(batch.values())))
        raise TypeError("get_batch_length: override it for this batch type")
