# SPDX-License-Identifier: GPL-2.0-or-later
"""A Determined Core API script in plain Python (standard library only): a
softmax-regression classifier on Fashion-MNIST trained with SGD. It uses only
what Determined's Core API offers, so the same file runs under Determined.

Off-cluster: python3 train.py (metrics and checkpoints go to ./det-local).
"""

import gzip
import json
import logging
import math
import os
import pathlib
import random
import struct

import determined as det

DATA = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def load(kind, limit):
    with gzip.open(os.path.join(DATA, f"{kind}-images-idx3-ubyte.gz")) as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 0x803 or rows * cols != 784:
            raise ValueError(f"{kind} images: not an IDX image file")
        n = min(n, limit)
        pix = f.read(n * 784)
    with gzip.open(os.path.join(DATA, f"{kind}-labels-idx1-ubyte.gz")) as f:
        magic, m = struct.unpack(">II", f.read(8))
        if magic != 0x801:
            raise ValueError(f"{kind} labels: not an IDX label file")
        labels = f.read(n)
    # 4x4 average pooling: 49 features keep pure Python fast enough
    xs = []
    for i in range(n):
        img = pix[i * 784:(i + 1) * 784]
        feats = []
        for by in range(0, 28, 4):
            for bx in range(0, 28, 4):
                s = 0
                for y in range(by, by + 4):
                    row = y * 28
                    s += sum(img[row + bx:row + bx + 4])
                feats.append(s / (16 * 255.0))
        xs.append(feats)
    return xs, list(labels)


class Model:
    def __init__(self, seed):
        rnd = random.Random(seed)
        self.w = [[rnd.gauss(0, 0.01) for _ in range(49)] for _ in range(10)]
        self.b = [0.0] * 10

    def probs(self, x):
        z = [sum(wi * xi for wi, xi in zip(w, x)) + b for w, b in zip(self.w, self.b)]
        m = max(z)
        e = [math.exp(v - m) for v in z]
        s = sum(e)
        return [v / s for v in e]

    def step(self, xs, ys, lr):
        gw = [[0.0] * 49 for _ in range(10)]
        gb = [0.0] * 10
        loss = 0.0
        for x, y in zip(xs, ys):
            p = self.probs(x)
            loss -= math.log(max(p[y], 1e-12))
            for c in range(10):
                d = p[c] - (1.0 if c == y else 0.0)
                gb[c] += d
                row = gw[c]
                for j in range(49):
                    row[j] += d * x[j]
        k = lr / len(xs)
        for c in range(10):
            self.b[c] -= k * gb[c]
            for j in range(49):
                self.w[c][j] -= k * gw[c][j]
        return loss / len(xs)

    def evaluate(self, xs, ys):
        loss, ok = 0.0, 0
        for x, y in zip(xs, ys):
            p = self.probs(x)
            loss -= math.log(max(p[y], 1e-12))
            ok += max(range(10), key=p.__getitem__) == y
        return loss / len(xs), ok / len(xs)


def main(core):
    info = det.get_cluster_info()
    hp = info.trial.hparams if info else {"learning_rate": 0.5, "batch_size": 32}
    lr, batch = float(hp["learning_rate"]), int(hp["batch_size"])
    if lr <= 0 or batch < 1:
        core.train.report_early_exit(det.core.EarlyExitReason.INVALID_HP)
        return
    xs, ys = load("train", int(hp.get("examples", 6000)))
    split = len(xs) // 6
    vx, vy, tx, ty = xs[:split], ys[:split], xs[split:], ys[split:]
    model = Model(info.trial.trial_seed if info else 0)
    steps = 0
    latest = info.latest_checkpoint if info else None
    if latest:
        with core.checkpoint.restore_path(latest) as path:
            state = json.loads((pathlib.Path(path) / "state.json").read_text())
        model.w, model.b, steps = state["w"], state["b"], state["steps"]
        logging.info("resumed at batch %d from %s", steps, latest)
    period = int(hp.get("validation_period", 50))
    for op in core.searcher.operations():
        while steps < op.length:
            i = (steps * batch) % (len(tx) - batch)
            loss = model.step(tx[i:i + batch], ty[i:i + batch], lr)
            steps += 1
            if steps % 10 == 0:
                core.train.report_training_metrics(steps_completed=steps, metrics={"loss": loss})
            if steps % period == 0 or steps == op.length:
                vl, va = model.evaluate(vx, vy)
                core.train.report_validation_metrics(
                    steps_completed=steps,
                    metrics={"validation_loss": vl, "validation_accuracy": va, "batches": steps})
                op.report_progress(steps)
                with core.checkpoint.store_path({"steps_completed": steps}) as (path, uuid):
                    (pathlib.Path(path) / "state.json").write_text(
                        json.dumps({"w": model.w, "b": model.b, "steps": steps}))
                if core.preempt.should_preempt():
                    logging.info("stopping at batch %d", steps)
                    return
        op.report_completed(vl)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    with det.core.init() as core_context:
        main(core_context)
