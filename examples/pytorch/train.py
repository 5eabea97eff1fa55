# SPDX-License-Identifier: GPL-2.0-or-later
"""A small CNN on Fashion-MNIST with PyTorch (Debian's python3-torch), through
the Determined Core API. With several slots it trains data parallel with
torch.distributed (gloo) from the environment det-launch sets.

Off-cluster: /usr/bin/python3 train.py (metrics and checkpoints in ./det-local).
"""

import gzip
import logging
import os
import pathlib

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

import determined as det

DATA = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def read_idx(name, offset):
    with gzip.open(os.path.join(DATA, name)) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load(hp):
    x = read_idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    y = read_idx("train-labels-idx1-ubyte.gz", 8)
    order = np.random.default_rng(20240917).permutation(len(x))  # the same split for every trial
    nv, nt = int(hp.get("validation_examples", 10000)), int(hp.get("train_examples", 50000))
    val, train = order[:nv], order[nv:nv + nt]
    tx = read_idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)
    ty = read_idx("t10k-labels-idx1-ubyte.gz", 8)

    def tensors(xs, ys):
        return torch.from_numpy(xs.astype(np.float32) / 255.0), torch.from_numpy(ys.astype(np.int64))

    return tensors(x[train], y[train]), tensors(x[val], y[val]), tensors(tx, ty)


class Net(nn.Module):
    def __init__(self, c1, c2):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c1, 5, padding=2)
        self.conv2 = nn.Conv2d(c1, c2, 5, padding=2)
        self.fc = nn.Linear(c2 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc(torch.flatten(x, 1))


def evaluate(model, data, batch=1000):
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(data[0]), batch):
            out = model(data[0][i:i + batch])
            loss += F.cross_entropy(out, data[1][i:i + batch], reduction="sum").item()
            correct += (out.argmax(1) == data[1][i:i + batch]).sum().item()
    model.train()
    n = len(data[0])
    return loss / n, correct / n


def main(core, hp, info):
    rank, size = core.distributed.rank, core.distributed.size
    torch.manual_seed(info.trial.trial_seed if info else 0)
    (x, y), val, test = load(hp)
    net = Net(int(hp.get("conv1", 16)), int(hp.get("conv2", 32)))
    opt = torch.optim.SGD(net.parameters(), lr=float(hp["learning_rate"]),
                          momentum=float(hp.get("momentum", 0.9)))
    steps = 0
    latest = info.latest_checkpoint if info else os.environ.get("DET_LATEST_CHECKPOINT") or None
    if latest:
        with core.checkpoint.restore_path(latest) as path:
            state = torch.load(pathlib.Path(path) / "state.pt")
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        steps = state["steps"]
        torch.set_rng_state(state["rng"])
        logging.info("resumed from %s at batch %d", latest, steps)
    model = nn.parallel.DistributedDataParallel(net) if size > 1 else net
    batch = int(hp["batch_size"])
    period = int(hp.get("validation_period", 200))
    per_epoch = len(x) // (batch * size)
    for op in core.searcher.operations():
        while steps < op.length:
            epoch, k = divmod(steps, per_epoch)
            perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(epoch))
            idx = perm[(k * size + rank) * batch:(k * size + rank + 1) * batch]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
            if steps % 50 == 0:
                core.train.report_training_metrics(steps, {"loss": loss.item(), "batches": steps})
            done = steps == op.length
            if steps % period == 0 or done:
                vl, va = evaluate(net, val)
                metrics = {"validation_loss": vl, "validation_accuracy": va, "batches": steps}
                if done:
                    metrics["test_loss"], metrics["test_accuracy"] = evaluate(net, test)
                core.train.report_validation_metrics(steps, metrics)
                if rank == 0:
                    op.report_progress(steps)
                    with core.checkpoint.store_path({"steps_completed": steps}) as (path, _):
                        torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(),
                                    "steps": steps, "rng": torch.get_rng_state()},
                                   pathlib.Path(path) / "state.pt")
                logging.info("batch %d: validation loss %.4f accuracy %.4f", steps, vl, va)
                if not done and core.preempt.should_preempt():
                    return
        if rank == 0:
            op.report_completed(vl)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
    info = det.get_cluster_info()
    hp = info.trial.hparams if info else {"learning_rate": 0.05, "batch_size": 64}
    distributed = None
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dist.init_process_group("gloo")
        distributed = det.core.DistributedContext.from_torch_distributed()
    with det.core.init(distributed=distributed) as core_context:
        main(core_context, hp, info)
