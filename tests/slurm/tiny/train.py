# SPDX-License-Identifier: GPL-2.0-or-later
"""A tiny trial for the Slurm tests: counts batches (sleeping hparam `sleep`
seconds each), validates and checkpoints every `period` batches, resumes from
its latest checkpoint and stops when asked to (preemption, pause). With
TINY_RANK_DIR set, every rank leaves a file TRIAL-RANK there holding its node;
with TINY_ENV_DIR, one holding "TMPDIR MODE-OF-TMPDIR MASTER_PORT CPUS" (CPUS:
Cpus_allowed_list of /proc/self/status)."""
import json
import os
import pathlib
import time

import determined as det


def main(core):
    info = det.get_cluster_info()
    hp = info.trial.hparams
    x, pause, period = float(hp.get("x", 1)), float(hp.get("sleep", 0)), int(hp.get("period", 5))
    steps, loss = 0, None
    rank = core.distributed.rank
    if os.environ.get("TINY_RANK_DIR"):
        path = pathlib.Path(os.environ["TINY_RANK_DIR"]) / f"{info.trial.trial_id}-{rank}"
        path.write_text(os.environ.get("SLURMD_NODENAME", "?"))
    if os.environ.get("TINY_ENV_DIR"):
        tmp = os.environ.get("TMPDIR", "")
        mode = oct(os.stat(tmp).st_mode & 0o7777) if tmp and os.path.isdir(tmp) else "-"
        path = pathlib.Path(os.environ["TINY_ENV_DIR"]) / f"{info.trial.trial_id}-{rank}"
        cpus = [l.split()[1] for l in open("/proc/self/status") if l.startswith("Cpus_allowed_list")]
        path.write_text(f"{tmp} {mode} {os.environ.get('MASTER_PORT', '')} {cpus[0]}")
    if info.latest_checkpoint:
        with core.checkpoint.restore_path(info.latest_checkpoint) as path:
            steps = json.loads((pathlib.Path(path) / "state.json").read_text())["steps"]
    for op in core.searcher.operations():
        while steps < op.length:
            time.sleep(pause)
            steps += 1
            if steps % period == 0 or steps == op.length:
                loss = (x - 0.3) ** 2 + 1.0 / steps
                if rank == 0:
                    core.train.report_validation_metrics(steps_completed=steps,
                                                         metrics={"loss": loss})
                    op.report_progress(steps)
                    with core.checkpoint.store_path({"steps_completed": steps}) as (path, _):
                        (pathlib.Path(path) / "state.json").write_text(
                            json.dumps({"steps": steps}))
                if core.preempt.should_preempt():
                    return
        if rank == 0:
            op.report_completed(loss)


if __name__ == "__main__":
    with det.core.init() as core_context:
        main(core_context)
