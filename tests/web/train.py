# SPDX-License-Identifier: GPL-2.0-or-later
"""The web UI tests' trial: a few quick "training" steps through the Core API
of the `determined` package, run by the real det-launch. Each step reports
training and validation metrics that depend on the hyperparameter lr,
prints a log line, saves a checkpoint that grows by 4 KiB a step, and honours
preemption (pause), resuming from its latest checkpoint.
WEB_SLEEP (environment) is the time per step in seconds; WEB_TIME_METRIC, when
set, names a validation metric that carries the steps (adaptive ASHA's time metric).
WEB_HOLD, when set, names a file: while it exists, a trial that has completed
WEB_HOLD_STEP steps (default 4) waits before its next step, still honouring
preemption. The browser test holds its search there until it has looked at
running trials, so that a slow machine cannot finish the search first.
"""
import json
import logging
import os
import pathlib
import time

import determined as det


def main(core):
    info = det.get_cluster_info()
    lr = float(info.trial.hparams.get("lr", 0.01))
    pause = float(os.environ.get("WEB_SLEEP", "0.3"))
    hold = os.environ.get("WEB_HOLD")
    hold_step = int(os.environ.get("WEB_HOLD_STEP", "4"))
    steps = 0
    if info.latest_checkpoint:
        with core.checkpoint.restore_path(info.latest_checkpoint) as path:
            steps = json.loads((pathlib.Path(path) / "state.json").read_text())["steps"]
    print(f"trial {info.trial.trial_id}: training from step {steps}, lr={lr}", flush=True)
    val = None
    for op in core.searcher.operations():
        while steps < op.length:
            steps += 1
            loss = 2 / (1 + steps * (1 + 50 * lr))
            val = 2.2 / (1 + steps * (1 + 40 * lr)) + 0.05
            core.train.report_training_metrics(steps_completed=steps, metrics={"loss": loss})
            vm = {"val_loss": val, "accuracy": 1 - val / 2.5}
            if os.environ.get("WEB_TIME_METRIC"):
                vm[os.environ["WEB_TIME_METRIC"]] = steps
            core.train.report_validation_metrics(steps_completed=steps, metrics=vm)
            print(f"step {steps}: loss={loss:.6f} val_loss={val:.6f}", flush=True)
            op.report_progress(steps)
            with core.checkpoint.store_path({"steps_completed": steps}) as (path, _):
                state = {"steps": steps, "pad": "x" * (4096 * steps)}
                (pathlib.Path(path) / "state.json").write_text(json.dumps(state))
            held = False
            while True:
                if core.preempt.should_preempt():
                    print(f"preempted at step {steps}", flush=True)
                    return
                if not (hold and steps >= hold_step and os.path.exists(hold)):
                    break
                if not held:
                    print(f"holding at step {steps}", flush=True)
                    held = True
                time.sleep(0.2)
            time.sleep(pause)
        op.report_completed(val)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    with det.core.init() as core_context:
        main(core_context)
