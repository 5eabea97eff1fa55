# SPDX-License-Identifier: GPL-2.0-or-later
"""A probe for tests/slurm/pytorch.sh, put on a trial's PYTHONPATH so that the
trial code runs unmodified: when determined.pytorch's Trainer has finished
fit(), the training process writes, into $PROBE_OUT, env-RANK.json (the
torch.distributed variables it ran with, its host and Slurm node) and
weights-RANK.bin (its model's parameters and buffers, as raw bytes)."""

import importlib.abc
import importlib.util
import json
import os
import socket
import sys

VARS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT",
        "GROUP_RANK", "GROUP_WORLD_SIZE", "GLOO_SOCKET_IFNAME", "SLURMD_NODENAME", "SLURM_PROCID",
        "SLURM_LAUNCH_NODE_IPADDR")


def _dump(trainer):
    out, rank = os.environ["PROBE_OUT"], trainer.context.distributed.rank
    env = {k: os.environ.get(k) for k in VARS}
    env["hostname"] = socket.gethostname()
    env["torch_rank"] = rank
    env["torch_world_size"] = trainer.context.distributed.size
    with open(os.path.join(out, f"env-{rank}.json"), "w", encoding="utf-8") as f:
        json.dump(env, f, sort_keys=True)
    blobs = []
    for model in trainer.context.models:
        model = getattr(model, "module", model)
        blobs += [t.detach().cpu().numpy().tobytes() for t in model.state_dict().values()]
    with open(os.path.join(out, f"weights-{rank}.bin"), "wb") as f:
        f.write(b"".join(blobs))


def _patch(module):
    fit = module.Trainer.fit

    def fit_and_dump(self, *args, **kwargs):
        result = fit(self, *args, **kwargs)
        _dump(self)
        return result

    module.Trainer.fit = fit_and_dump


class _Finder(importlib.abc.MetaPathFinder):
    """Patches determined.pytorch._trainer once it is loaded (torch is not
    imported here: processes that never train stay fast)."""

    def find_spec(self, name, path, target=None):
        if name != "determined.pytorch._trainer":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            _patch(module)

        loader.exec_module = exec_and_patch
        return spec


if os.environ.get("PROBE_OUT"):
    sys.meta_path.insert(0, _Finder())
