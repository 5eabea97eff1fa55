# SPDX-License-Identifier: GPL-2.0-or-later
"""Preemption (``core_context.preempt``): the trial asks whether to stop now.

Four sources say yes: det-launch's preempt file (a SIGTERM/SIGUSR1 to the
job, or the master's signals long poll, which det-launch holds), a SIGTERM
to the trial itself under det-launch, a metrics answer with stop or preempt,
and, without det-launch, an occasional poll of the master's signals. The chief decides and tells the workers, so all ranks
agree (call it from every rank, as in Determined)."""

import enum
import os
import signal
import threading
import time

SIGNAL_POLL_SECONDS = 10


class PreemptMode(enum.Enum):
    WorkersAskChief = "WORKERS_ASK_CHIEF"
    ChiefOnly = "CHIEF_ONLY"
    ExplicitWorkers = "EXPLICIT_WORKERS"


class PreemptContext:
    def __init__(self, sink, distributed, mode=PreemptMode.WorkersAskChief):
        self._sink = sink
        self._dist = distributed
        self._mode = mode
        self._flag = False
        self._last_poll = 0.0
        info = sink.info
        self._file = (info.preempt_file if info else None) or os.environ.get("DET_PREEMPT_FILE")
        if self._file:
            self._catch_sigterm()

    def _catch_sigterm(self):
        """Under det-launch, SIGTERM to the trial itself is a preemption request
        too: Slurm sends it to every process of a step that it requeues or
        preempts, not only to det-launch. Only where nobody else handles it."""
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
                signal.signal(signal.SIGTERM, self._on_sigterm)
        except (ValueError, OSError):
            pass

    def _on_sigterm(self, signum, frame):
        self._flag = True

    def _note_master_says_stop(self):
        self._flag = True

    def _local_check(self):
        if self._flag:
            return True
        if self._file:
            if os.path.exists(self._file):
                self._flag = True
        elif not self._sink.off_cluster and time.monotonic() - self._last_poll > SIGNAL_POLL_SECONDS:
            self._last_poll = time.monotonic()
            try:
                tid = self._sink.info.trial.trial_id
                ans = self._sink.session.get(f"/trials/{tid}/signals?timeout_seconds=0",
                                             retry_seconds=0)
                self._flag = bool(ans.get("stop") or ans.get("preempt"))
            except Exception:  # an unreachable master is not a reason to stop
                pass
        return self._flag

    def should_preempt(self, auto_ack=True):
        """True when the trial should checkpoint and exit now."""
        if self._dist.size == 1 or self._mode == PreemptMode.ExplicitWorkers:
            return self._local_check()
        if self._mode == PreemptMode.ChiefOnly and self._dist.rank != 0:
            raise RuntimeError("should_preempt: only the chief may ask in ChiefOnly mode")
        decision = self._local_check() if self._dist.rank == 0 else None
        if self._mode == PreemptMode.ChiefOnly:
            return decision
        return bool(self._dist.broadcast(decision))

    def acknowledge_preemption_signal(self):
        pass
