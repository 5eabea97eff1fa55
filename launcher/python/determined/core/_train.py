# SPDX-License-Identifier: GPL-2.0-or-later
"""Metrics and progress reports (``core_context.train``)."""

import enum
import logging
import math
import numbers
import os
import pathlib

logger = logging.getLogger("determined.core")


class TensorboardMode(enum.Enum):
    """AUTO: det-master writes every reported metric as TensorBoard events.
    MANUAL: the same (det-master always does); files the trial writes itself
    into get_tensorboard_path() are kept next to them."""

    AUTO = "AUTO"
    MANUAL = "MANUAL"


class EarlyExitReason(enum.Enum):
    INVALID_HP = "INVALID_HP"
    ERRORED = "ERRORED"
    USER_REQUESTED_STOP = "USER_REQUESTED_STOP"


def _clean_metrics(metrics):
    if not isinstance(metrics, dict):
        raise TypeError("metrics: expected a dict of name -> number")
    out = {}
    for k, v in metrics.items():
        if not isinstance(k, str) or not k:
            raise ValueError(f"metric name {k!r}: not a non-empty string")
        if hasattr(v, "item") and not isinstance(v, numbers.Number):
            v = v.item()  # numpy / torch scalars
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"metric {k}: {v!r} is not a number")
        v = float(v)
        if not math.isfinite(v):
            raise ValueError(f"metric {k}: {v} is not finite")
        out[k] = v
    return out


class TrainContext:
    """Reports training and validation metrics, progress and early exits."""

    def __init__(self, sink, distributed, preempt):
        self._sink = sink
        self._dist = distributed
        self._preempt = preempt
        self._warned = False

    def _chief_only(self, what):
        if self._dist.rank == 0:
            return True
        if not self._warned:
            logger.warning("%s is ignored on rank %d: only the chief reports", what, self._dist.rank)
            self._warned = True
        return False

    def _report(self, group, steps_completed, metrics):
        if not self._chief_only(f"report_{group}_metrics"):
            return
        if not isinstance(steps_completed, int) or steps_completed < 0:
            raise ValueError(f"steps_completed {steps_completed!r}: not a non-negative int")
        body = {"group": group, "steps_completed": steps_completed,
                "metrics": _clean_metrics(metrics)}
        if self._sink.off_cluster:
            self._sink.local_append("metrics.jsonl", body)
            return
        answer = self._sink.trial_post("metrics", body)
        if answer.get("stop") or answer.get("preempt"):
            self._preempt._note_master_says_stop()

    def report_training_metrics(self, steps_completed, metrics, batch_metrics=None):
        self._report("training", steps_completed, metrics)

    def report_validation_metrics(self, steps_completed, metrics):
        self._report("validation", steps_completed, metrics)

    def report_metrics(self, group, steps_completed, metrics):
        if group not in ("training", "validation"):
            raise ValueError(f"metrics group {group!r}: training or validation")
        self._report(group, steps_completed, metrics)

    def report_progress(self, progress):
        if not self._chief_only("report_progress"):
            return
        progress = float(progress)
        if not 0.0 <= progress <= 1.0:
            raise ValueError(f"progress {progress}: not within [0, 1]")
        if self._sink.off_cluster:
            self._sink.local_append("progress.jsonl", {"progress": progress})
        else:
            self._sink.trial_post("progress", {"progress": progress})

    def report_early_exit(self, reason):
        if not self._chief_only("report_early_exit"):
            return
        reason = EarlyExitReason(reason.value if isinstance(reason, EarlyExitReason) else reason)
        info = self._sink.info
        if info is not None and info.early_exit_file:
            with open(info.early_exit_file, "w", encoding="utf-8") as f:
                f.write(reason.value + "\n")
        if self._sink.off_cluster:
            self._sink.local_append("early_exit.jsonl", {"reason": reason.value})
        else:
            self._sink.trial_post("early_exit", {"reason": reason.value})

    def get_experiment_best_validation(self):
        return None

    def get_tensorboard_path(self):
        """The trial's TensorBoard directory (created): on-cluster
        <checkpoint_dir>/tensorboard/experiment_<E>/trial_<T>, where det-master
        writes the trial's metrics too (doc/tensorboard.md); off-cluster
        <local_dir>/tensorboard."""
        info = self._sink.info
        if info is not None and info.checkpoint_dir:
            path = os.path.join(info.checkpoint_dir, "tensorboard",
                                f"experiment_{info.trial.experiment_id}",
                                f"trial_{info.trial.trial_id}")
        else:
            path = os.path.join(self._sink.local_dir, "tensorboard")
        os.makedirs(path, exist_ok=True)
        return pathlib.Path(path)

    def upload_tensorboard_files(self, selector=lambda _: True, mangler=lambda p, rank: p):
        """The TensorBoard directory already is on the shared checkpoint storage, so
        nothing is copied: files that selector(path) picks are renamed to
        mangler(path, rank) (relative to that directory) when it differs. The
        relative paths kept."""
        root = self.get_tensorboard_path()
        moves = []
        for dirpath, _, names in os.walk(root):
            for name in sorted(names):
                rel = pathlib.Path(os.path.relpath(os.path.join(dirpath, name), root))
                if not selector(rel):
                    continue
                new = pathlib.Path(mangler(rel, self._dist.rank))
                if new.is_absolute() or ".." in new.parts:
                    raise ValueError(f"upload_tensorboard_files: {new} leaves the directory")
                moves.append((rel, new))
        for rel, new in moves:  # all names checked before anything moves
            if new != rel:
                os.makedirs((root / new).parent, exist_ok=True)
                os.replace(root / rel, root / new)
        return [new for _, new in moves]
