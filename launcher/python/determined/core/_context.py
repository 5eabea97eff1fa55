# SPDX-License-Identifier: GPL-2.0-or-later
"""``det.core.init()``: builds the contexts from the environment.

On-cluster (DET_MASTER set) reports go to det-master with the trial token;
off-cluster they are JSON lines under DET_LOCAL_DIR (default ./det-local),
the same layout libdetcore writes."""

import os

from determined import _http, _info
from determined.core._checkpoint import CheckpointContext
from determined.core._distributed import DistributedContext, DummyDistributedContext
from determined.core._preempt import PreemptContext, PreemptMode
from determined.core._searcher import SearcherContext
from determined.core._train import TrainContext


class _Sink:
    """Where reports go: det-master, or files under the local directory."""

    def __init__(self, info, local_dir):
        self.info = info
        self.local_dir = local_dir
        self.session = None
        if info is not None:
            self.session = _http.Session(info.master_url, info.session_token)

    @property
    def off_cluster(self):
        return self.session is None

    def trial_post(self, what, body):
        return self.session.post(f"/trials/{self.info.trial.trial_id}/{what}", body)

    def local_append(self, name, record):
        import json

        os.makedirs(self.local_dir, exist_ok=True)
        with open(os.path.join(self.local_dir, name), "a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")


class Context:
    """What ``det.core.init()`` yields: train, checkpoint, preempt, searcher, distributed."""

    def __init__(self, info, distributed, train, checkpoint, preempt, searcher):
        self.info = info
        self.distributed = distributed
        self.train = train
        self.checkpoint = checkpoint
        self.preempt = preempt
        self.searcher = searcher

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        self.distributed.close()


_REMOTE_SCHEMES = ("s3://", "gs://", "gcs://", "azure://", "hdfs://")
_REMOTE_TYPES = ("s3", "gcs", "azure", "hdfs")


def _refuse_remote(where, value):
    if isinstance(value, str) and value.lower().startswith(_REMOTE_SCHEMES):
        raise ValueError(f"{where} {value!r}: cloud storage is not supported by det-slurm; "
                         "use a directory on a shared file system")


def _storage_dir(checkpoint_storage, info, local_dir):
    if checkpoint_storage is not None:
        if isinstance(checkpoint_storage, str):
            _refuse_remote("checkpoint_storage", checkpoint_storage)
            return checkpoint_storage
        if isinstance(checkpoint_storage, dict):
            if checkpoint_storage.get("type") in _REMOTE_TYPES:
                raise ValueError(f"checkpoint_storage type {checkpoint_storage['type']!r} is not "
                                 "supported by det-slurm (use shared_fs or directory)")
            for key in ("host_path", "container_path", "storage_path"):
                _refuse_remote(f"checkpoint_storage {key}", checkpoint_storage.get(key))
            host = checkpoint_storage.get("host_path") or checkpoint_storage.get("container_path")
            if not host:
                raise ValueError("checkpoint_storage: needs host_path")
            sub = checkpoint_storage.get("storage_path") or ""
            return os.path.join(host, sub) if sub else host
        raise TypeError("checkpoint_storage: a path or a shared_fs dict")
    if info is not None and info.checkpoint_dir:
        return info.checkpoint_dir
    return os.environ.get("DET_CHECKPOINT_DIR") or os.path.join(local_dir, "checkpoints")


def _default_distributed():
    if int(os.environ.get("DET_SIZE", "1") or "1") > 1:
        return DistributedContext.from_det_environment()
    return DummyDistributedContext()


class _Init:
    """The context manager det.core.init() returns (also usable as a plain value)."""

    def __init__(self, distributed=None, checkpoint_storage=None, preempt_mode=None,
                 storage_path=None, tensorboard_mode=None, **_ignored):
        if storage_path is not None:
            _refuse_remote("storage_path", str(storage_path))
            if checkpoint_storage is None:
                checkpoint_storage = str(storage_path)
        info = _info.get_cluster_info()
        local_dir = os.environ.get("DET_LOCAL_DIR") or "det-local"
        if distributed is None:
            distributed = _default_distributed()
        sink = _Sink(info, local_dir)
        mode = preempt_mode if preempt_mode is not None else PreemptMode.WorkersAskChief
        preempt = PreemptContext(sink, distributed, mode)
        train = TrainContext(sink, distributed, preempt)
        checkpoint = CheckpointContext(sink, distributed, _storage_dir(checkpoint_storage, info, local_dir))
        searcher = SearcherContext(sink, distributed, info)
        self.context = Context(info, distributed, train, checkpoint, preempt, searcher)

    def __enter__(self):
        return self.context

    def __exit__(self, *exc):
        self.context.close()
        return False

    def __getattr__(self, name):
        return getattr(self.context, name)


def init(*, distributed=None, checkpoint_storage=None, preempt_mode=None, storage_path=None,
         **kwargs):
    """Create the Core API context; use it as ``with det.core.init() as core_context:``.
    s3://, gs:// and azure:// storage is refused with ValueError."""
    return _Init(distributed=distributed, checkpoint_storage=checkpoint_storage,
                 preempt_mode=preempt_mode, storage_path=storage_path, **kwargs)
