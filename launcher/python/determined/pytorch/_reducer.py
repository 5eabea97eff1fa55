# SPDX-License-Identifier: GPL-2.0-or-later
"""``MetricReducer`` and the built-in ``Reducer``s for validation metrics.

Each rank reduces what it saw (per_slot_reduce); the results of every rank
are combined (cross_slot_reduce). Built-in reducers apply per metric to the
values evaluate_batch returned, one per batch, over all ranks."""

import abc
import enum
import numbers


class Reducer(enum.Enum):
    AVG = "AVG"
    SUM = "SUM"
    MAX = "MAX"
    MIN = "MIN"


def _num(v):
    if hasattr(v, "item") and not isinstance(v, numbers.Number):
        v = v.item()
    return float(v)


def reduce_values(reducer, values):
    """One of the built-in reducers over a list of numbers."""
    values = [_num(v) for v in values]
    if not values:
        raise ValueError("no values to reduce")
    if reducer == Reducer.AVG:
        return sum(values) / len(values)
    if reducer == Reducer.SUM:
        return sum(values)
    if reducer == Reducer.MAX:
        return max(values)
    if reducer == Reducer.MIN:
        return min(values)
    raise ValueError(f"unknown reducer {reducer!r}")


class MetricReducer(abc.ABC):
    """A custom reducer: reset(), per_slot_reduce(), cross_slot_reduce(per_slot_metrics).

    Call update() (your own method) from evaluate_batch; register it with
    ``context.wrap_reducer(reducer, name=...)``."""

    @abc.abstractmethod
    def reset(self):
        pass

    @abc.abstractmethod
    def per_slot_reduce(self):
        pass

    @abc.abstractmethod
    def cross_slot_reduce(self, per_slot_metrics):
        pass
