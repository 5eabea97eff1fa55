# SPDX-License-Identifier: GPL-2.0-or-later
"""det.pytorch.DataLoader's order: sharded without overlap, resumable mid-epoch."""

import unittest

import torch

from determined.pytorch import DataLoader, _data


class TestSharding(unittest.TestCase):
    def test_ranks_disjoint_and_cover_the_epoch(self):
        n, b, size = 103, 4, 3
        per = [_data.train_batch_indices(n, b, r, size, shuffle=True, seed=7, epoch=0,
                                         drop_last=True) for r in range(size)]
        seen = [i for r in per for batch in r for i in batch]
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(len(seen), (n // (b * size)) * b * size)
        self.assertEqual({len(r) for r in per}, {n // (b * size)})

    def test_padding_gives_every_rank_the_same_steps(self):
        per = [_data.train_batch_indices(10, 4, r, 2, shuffle=False, seed=0, epoch=0,
                                         drop_last=False) for r in range(2)]
        self.assertEqual([len(p) for p in per], [2, 2])
        self.assertEqual({i for p in per for bt in p for i in bt}, set(range(10)))

    def test_validation_sees_every_record_once(self):
        per = [_data.eval_batch_indices(11, 3, r, 2) for r in range(2)]
        self.assertEqual(sorted(i for p in per for bt in p for i in bt), list(range(11)))

    def test_same_seed_same_order_other_epoch_other_order(self):
        a = _data.train_batch_indices(64, 8, 0, 1, shuffle=True, seed=3, epoch=1, drop_last=True)
        b = _data.train_batch_indices(64, 8, 0, 1, shuffle=True, seed=3, epoch=1, drop_last=True)
        c = _data.train_batch_indices(64, 8, 0, 1, shuffle=True, seed=3, epoch=2, drop_last=True)
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)

    def test_resume_mid_epoch_continues_the_same_batches(self):
        ds = torch.utils.data.TensorDataset(torch.arange(50))
        dl = DataLoader(ds, batch_size=5, shuffle=True)
        full = [b[0].tolist() for b in dl.get_train_loader(rank=1, size=2, seed=9, epoch=4)]
        tail = [b[0].tolist() for b in dl.get_train_loader(rank=1, size=2, seed=9, epoch=4,
                                                           skip=3)]
        self.assertEqual(tail, full[3:])
        self.assertEqual(len(full), 5)

    def test_custom_sampler_refused(self):
        ds = torch.utils.data.TensorDataset(torch.arange(5))
        with self.assertRaises(ValueError):
            DataLoader(ds, sampler=[0, 1])


if __name__ == "__main__":
    unittest.main()
