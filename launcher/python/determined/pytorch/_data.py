# SPDX-License-Identifier: GPL-2.0-or-later
"""``det.pytorch.DataLoader``, ``TorchData`` and ``to_device``.

The DataLoader keeps torch's DataLoader arguments and builds the real loader
per rank. Sampling is a pure function of (seed, epoch, rank, size): the epoch's
order is a permutation seeded with seed + epoch (or the identity), global
batch k is ``order[k*B*size:(k+1)*B*size]`` and rank r takes its r-th slice of
B. So the ranks never overlap, and a restart at batch k of an epoch skips
straight to the same batches in the same order as an uninterrupted run.
Training pads the last global batch with the epoch's first indices (every
rank takes the same number of steps, as DDP needs); validation shards
``order[rank::size]`` with no padding."""

import torch
import torch.utils.data


def _epoch_order(n, shuffle, seed, epoch):
    if not shuffle:
        return list(range(n))
    g = torch.Generator()
    g.manual_seed((int(seed) + int(epoch)) & 0x7FFFFFFFFFFFFFFF)
    return torch.randperm(n, generator=g).tolist()


def batches_per_epoch(n, batch_size, size, drop_last):
    """Training steps in one epoch of n records at batch_size per rank on size ranks."""
    per_step = batch_size * size
    return n // per_step if drop_last else -(-n // per_step)


def train_batch_indices(n, batch_size, rank, size, *, shuffle, seed, epoch, drop_last, skip=0):
    """This rank's batches of one training epoch (lists of indices), from batch skip on."""
    order = _epoch_order(n, shuffle, seed, epoch)
    steps = batches_per_epoch(n, batch_size, size, drop_last)
    per_step = batch_size * size
    out = []
    for k in range(skip, steps):
        glob = order[k * per_step:(k + 1) * per_step]
        i = 0
        while len(glob) < per_step:  # pad the last global batch from the epoch's start
            glob.append(order[i % n])
            i += 1
        out.append(glob[rank * batch_size:(rank + 1) * batch_size])
    return out


def eval_batch_indices(n, batch_size, rank, size):
    """This rank's validation batches: every record exactly once over all ranks."""
    mine = list(range(n))[rank::size]
    return [mine[i:i + batch_size] for i in range(0, len(mine), batch_size)]


class _ListSampler(torch.utils.data.Sampler):
    def __init__(self, batches):
        self._batches = batches

    def __iter__(self):
        return iter(self._batches)

    def __len__(self):
        return len(self._batches)


class DataLoader:
    """Determined's DataLoader: torch.utils.data.DataLoader's arguments, sharded by the Trainer.

    ``sampler``, ``batch_sampler`` and iterable datasets are not supported:
    the order must be reproducible for resumption."""

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, **kwargs):
        if sampler is not None or batch_sampler is not None:
            raise ValueError("det.pytorch.DataLoader: custom sampler/batch_sampler are not "
                             "supported (the Trainer shards and resumes the order itself)")
        if isinstance(dataset, torch.utils.data.IterableDataset):
            raise ValueError("det.pytorch.DataLoader: an IterableDataset cannot be sharded or resumed")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"det.pytorch.DataLoader: batch_size {batch_size!r} must be a positive int")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._kw = dict(num_workers=num_workers, collate_fn=collate_fn, pin_memory=pin_memory,
                        timeout=timeout, worker_init_fn=worker_init_fn, **kwargs)

    def __len__(self):
        """Training steps per epoch on one rank of one (the Trainer uses batches_per_epoch)."""
        return batches_per_epoch(len(self.dataset), self.batch_size, 1, self.drop_last)

    def _loader(self, batches):
        # A generator of its own: creating an iterator draws a seed from it, which
        # must not move the global generator (a resumed run creates one more).
        return torch.utils.data.DataLoader(self.dataset, batch_sampler=_ListSampler(batches),
                                           generator=torch.Generator(), **self._kw)

    def get_train_loader(self, *, rank, size, seed, epoch, skip=0):
        """A torch DataLoader over this rank's batches of a training epoch, from batch skip."""
        return self._loader(train_batch_indices(
            len(self.dataset), self.batch_size, rank, size, shuffle=self.shuffle, seed=seed,
            epoch=epoch, drop_last=self.drop_last, skip=skip))

    def get_eval_loader(self, *, rank, size):
        """A torch DataLoader over this rank's share of the validation records."""
        return self._loader(eval_batch_indices(len(self.dataset), self.batch_size, rank, size))


# What a batch may be: a tensor, or (nested) dicts, lists and tuples of them.
TorchData = object


def to_device(data, device, warned_types=None):
    """data with every tensor moved to device (dicts, lists, tuples kept)."""
    if isinstance(data, torch.Tensor):
        return data.to(device)
    if isinstance(data, dict):
        return {k: to_device(v, device, warned_types) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(to_device(v, device, warned_types) for v in data))
    if isinstance(data, (list, tuple)):
        return type(data)(to_device(v, device, warned_types) for v in data)
    if hasattr(data, "to") and callable(data.to):
        return data.to(device)
    return data
