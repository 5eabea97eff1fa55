# SPDX-License-Identifier: GPL-2.0-or-later
"""A tiny PyTorchTrial on generated data for the determined.pytorch tests.

Run as a program it trains through det.pytorch.Trainer; each rank writes its
weights after the last batch to $FIXTURE_OUT/weights-<rank>.bin. With
FIXTURE_PREEMPT_AT=N the chief creates DET_PREEMPT_FILE during batch N, so the
Trainer checkpoints and exits there, as on a pause."""

import json
import logging
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import determined as det
import determined.pytorch as dpt


def dataset(n, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    y = (x.sum(1) > 0).long()
    return torch.utils.data.TensorDataset(x, y)


class TinyTrial(dpt.PyTorchTrial):
    def __init__(self, context):
        self.context = context
        self.model = context.wrap_model(nn.Sequential(nn.Linear(8, 16), nn.ReLU(),
                                                      nn.Dropout(0.2), nn.Linear(16, 2)))
        self.opt = context.wrap_optimizer(torch.optim.SGD(
            self.model.parameters(), lr=context.get_hparam("lr"), momentum=0.9))
        self.sched = context.wrap_lr_scheduler(
            torch.optim.lr_scheduler.StepLR(self.opt, step_size=1, gamma=0.9),
            dpt.LRScheduler.StepMode.STEP_EVERY_EPOCH)
        self.preempt_at = int(os.environ.get("FIXTURE_PREEMPT_AT", "0") or "0")
        self.length = int(os.environ.get("DET_SEARCHER_LENGTH") or
                          os.environ.get("FIXTURE_LENGTH") or "0")
        if os.environ.get("FIXTURE_OUT"):  # so that a test can kill one rank
            with open(os.path.join(os.environ["FIXTURE_OUT"],
                                   f"pid-{context.distributed.rank}"), "w") as f:
                f.write(f"{os.getpid()}\n")
            info = det.get_cluster_info()
            if info is not None:
                with open(os.path.join(os.environ["FIXTURE_OUT"], "user_data.json"), "w") as f:
                    json.dump(info.user_data, f, sort_keys=True)

    def build_training_data_loader(self):
        return dpt.DataLoader(dataset(200, 1), batch_size=self.context.get_per_slot_batch_size(),
                              shuffle=True)

    def build_validation_data_loader(self):
        return dpt.DataLoader(dataset(50, 2), batch_size=16)

    def train_batch(self, batch, epoch_idx, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.model(x), y)
        self.context.backward(loss)
        self.context.step_optimizer(self.opt, clip_grads=lambda p: nn.utils.clip_grad_norm_(p, 1.0))
        if self.preempt_at and batch_idx + 1 == self.preempt_at and \
                self.context.distributed.rank == 0:
            open(os.environ["DET_PREEMPT_FILE"], "w").close()
        if batch_idx + 1 == self.length and os.environ.get("FIXTURE_OUT"):
            self.write_weights(os.environ["FIXTURE_OUT"])
        time.sleep(float(os.environ.get("FIXTURE_SLEEP", "0") or "0"))
        return {"loss": loss}

    def write_weights(self, out):
        with open(os.path.join(out, f"weights-{self.context.distributed.rank}.bin"), "wb") as f:
            f.write(weights_bytes(self.model))

    def evaluate_batch(self, batch):
        x, y = batch
        out = self.model(x)
        return {"validation_loss": F.cross_entropy(out, y),
                "accuracy": (out.argmax(1) == y).float().mean()}


def weights_bytes(model):
    model = getattr(model, "module", model)
    return b"".join(p.detach().cpu().numpy().tobytes() for p in model.state_dict().values())


def main():
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    torch.set_num_threads(1)
    out = os.environ["FIXTURE_OUT"]
    with dpt.init(hparams={"lr": 0.1, "global_batch_size": 16}) as ctx:
        trial = TinyTrial(ctx)
        length = int(os.environ.get("FIXTURE_LENGTH") or "0")
        dpt.Trainer(trial, ctx).fit(max_length=dpt.Batch(length) if length else None,
                                    validation_period=dpt.Batch(10), reporting_period=5,
                                    checkpoint_policy="none",
                                    latest_checkpoint=os.environ.get("DET_LATEST_CHECKPOINT"))
        trial.write_weights(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
