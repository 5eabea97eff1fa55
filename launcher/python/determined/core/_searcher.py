# SPDX-License-Identifier: GPL-2.0-or-later
"""The searcher's view for this trial (``core_context.searcher``).

det-slurm's searchers decide by stopping trials (the metrics answer), so a
trial gets one operation: train to its full length, reporting progress;
ASHA's stop arrives through should_preempt()."""

import enum


class SearcherMode(enum.Enum):
    WorkersAskChief = "WORKERS_ASK_CHIEF"
    ChiefOnly = "CHIEF_ONLY"


class SearcherOperation:
    def __init__(self, ctx, length, is_chief):
        self._ctx = ctx
        self._length = length
        self._is_chief = is_chief
        self._completed = False

    @property
    def length(self):
        return self._length

    def report_progress(self, length):
        """Units of this operation completed so far (progress = length / op.length)."""
        if not self._is_chief:
            raise RuntimeError("report_progress: only the chief reports")
        if self._length > 0:
            self._ctx._train_progress(min(max(float(length) / self._length, 0.0), 1.0))

    def report_completed(self, searcher_metric=None):
        if not self._is_chief:
            raise RuntimeError("report_completed: only the chief reports")
        self._completed = True
        self._ctx._train_progress(1.0)


class SearcherContext:
    def __init__(self, sink, distributed, info):
        self._sink = sink
        self._dist = distributed
        length = info.trial.searcher_length if info else 0
        if not length:
            import os

            length = int(os.environ.get("DET_SEARCHER_LENGTH", "0") or "0") or 1
        self._length = length
        self._unit = info.trial.searcher_unit if info else "batches"

    def _train_progress(self, fraction):
        body = {"progress": fraction}
        if self._sink.off_cluster:
            self._sink.local_append("progress.jsonl", body)
        else:
            self._sink.trial_post("progress", body)

    def operations(self, searcher_mode=SearcherMode.WorkersAskChief, auto_ack=True):
        """Yield this trial's operation(s)."""
        op = SearcherOperation(self, self._length, self._dist.rank == 0)
        yield op
        if op._is_chief and not op._completed:
            raise RuntimeError("the searcher operation was not completed: call report_completed()")

    def acknowledge_out_of_ops(self):
        pass

    def get_configured_units(self):
        return self._unit
