# SPDX-License-Identifier: GPL-2.0-or-later
"""PyTorchTrialContext and the Trainer in one process: hyperparameters, batch
sizes, optimizer steps, scheduler step modes, reducers, test_mode, positions."""

import json
import os
import shutil
import tempfile
import unittest

import torch
import torch.nn as nn

import determined as det
import determined.pytorch as dpt
from determined.core._distributed import DummyDistributedContext


def _context(hparams):
    core = det.core.init(distributed=DummyDistributedContext()).context
    ctx = dpt.PyTorchTrialContext(core, hparams)
    ctx._info = None
    return ctx


class Count(dpt.MetricReducer):
    def __init__(self):
        self.n = 0

    def reset(self):
        self.n = 0

    def update(self, k):
        self.n += k

    def per_slot_reduce(self):
        return self.n

    def cross_slot_reduce(self, per_slot):
        return sum(per_slot)


class Linear(dpt.PyTorchTrial):
    def __init__(self, context):
        self.context = context
        self.model = context.wrap_model(nn.Linear(2, 1))
        self.opt = context.wrap_optimizer(torch.optim.SGD(self.model.parameters(), lr=0.5))
        self.batch_sched = context.wrap_lr_scheduler(
            torch.optim.lr_scheduler.StepLR(self.opt, 1, gamma=0.5),
            dpt.LRScheduler.StepMode.STEP_EVERY_BATCH, frequency=2)
        self.count = context.wrap_reducer(Count(), name="records")
        self.positions = []

    def build_training_data_loader(self):
        return dpt.DataLoader(torch.utils.data.TensorDataset(torch.ones(8, 2), torch.ones(8, 1)),
                              batch_size=2)

    def build_validation_data_loader(self):
        return dpt.DataLoader(torch.utils.data.TensorDataset(torch.ones(5, 2), torch.ones(5, 1)),
                              batch_size=2)

    def train_batch(self, batch, epoch_idx, batch_idx):
        self.positions.append((epoch_idx, batch_idx, self.context.is_epoch_start(),
                               self.context.is_epoch_end()))
        loss = ((self.model(batch[0]) - batch[1]) ** 2).mean()
        self.context.backward(loss)
        self.context.step_optimizer(self.opt)
        return loss

    def evaluate_batch(self, batch):
        self.count.update(len(batch[0]))
        return {"validation_loss": float(len(batch[0])), "size": float(len(batch[0]))}

    def evaluation_reducer(self):
        return {"size": dpt.Reducer.SUM}


class ContextTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.old = os.getcwd()
        os.chdir(self.dir)
        for k in ("DET_MASTER", "DET_SEARCHER_LENGTH", "DET_HPARAMS"):
            os.environ.pop(k, None)

    def tearDown(self):
        os.chdir(self.old)
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_hparams_and_batch_sizes(self):
        ctx = _context({"global_batch_size": 32, "lr": 0.1})
        self.assertEqual(ctx.get_hparam("lr"), 0.1)
        self.assertEqual(ctx.get_hparams(), {"global_batch_size": 32, "lr": 0.1})
        self.assertEqual(ctx.get_global_batch_size(), 32)
        self.assertEqual(ctx.get_per_slot_batch_size(), 32)
        with self.assertRaisesRegex(ValueError, "'nope' is not in"):
            ctx.get_hparam("nope")
        with self.assertRaises(ValueError):
            _context({"global_batch_size": 0})

    def test_step_optimizer_accumulates_clips_and_zeroes(self):
        ctx = _context({})
        p = nn.Parameter(torch.zeros(1))
        opt = ctx.wrap_optimizer(torch.optim.SGD([p], lr=1.0), backward_passes_per_step=2)
        clipped = []
        for _ in range(2):
            ctx.backward((p * 10).sum())
            ctx.step_optimizer(opt, clip_grads=lambda ps: clipped.append(
                nn.utils.clip_grad_norm_(ps, 1.0)))
        self.assertEqual(len(clipped), 1)  # one step for two backward passes
        self.assertAlmostEqual(p.item(), -1.0, places=5)  # the gradient 20 clipped to 1
        self.assertIsNone(p.grad) if p.grad is None else self.assertEqual(p.grad.item(), 0.0)
        with self.assertRaises(ValueError):
            ctx.step_optimizer(torch.optim.SGD([p], lr=1.0))

    def test_fit_positions_schedulers_reducers(self):
        ctx = _context({})
        trial = Linear(ctx)
        dpt.Trainer(trial, ctx).fit(max_length=dpt.Epoch(2), validation_period=dpt.Batch(4),
                                    reporting_period=dpt.Batch(4), checkpoint_policy="all")
        self.assertEqual([p[:2] for p in trial.positions],
                         [(0, 0), (0, 1), (0, 2), (0, 3), (1, 4), (1, 5), (1, 6), (1, 7)])
        self.assertEqual([i for i, p in enumerate(trial.positions) if p[2]], [0, 4])
        self.assertEqual([i for i, p in enumerate(trial.positions) if p[3]], [3, 7])
        self.assertAlmostEqual(trial.opt.param_groups[0]["lr"], 0.5 * 0.5 ** 4)
        vals = [json.loads(x) for x in open(os.path.join("det-local", "metrics.jsonl"))
                if '"validation"' in x]
        self.assertEqual([v["steps_completed"] for v in vals], [4, 8])
        m = vals[0]["metrics"]
        self.assertEqual((m["size"], m["records"], m["batches"]), (5.0, 5.0, 4.0))
        self.assertAlmostEqual(m["validation_loss"], 5 / 3)
        ckpts = os.listdir(os.path.join("det-local", "checkpoints"))
        self.assertEqual(len(ckpts), 2)  # policy "all": after each validation, none extra at the end
        loaded = dpt.load_trial_from_checkpoint_path(
            os.path.join("det-local", "checkpoints", sorted(
                ckpts, key=lambda c: json.load(open(os.path.join(
                    "det-local", "checkpoints", c, "metadata.json")))["steps_completed"])[-1]),
            trial_class=Linear)
        self.assertTrue(torch.equal(loaded.model.weight, trial.model.weight))

    def test_test_mode_trains_and_validates_one_batch(self):
        ctx = _context({})
        trial = Linear(ctx)
        dpt.Trainer(trial, ctx).fit(max_length=dpt.Batch(100), test_mode=True)
        self.assertEqual(len(trial.positions), 1)
        vals = [json.loads(x) for x in open(os.path.join("det-local", "metrics.jsonl"))
                if '"validation"' in x]
        self.assertEqual(vals[0]["metrics"]["size"], 2.0)

    def test_det_pytorch_attribute(self):
        self.assertIs(det.pytorch, dpt)

    def test_bad_arguments(self):
        ctx = _context({})
        trial = Linear(ctx)
        with self.assertRaisesRegex(ValueError, "checkpoint_policy"):
            dpt.Trainer(trial, ctx).fit(max_length=1, checkpoint_policy="some")
        with self.assertRaisesRegex(ValueError, "max_length is required"):
            dpt.Trainer(trial, ctx).fit()
        with self.assertRaises(ValueError):
            dpt.Batch(0)


if __name__ == "__main__":
    unittest.main()
