# SPDX-License-Identifier: GPL-2.0-or-later
"""``python3 -m determined.exec.harness MODULE:CLASS``: the legacy entrypoint form.

Imports MODULE from the working directory (the experiment's model
directory), checks CLASS is a PyTorchTrial and runs it through
``det.pytorch.Trainer`` to the searcher's length, as Determined does for
``entrypoint: model_def:Trial``. The periods come from the hyperparameters
``min_validation_period`` and ``min_checkpoint_period`` (batches) when set,
else validation and a checkpoint happen at the end. Under det-launch the rank
variables are completed as determined.launch.torch_distributed does."""

import importlib
import logging
import os
import re
import sys

_SPEC = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*):"
                   r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)$")


def load_trial_class(spec):
    """The class named by MODULE:CLASS; ValueError naming what is wrong."""
    m = _SPEC.match(spec)
    if not m:
        raise ValueError(f"entrypoint {spec!r}: expected MODULE:CLASS")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj = importlib.import_module(m.group(1))
    except ImportError as e:
        raise ValueError(f"entrypoint {spec!r}: cannot import {m.group(1)}: {e}") from None
    for part in m.group(2).split("."):
        if not hasattr(obj, part):
            raise ValueError(f"entrypoint {spec!r}: {m.group(1)} has no {m.group(2)}")
        obj = getattr(obj, part)
    import determined.pytorch as dpt

    if not isinstance(obj, type) or not issubclass(obj, dpt.PyTorchTrial):
        raise ValueError(f"entrypoint {spec!r}: not a det.pytorch.PyTorchTrial subclass "
                         "(only PyTorchTrial is supported: see doc/frameworks.md)")
    return obj


def _period(hparams, name):
    v = hparams.get(name)
    return int(v) if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None


def main(argv):
    if len(argv) != 1:
        sys.stderr.write("usage: python3 -m determined.exec.harness MODULE:CLASS\n")
        return 2
    import determined as det

    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    try:
        cls = load_trial_class(argv[0])
    except ValueError as e:
        sys.stderr.write(f"determined.exec.harness: {e}\n")
        return 2
    import determined.pytorch as dpt
    from determined.launch import torch_distributed

    # Determined runs this form under its torch_distributed launcher: the
    # trial sees the same variables (GROUP_RANK, ...) as in that form.
    if os.environ.get("DET_RANK") or os.environ.get("RANK"):
        os.environ.update(torch_distributed.rank_env(os.environ))
    with dpt.init() as ctx:
        hp = ctx.get_hparams()
        trial = cls(ctx)
        dpt.Trainer(trial, ctx).fit(validation_period=_period(hp, "min_validation_period"),
                                    checkpoint_period=_period(hp, "min_checkpoint_period"),
                                    max_length=_period(hp, "max_length"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
