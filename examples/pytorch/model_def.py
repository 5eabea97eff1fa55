# SPDX-License-Identifier: GPL-2.0-or-later
"""Determined's PyTorch tutorial CNN (two convolutions, dropout, Adadelta) as a
PyTorchTrial, on Fashion-MNIST from Debian's dataset-fashion-mnist.

Runs unmodified in both of Determined's forms:
  entrypoint: python3 -m determined.launch.torch_distributed python3 model_def.py
  entrypoint: model_def:FashionMNISTTrial
Off-cluster: DET_SEARCHER_LENGTH=100 /usr/bin/python3 model_def.py
"""

import gzip
import json
import logging
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import determined as det
import determined.pytorch as dpt

DATA = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def _idx(name, offset):
    with gzip.open(os.path.join(DATA, name)) as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def fashion_mnist(train, limit):
    prefix = "train" if train else "t10k"
    x = _idx(f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 1, 28, 28)[:limit]
    y = _idx(f"{prefix}-labels-idx1-ubyte.gz", 8)[:limit]
    x = (torch.from_numpy(x.astype(np.float32)) / 255.0 - 0.2860) / 0.3530
    return torch.utils.data.TensorDataset(x, torch.from_numpy(y.astype(np.int64)))


class Net(nn.Module):
    def __init__(self, hp):
        super().__init__()
        self.conv1 = nn.Conv2d(1, hp["n_filters1"], 3, 1)
        self.conv2 = nn.Conv2d(hp["n_filters1"], hp["n_filters2"], 3, 1)
        self.dropout1 = nn.Dropout(hp["dropout1"])
        self.dropout2 = nn.Dropout(hp["dropout2"])
        self.fc1 = nn.Linear(144 * hp["n_filters2"], 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout1(torch.flatten(x, 1))
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


class FashionMNISTTrial(dpt.PyTorchTrial):
    def __init__(self, context):
        self.context = context
        hp = context.get_hparams()
        self.model = context.wrap_model(Net(hp))
        self.optimizer = context.wrap_optimizer(
            torch.optim.Adadelta(self.model.parameters(), lr=context.get_hparam("learning_rate")))
        self.scheduler = context.wrap_lr_scheduler(
            torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=1, gamma=0.7),
            dpt.LRScheduler.StepMode.STEP_EVERY_EPOCH)

    def build_training_data_loader(self):
        data = fashion_mnist(True, self.context.get_hparams().get("train_examples"))
        return dpt.DataLoader(data, batch_size=self.context.get_per_slot_batch_size(),
                              shuffle=True)

    def build_validation_data_loader(self):
        data = fashion_mnist(False, self.context.get_hparams().get("validation_examples"))
        return dpt.DataLoader(data, batch_size=self.context.get_per_slot_batch_size())

    def train_batch(self, batch, epoch_idx, batch_idx):
        data, labels = batch
        loss = F.nll_loss(self.model(data), labels)
        self.context.backward(loss)
        self.context.step_optimizer(self.optimizer)
        return {"loss": loss}

    def evaluate_batch(self, batch):
        data, labels = batch
        output = self.model(data)
        validation_loss = F.nll_loss(output, labels).item()
        accuracy = (output.argmax(dim=1) == labels).float().mean().item()
        return {"validation_loss": validation_loss, "accuracy": accuracy}


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
    hparams = {"learning_rate": 1.0, "global_batch_size": 64, "n_filters1": 32,
               "n_filters2": 64, "dropout1": 0.25, "dropout2": 0.5, "train_examples": 60000,
               "validation_examples": 10000}
    hparams.update(json.loads(os.environ.get("DET_HPARAMS") or "{}"))  # off-cluster overrides
    with dpt.init(hparams=hparams) as train_context:
        trial = FashionMNISTTrial(train_context)
        trainer = dpt.Trainer(trial, train_context)
        trainer.fit(validation_period=dpt.Batch(int(os.environ.get("VALIDATION_PERIOD", "200"))),
                    reporting_period=dpt.Batch(50))
