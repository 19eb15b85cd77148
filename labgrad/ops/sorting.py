"""Ordering along a dim: sort, argsort, topk, median.

Sorting is stable (equal values keep their order) and treats NaN as the largest value, as in
PyTorch. The values these ops return were picked from the input, so their gradients are
extrema's: each goes back to the element its value came from, and median() without a dim
splits it among the elements tied for it.
"""
from __future__ import annotations

import math

from ..tensor import Tensor
from ._util import needs_grad, record, shape_str, xp_of
from .extrema import _EvenlySplit, _SelectBackward, _selection
from .reductions import _check_not_empty, _is_float, _native, _single_dim

_wrap = Tensor._wrap


# ------------------------------------------------------------------ sort, topk, median

class MedianBackward0(_EvenlySplit):
    """median() without a dim."""


class MedianBackward1(_SelectBackward):
    pass


class SortBackward0(_SelectBackward):
    pass


class TopkBackward0(_SelectBackward):
    pass


def _argsort(data, axis, descending):
    """A stable argsort along axis; NaN sorts as the largest value, as in PyTorch."""
    xp = xp_of(data)
    data = _native(data)
    if not descending:
        return xp.argsort(data, axis=axis, kind="stable")
    # Sorting the reversed array and reversing the result keeps equal elements in their
    # original order, which negating the values would not (and cannot do for bools).
    order = xp.argsort(xp.flip(data, axis), axis=axis, kind="stable")
    return (data.shape[axis] - 1) - xp.flip(order, axis)


def sort(input, dim=-1, descending=False, *, stable=False):
    """(values, indices) sorted along `dim`. Always stable: equal values keep their order."""
    data = input._data
    axis = _single_dim("sort", dim, data.ndim)
    xp = xp_of(data)
    if axis is None:
        return _selection("sort", SortBackward0, input, data.copy(),
                          xp.zeros((), dtype="int64"), None, True)
    order = _argsort(data, axis, descending)
    values = xp.take_along_axis(data, order, axis)
    return _selection("sort", SortBackward0, input, values, order, axis, True)


def argsort(input, dim=-1, descending=False, *, stable=False):
    """The indices that sort `input` along `dim` (stable)."""
    return sort(input, dim, descending, stable=stable).indices


def topk(input, k, dim=None, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
    """The k largest (or smallest) values along `dim` (the last by default) and their indices,
    largest first (smallest first with largest=False)."""
    data = input._data
    axis = _single_dim("topk", -1 if dim is None else dim, data.ndim)
    size = 1 if axis is None else data.shape[axis]
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: k={k} is out of range for dimension "
                           f"{-1 if dim is None else dim} of size {size} (tensor of shape "
                           f"{shape_str(data.shape)}); k must be in [0, {size}]")
    if axis is None:
        return sort(input)
    order = _topk_order(data, k, axis, largest)
    values = xp_of(data).take_along_axis(data, order, axis)
    return _selection("topk", TopkBackward0, input, values, order, axis, True)


def _topk_order(data, k, axis, largest):
    """Indices of the k largest (smallest) values along axis, best first."""
    xp = xp_of(data)
    n = data.shape[axis]
    if not 0 < k < n:
        return xp.take(_argsort(data, axis, largest), xp.arange(k), axis=axis)
    # Partitioning finds the k candidates in linear time; only they are then sorted. Sorting
    # the candidates' positions first makes ties come out in their original order.
    part = xp.argpartition(_native(data), n - k if largest else k - 1, axis=axis)
    keep = xp.arange(n - k, n) if largest else xp.arange(k)
    candidates = xp.sort(xp.take(part, keep, axis=axis), axis=axis)
    ranked = _argsort(xp.take_along_axis(data, candidates, axis), axis, largest)
    return xp.take_along_axis(candidates, ranked, axis)


def _median_positions(data, order, axis):
    """Where the median sits in the sorted order: the lower middle, or the first NaN."""
    xp = xp_of(data)
    n = data.shape[axis]
    middle = xp.full(data.shape[:axis] + (1,) + data.shape[axis + 1:], (n - 1) // 2,
                     dtype=order.dtype)
    if not _is_float(data):
        return middle
    nan_count = xp.sum(xp.isnan(_native(data)), axis=axis, keepdims=True)
    return xp.where(nan_count > 0, n - nan_count, middle)


def median(input, dim=None, keepdim=False):
    """median(): the lower median of all values (NaN if any is NaN).
    median(dim): (values, indices) of the lower median along dim."""
    data = input._data
    xp = xp_of(data)
    if dim is None:
        if data.size == 0:
            if not _is_float(data):
                raise RuntimeError(f"median: the integer tensor of shape "
                                   f"{shape_str(data.shape)} is empty, so it has no median")
            return _wrap(xp.full((), math.nan, dtype=data.dtype))
        flat = data.reshape(-1)
        order = _argsort(flat, 0, False)
        index = _median_positions(flat, order, 0)
        value = flat[order[index]].reshape(())
        out = _wrap(value)
        if needs_grad(input):
            node = record(MedianBackward0, (input,), out, saved=(input, out))
            node.axes, node.keepdim = tuple(range(data.ndim)), False
        return out
    axis = _single_dim("median", dim, data.ndim)
    if axis is None:
        return _selection("median", MedianBackward1, input, data.copy(),
                          xp.zeros((), dtype="int64"), None, keepdim)
    _check_not_empty("median", data, (axis,))
    order = _argsort(data, axis, False)
    indices = xp.take_along_axis(order, _median_positions(data, order, axis), axis)
    values = xp.take_along_axis(data, indices, axis)
    if not keepdim:
        values = values.squeeze(axis)
    return _selection("median", MedianBackward1, input, values, indices, axis, keepdim)


METHODS = ("sort", "argsort", "topk", "median")
