# SPDX-License-Identifier: GPL-2.0-or-later
"""``det.pytorch.init()`` and ``Trainer.fit()``: the training loop of a
PyTorchTrial over the Core API.

A position in training is one number, the batches completed; the epoch and
the batch within it follow from the training loader's length, so a restart
from a checkpoint taken at batch k resumes with batch k of the same epoch
order (see _data.py). A checkpoint holds every model, optimizer and
scheduler state, the batch count, the best searcher metric so far, and
every rank's random generator states (gathered to the chief), so an
interrupted and an uninterrupted run end with the same weights."""

import contextlib
import inspect
import json
import logging
import numbers
import os
import random
import sys

import torch

import determined as det
from determined.pytorch import _data, _reducer
from determined.pytorch._trial import LRScheduler, PyTorchTrial, PyTorchTrialContext

logger = logging.getLogger("determined.pytorch")

STATE_FILE = "state_dict.pth"
LOAD_DATA_FILE = "load_data.json"


class _TrainUnit:
    def __init__(self, value):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{type(self).__name__}({value!r}): a positive int")
        self.value = value

    def __repr__(self):
        return f"{type(self).__name__}({self.value})"


class Batch(_TrainUnit):
    """A length in batches (steps of the global batch)."""


class Epoch(_TrainUnit):
    """A length in epochs of the training data loader."""


class Record(_TrainUnit):
    """A length in records (rounded up to whole global batches)."""


def _to_batches(unit, what, per_epoch, global_batch):
    if unit is None:
        return None
    if isinstance(unit, bool):
        raise TypeError(f"{what}: expected Batch(n), Epoch(n), Record(n) or an int")
    if isinstance(unit, int):
        unit = Batch(unit)
    if isinstance(unit, Batch):
        return unit.value
    if isinstance(unit, Epoch):
        return unit.value * per_epoch
    if isinstance(unit, Record):
        return -(-unit.value // global_batch)
    raise TypeError(f"{what}: expected Batch(n), Epoch(n), Record(n) or an int, not {unit!r}")


def _seed_everything(seed):
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % (1 << 32))
    except ImportError:
        pass


def _rng_state():
    state = {"torch": torch.get_rng_state(), "random": random.getstate()}
    try:
        import numpy as np

        state["numpy"] = np.random.get_state()
    except ImportError:
        pass
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state):
    torch.set_rng_state(state["torch"])
    random.setstate(state["random"])
    if "numpy" in state:
        import numpy as np

        np.random.set_state(state["numpy"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _device(local_rank):
    if torch.cuda.is_available():
        n = torch.cuda.device_count()
        return torch.device("cuda", local_rank % n)
    return torch.device("cpu")


@contextlib.contextmanager
def init(*, hparams=None, exp_conf=None, distributed=None, aggregation_frequency=1,
         enable_tensorboard_logging=True):
    """Yield a PyTorchTrialContext: torch.distributed (gloo on CPU, nccl on GPU) set up
    from det-launch's RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT when there are several
    ranks, the Core API context, the trial's seed applied."""
    info = det.get_cluster_info()
    if info is not None:
        hparams = info.trial.hparams
        seed = info.trial.trial_seed
        exp_conf = exp_conf or {"data": info.user_data}
    else:
        if hparams is None and os.environ.get("DET_HPARAMS"):
            hparams = json.loads(os.environ["DET_HPARAMS"])
        hparams = dict(hparams or {})
        seed = int(os.environ.get("DET_TRIAL_SEED", "0") or "0")
    seed %= 1 << 63
    started_pg = False
    world = int(os.environ.get("WORLD_SIZE", "1") or "1")
    if distributed is None and world > 1:
        for name in ("RANK", "MASTER_ADDR", "MASTER_PORT"):
            if not os.environ.get(name):
                raise RuntimeError(f"det.pytorch.init: WORLD_SIZE={world} but {name} is not set "
                                   "(run under det-launch or determined.launch.torch_distributed)")
        import torch.distributed as tdist

        if not tdist.is_initialized():
            backend = "nccl" if torch.cuda.is_available() else "gloo"
            if backend == "nccl":
                torch.cuda.set_device(_device(int(os.environ.get("LOCAL_RANK", "0"))))
            tdist.init_process_group(backend, init_method="env://")
            started_pg = True
        distributed = det.core.DistributedContext.from_torch_distributed()
    _seed_everything(seed)
    core = det.core.init(distributed=distributed)
    try:
        ctx = PyTorchTrialContext(core.context, hparams, exp_conf=exp_conf, trial_seed=seed,
                                  device=_device(core.context.distributed.local_rank))
        ctx._info = info
        yield ctx
    finally:
        core.context.close()
        if started_pg:
            import torch.distributed as tdist

            tdist.destroy_process_group()


def _class_spec(cls):
    """MODULE:QUALNAME of a trial class for load_data.json. A class of the script
    being run (``python3 model_def.py``, module ``__main__``) is named by the
    script's own module name, so that load_trial_from_checkpoint_path imports it
    again where the model directory is on sys.path."""
    mod = cls.__module__
    main = sys.modules.get("__main__")
    if mod == "__main__" and main is not None:
        spec = getattr(main, "__spec__", None)
        stem = os.path.splitext(os.path.basename(getattr(main, "__file__", None) or ""))[0]
        if spec is not None and spec.name and spec.name != "__main__":
            mod = spec.name  # python3 -m MODULE
        elif stem.isidentifier():
            mod = stem
    return f"{mod}:{cls.__qualname__}"


def _overrides(trial, name):
    return getattr(type(trial), name) is not getattr(PyTorchTrial, name)


def _metric_dict(m, what):
    if isinstance(m, torch.Tensor):
        m = {"loss": m}
    if not isinstance(m, dict):
        raise TypeError(f"{what} must return a dict of metrics (or a loss tensor), not {type(m)}")
    out = {}
    for k, v in m.items():
        if isinstance(v, torch.Tensor):
            if v.numel() != 1:
                continue  # only scalars are reported
            v = v.item()
        if isinstance(v, numbers.Real) and not isinstance(v, bool):
            out[k] = float(v)
    return out


class Trainer:
    """Runs a PyTorchTrial: ``Trainer(trial, context).fit(...)``."""

    def __init__(self, trial, context):
        if not isinstance(trial, PyTorchTrial):
            raise TypeError("Trainer: trial must be a det.pytorch.PyTorchTrial")
        if not isinstance(context, PyTorchTrialContext):
            raise TypeError("Trainer: context must come from det.pytorch.init()")
        self.trial = trial
        self.context = context
        self._core = context._core
        self._dist = context.distributed
        self._batches = 0
        self._best = None
        self._last_val = None
        self._last_ckpt_batches = None

    # checkpoints
    def _save(self):
        rngs = self._dist.allgather(_rng_state())
        if self._dist.rank != 0:
            return None
        c = self.context
        state = {
            "batches_trained": self._batches,
            "best_searcher_metric": self._best,
            "models_state_dict": [_unwrap(m).state_dict() for m in c.models],
            "optimizers_state_dict": [o.state_dict() for o in c.optimizers],
            "lr_schedulers_state_dict": [s.state_dict() for s in c.lr_schedulers],
            "rng_states": rngs,
        }
        cls = type(self.trial)
        meta = {"steps_completed": self._batches, "framework": f"torch-{torch.__version__}",
                "format": "pickle"}
        with self._core.checkpoint.store_path(meta) as (path, uuid):
            torch.save(state, os.path.join(path, STATE_FILE))
            with open(os.path.join(path, LOAD_DATA_FILE), "w", encoding="utf-8") as f:
                json.dump({"trial_type": "PyTorchTrial", "trial_cls_spec": _class_spec(cls),
                           "hparams": c.get_hparams(), "trial_seed": c.trial_seed}, f)
            for name, cb in self._callbacks.items():
                if hasattr(cb, "on_checkpoint_write_end"):
                    cb.on_checkpoint_write_end(str(path))
        self._last_ckpt_batches = self._batches
        logger.info("checkpoint %s at batch %d", uuid, self._batches)
        return uuid

    def _checkpoint(self):
        uuid = self._save()
        self._last_ckpt_batches = self._batches
        return uuid

    def _restore(self, uuid):
        with self._core.checkpoint.restore_path(uuid) as path:
            state = torch.load(os.path.join(path, STATE_FILE), map_location=self.context.device)
        c = self.context
        for what, objs, states in (("models", c.models, state["models_state_dict"]),
                                   ("optimizers", c.optimizers, state["optimizers_state_dict"]),
                                   ("lr_schedulers", c.lr_schedulers,
                                    state["lr_schedulers_state_dict"])):
            if len(objs) != len(states):
                raise RuntimeError(f"checkpoint {uuid}: {len(states)} {what}, this trial wraps "
                                   f"{len(objs)}")
        for m, s in zip(c.models, state["models_state_dict"]):
            _unwrap(m).load_state_dict(s)
        for o, s in zip(c.optimizers, state["optimizers_state_dict"]):
            o.load_state_dict(s)
        for sch, s in zip(c.lr_schedulers, state["lr_schedulers_state_dict"]):
            sch.load_state_dict(s)
        rngs = state.get("rng_states") or []
        if len(rngs) == self._dist.size:
            _set_rng_state(rngs[self._dist.rank])
        else:
            logger.warning("checkpoint %s has random states of %d ranks, this trial has %d: "
                           "not restored", uuid, len(rngs), self._dist.size)
        self._batches = int(state["batches_trained"])
        self._best = state.get("best_searcher_metric")
        self._last_ckpt_batches = self._batches
        logger.info("resumed from checkpoint %s at batch %d", uuid, self._batches)

    # metrics
    def _reduce_training(self, acc):
        mine = {}
        for m in acc:
            for k, v in m.items():
                mine.setdefault(k, []).append(v)
        everyone = self._dist.allgather(mine)
        out = {}
        for k in sorted({k for d in everyone for k in d}):
            vals = [v for d in everyone for v in d.get(k, [])]
            out[k] = sum(vals) / len(vals)
        return out

    def _validate(self, test_mode):
        t, c = self.trial, self.context
        loader = t.build_validation_data_loader() if self._val_loader is None else self._val_loader
        self._val_loader = loader
        if not isinstance(loader, _data.DataLoader):
            raise TypeError("build_validation_data_loader must return a det.pytorch.DataLoader")
        for _, r in c._reducers:
            r.reset()
        for m in c.models:
            m.eval()
        metrics = {}
        with torch.no_grad():
            if _overrides(t, "evaluate_full_dataset") and not _overrides(t, "evaluate_batch"):
                if self._dist.rank == 0:
                    full = loader.get_eval_loader(rank=0, size=1)
                    metrics = _metric_dict(t.evaluate_full_dataset(full), "evaluate_full_dataset")
                metrics = self._dist.broadcast(metrics)
            else:
                per_batch = []
                takes_idx = len(inspect.signature(t.evaluate_batch).parameters) >= 2
                for i, batch in enumerate(loader.get_eval_loader(rank=self._dist.rank,
                                                                 size=self._dist.size)):
                    batch = c.to_device(batch)
                    m = t.evaluate_batch(batch, i) if takes_idx else t.evaluate_batch(batch)
                    per_batch.append(_metric_dict(m, "evaluate_batch"))
                    if test_mode:
                        break
                everyone = self._dist.allgather(per_batch)
                reducers = t.evaluation_reducer()
                names = sorted({k for lst in everyone for m in lst for k in m})
                for k in names:
                    r = reducers.get(k, _reducer.Reducer.AVG) if isinstance(reducers, dict) \
                        else reducers
                    metrics[k] = _reducer.reduce_values(
                        r, [m[k] for lst in everyone for m in lst if k in m])
                for name, r in c._reducers:
                    val = r.cross_slot_reduce(self._dist.allgather(r.per_slot_reduce()))
                    if isinstance(val, dict):
                        metrics.update(_metric_dict(val, "cross_slot_reduce"))
                    else:
                        metrics[name or "reduced"] = float(val)
        for m in c.models:
            m.train()
        # det-slurm's searchers read the length trained from the report (ASHA needs it)
        metrics.setdefault("batches", float(self._batches))
        if self._dist.rank == 0:
            self._core.train.report_validation_metrics(self._batches, metrics)
        self._last_val = self._batches
        return metrics

    def _is_best(self, metrics):
        name = self._searcher_metric
        if not name or name not in metrics:
            return False
        v = metrics[name]
        better = self._best is None or (v < self._best if self._smaller else v > self._best)
        if better:
            self._best = v
        return better

    def _after_validation(self, metrics, policy):
        best = self._is_best(metrics)
        if policy == "all" or (policy == "best" and best):
            self._checkpoint()

    def _step_schedulers(self, mode, count):
        for s in self.context.lr_schedulers:
            if s.step_mode == mode and count % s.frequency == 0:
                s.step()

    def fit(self, checkpoint_period=None, validation_period=None, max_length=None,
            reporting_period=None, checkpoint_policy="best", latest_checkpoint=None,
            step_zero_validation=False, test_mode=False, profiling_enabled=False):
        """Train to max_length (on-cluster default: the searcher's length, in batches),
        validating every validation_period and checkpointing every checkpoint_period and
        per checkpoint_policy ("best", "all" or "none"); resume from latest_checkpoint
        (on-cluster: the trial's latest checkpoint)."""
        if checkpoint_policy not in ("best", "all", "none"):
            raise ValueError(f"checkpoint_policy {checkpoint_policy!r}: best, all or none")
        t, c, core = self.trial, self.context, self._core
        info = c._info
        self._callbacks = t.build_callbacks() or {}
        self._val_loader = None
        train_dl = t.build_training_data_loader()
        if not isinstance(train_dl, _data.DataLoader):
            raise TypeError("build_training_data_loader must return a det.pytorch.DataLoader")
        size, rank = self._dist.size, self._dist.rank
        per_epoch = _data.batches_per_epoch(len(train_dl.dataset), train_dl.batch_size, size,
                                            train_dl.drop_last)
        if per_epoch < 1:
            raise ValueError(f"the training data ({len(train_dl.dataset)} records) is smaller than "
                             f"one global batch ({train_dl.batch_size} x {size} ranks)")
        c._epoch_len = per_epoch
        global_batch = train_dl.batch_size * size
        if reporting_period is None:
            reporting_period = Batch(100)
        length = _to_batches(max_length, "max_length", per_epoch, global_batch)
        if info is not None and info.trial.searcher_length:
            if length is not None and length != info.trial.searcher_length:
                logger.warning("max_length %d ignored: the searcher's length is %d batches",
                               length, info.trial.searcher_length)
            length = info.trial.searcher_length
        if length is None and os.environ.get("DET_SEARCHER_LENGTH"):
            length = int(os.environ["DET_SEARCHER_LENGTH"])
        if length is None:
            raise ValueError("fit: max_length is required off-cluster")
        val_every = _to_batches(validation_period, "validation_period", per_epoch, global_batch)
        ckpt_every = _to_batches(checkpoint_period, "checkpoint_period", per_epoch, global_batch)
        report_every = _to_batches(reporting_period, "reporting_period", per_epoch, global_batch)
        if test_mode:
            length = 1
        self._searcher_metric = (info.trial.searcher_metric if info else
                                 os.environ.get("DET_SEARCHER_METRIC", ""))
        self._smaller = (info.trial.smaller_is_better if info else
                         os.environ.get("DET_SMALLER_IS_BETTER", "1") != "0")
        if info is not None:
            latest_checkpoint = info.latest_checkpoint or latest_checkpoint
        if latest_checkpoint:
            self._restore(latest_checkpoint)
        for cb in self._callbacks.values():
            if hasattr(cb, "on_training_start"):
                cb.on_training_start()
        for op in core.searcher.operations():
            if step_zero_validation and self._batches == 0:
                self._validate(test_mode)
            preempted = self._train(train_dl, length, per_epoch, val_every, ckpt_every,
                                    report_every, checkpoint_policy, test_mode, op)
            if preempted:
                if self._last_ckpt_batches != self._batches:
                    self._checkpoint()
                return
            metrics = None
            if self._last_val != self._batches:
                metrics = self._validate(test_mode)
                self._is_best(metrics)
            if self._last_ckpt_batches != self._batches:
                self._checkpoint()
            if rank == 0:
                op.report_progress(self._batches)
                val = metrics.get(self._searcher_metric) if metrics else self._best
                op.report_completed(val)

    def _train(self, train_dl, length, per_epoch, val_every, ckpt_every, report_every, policy,
               test_mode, op):
        t, c, core = self.trial, self.context, self._core
        size, rank = self._dist.size, self._dist.rank
        acc = []
        for m in c.models:
            m.train()
        while self._batches < length:
            epoch, skip = divmod(self._batches, per_epoch)
            loader = train_dl.get_train_loader(rank=rank, size=size, seed=c.trial_seed,
                                               epoch=epoch, skip=skip)
            for batch in loader:
                c._batch_idx = self._batches
                if c.is_epoch_start():
                    for cb in self._callbacks.values():
                        if hasattr(cb, "on_training_epoch_start"):
                            cb.on_training_epoch_start(epoch)
                batch = c.to_device(batch)
                acc.append(_metric_dict(t.train_batch(batch, epoch, self._batches), "train_batch"))
                self._step_schedulers(LRScheduler.StepMode.STEP_EVERY_BATCH, self._batches + 1)
                end_of_epoch = c.is_epoch_end()
                if end_of_epoch:
                    self._step_schedulers(LRScheduler.StepMode.STEP_EVERY_EPOCH, epoch + 1)
                self._batches += 1
                if self._batches % report_every == 0 or self._batches == length:
                    metrics = self._reduce_training(acc)
                    acc = []
                    if rank == 0:
                        core.train.report_training_metrics(self._batches, metrics)
                        op.report_progress(self._batches)
                if val_every and self._batches % val_every == 0:
                    self._after_validation(self._validate(test_mode), policy)
                if ckpt_every and self._batches % ckpt_every == 0 and \
                        self._last_ckpt_batches != self._batches:
                    self._checkpoint()
                if self._batches >= length:
                    break
                if core.preempt.should_preempt():
                    return True
        return False


def _unwrap(model):
    return model.module if isinstance(model, torch.nn.parallel.DistributedDataParallel) else model


def load_trial_from_checkpoint_path(path, trial_class=None, trial_kwargs=None,
                                    torch_load_kwargs=None):
    """The trial of a checkpoint directory, its models loaded (off-cluster, one process).

    trial_class defaults to the class named in the checkpoint's load_data.json,
    which must then be importable."""
    path = os.fspath(path)
    with open(os.path.join(path, LOAD_DATA_FILE), encoding="utf-8") as f:
        load = json.load(f)
    if trial_class is None:
        import importlib

        mod, _, qual = load["trial_cls_spec"].partition(":")
        obj = importlib.import_module(mod)
        for part in qual.split("."):
            obj = getattr(obj, part)
        trial_class = obj
    from determined.core._distributed import DummyDistributedContext

    core = det.core.init(distributed=DummyDistributedContext()).context
    ctx = PyTorchTrialContext(core, load.get("hparams", {}), trial_seed=load.get("trial_seed", 0),
                              device=torch.device("cpu"))
    ctx._info = None
    trial = trial_class(ctx, **(trial_kwargs or {}))
    state = torch.load(os.path.join(path, STATE_FILE), map_location="cpu",
                       **(torch_load_kwargs or {}))
    for m, s in zip(ctx.models, state["models_state_dict"]):
        _unwrap(m).load_state_dict(s)
    for m in ctx.models:
        m.eval()
    return trial
