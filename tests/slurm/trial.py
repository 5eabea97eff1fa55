#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A tiny trial for the Slurm fault tests, on the Core API (the determined
package that det-launch puts on PYTHONPATH): a counter that takes one step
every STEP_SECONDS (hyperparameter step_seconds, default 0.1), checkpoints
its count every step, reports a validation metric every step, stops when
asked to preempt, and resumes from its latest checkpoint. It logs
"resumed at step N" on a resumed run and "preempted at step N" when it
stops early, which the tests look for in the trial's logs.

With hyperparameter crash_at=K (or case=crash: K=5) it exits with status 3
at step K on its first run (no checkpoint to resume from), to test restarts.
"""
import json
import logging
import pathlib
import sys
import time

import determined as det


def main(core):
    info = det.get_cluster_info()
    hp = info.trial.hparams
    pause = float(hp.get("step_seconds", 0.1))
    crash_at = int(hp.get("crash_at", 5 if hp.get("case") == "crash" else 0))
    steps = 0
    if info.latest_checkpoint:
        with core.checkpoint.restore_path(info.latest_checkpoint) as path:
            steps = json.loads((pathlib.Path(path) / "state.json").read_text())["steps"]
        logging.info("resumed at step %d", steps)
    for op in core.searcher.operations():
        while steps < op.length:
            time.sleep(pause)
            steps += 1
            if crash_at and steps == crash_at and not info.latest_checkpoint:
                logging.info("crashing at step %d", steps)
                sys.exit(3)
            with core.checkpoint.store_path({"steps_completed": steps}) as (path, _):
                (pathlib.Path(path) / "state.json").write_text(json.dumps({"steps": steps}))
            core.train.report_validation_metrics(
                steps_completed=steps, metrics={"validation_loss": 1.0 / steps})
            op.report_progress(steps)
            if core.preempt.should_preempt():
                logging.info("preempted at step %d", steps)
                return
        op.report_completed(1.0 / max(steps, 1))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    with det.core.init() as core_context:
        main(core_context)
