"""The largest and smallest values: max, min, amax, amin, aminmax, argmax, argmin; and
`return_types`, the named pairs they and the sorting ops return.

Their gradients come in two kinds, which the sorting ops reuse:

- a value taken over whole dims (max() and min() without a dim, amax, amin, aminmax) splits
  its gradient evenly among the elements tied for it (`_EvenlySplit`);
- a selection (max/min with a dim, sort, topk, median) puts each gradient back where its value
  was taken from (`_select_backward`, a scatter into zeros).

argmax and argmin return indices, which have no gradient.
"""
from __future__ import annotations

import collections
import types

from ..autograd.graph import Node
from ..tensor import Tensor
from . import gather as _gather
from ._util import needs_grad, record, shape_str, xp_of
from .reductions import (_axes, _check_not_empty, _expand_back, _is_float, _native,
                         _reduced_shape, _single_dim)
from .arithmetic import maximum, minimum

_wrap = Tensor._wrap


# ------------------------------------------------------------------ return types

def _return_type(name, fields):
    """A named pair like torch.return_types.max: unpacks as a tuple, fields by name."""
    cls = collections.namedtuple(name, fields)
    cls.__module__ = "labgrad.return_types"

    def __repr__(self):
        items = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"labgrad.return_types.{name}(\n{items})"

    cls.__repr__ = __repr__
    return cls


return_types = types.SimpleNamespace(
    **{name: _return_type(name, ("values", "indices"))
       for name in ("max", "min", "sort", "topk", "median")},
    aminmax=_return_type("aminmax", ("min", "max")))


# ------------------------------------------------------------------ max, min, amax, amin

def _tie_share(x, value, axes):
    """Where x equals the reduced `value`, 1/number of such ties; else 0 (arrays).

    The gradient of amax, amin and max()/min()/median() without dim is split evenly among
    tied elements, as in PyTorch; a NaN result sends it to the NaNs. The share is constant
    where it is defined, so it needs no graph of its own.
    """
    xp = xp_of(x)
    dtype = x.dtype
    x, value = _native(x), _native(value.reshape(_reduced_shape(x.shape, axes, True)))
    hit = x == value
    if _is_float(x):
        hit = hit | (xp.isnan(x) & xp.isnan(value))
    hit = hit.astype(x.dtype)
    return (hit / xp.sum(hit, axis=axes, keepdims=True)).astype(dtype, copy=False)


class _EvenlySplit(Node):
    """Backward of a reduction whose value came from its tied elements."""

    def backward(self, grad):
        x, out = self.saved_tensors
        axes = self.axes
        share = _tie_share(x._data, out._data, axes)
        return _expand_back(grad, x.shape, axes, self.keepdim) * _wrap(share)


class MaxBackward1(_EvenlySplit):
    """max() without a dim."""


class MinBackward1(_EvenlySplit):
    """min() without a dim."""


class AmaxBackward0(_EvenlySplit):
    pass


class AminBackward0(_EvenlySplit):
    pass


class AminmaxBackward0(Node):
    def backward(self, grad_min, grad_max):
        x, low, high = self.saved_tensors
        axes, keepdim = self.axes, self.keepdim
        low_share = _wrap(_tie_share(x._data, low._data, axes))
        high_share = _wrap(_tie_share(x._data, high._data, axes))
        return (_expand_back(grad_min, x.shape, axes, keepdim) * low_share
                + _expand_back(grad_max, x.shape, axes, keepdim) * high_share)


def _select_backward(grad, indices, axis, input_shape, keepdim):
    """The gradient of picking values at `indices` along `axis`: each gradient goes back to
    the element its value came from (zeros elsewhere)."""
    if axis is None:  # a 0-d input: the value is the input
        return grad
    if not keepdim:
        grad, indices = grad.unsqueeze(axis), indices.unsqueeze(axis)
    xp = xp_of(grad._data)
    zeros = _wrap(xp.zeros(input_shape, dtype=grad._data.dtype))
    return _gather.scatter_unchecked(zeros, axis, indices, grad)


class _SelectBackward(Node):
    def backward(self, grad):
        (indices,) = self.saved_tensors
        return _select_backward(grad, indices, self.axis, self._input_meta[0][0],
                                self.keepdim)


class MaxBackward0(_SelectBackward):
    """max(dim): the gradient goes to the index max returned."""


class MinBackward0(_SelectBackward):
    pass


def _selection(op, node_cls, input, values, indices, axis, keepdim):
    """(values, indices) as op's return type. `indices` arrives with the reduced dim kept.

    The node saves the returned indices, so changing them in place is caught at backward.
    """
    if axis is not None and not keepdim:
        indices = indices.squeeze(axis)
    out, index = _wrap(values), _wrap(indices.astype("int64", copy=False))
    if needs_grad(input):
        node = record(node_cls, (input,), out, saved=(index,))
        node.axis, node.keepdim = axis, keepdim
    return getattr(return_types, op)(out, index)


def _full_reduction(op, node_cls, kernel, input):
    """max(), min(), the value over every element; ties share the gradient."""
    data = input._data
    if data.size == 0:
        raise RuntimeError(f"{op}: the tensor of shape {shape_str(data.shape)} is empty, so it "
                           f"has no {op}. Give a dim to reduce over one that is not empty.")
    out = _wrap(xp_of(data).asarray(kernel(_native(data)), dtype=data.dtype))
    if needs_grad(input):
        node = record(node_cls, (input,), out, saved=(input, out))
        node.axes, node.keepdim = tuple(range(data.ndim)), False
    return out


def _extreme_along(op, input, dim, keepdim):
    """max(dim) / min(dim): values and the index of the first one (NaN counts as extreme)."""
    data = input._data
    axis = _single_dim(op, dim, data.ndim)
    xp = xp_of(data)
    if axis is None:
        return _selection(op, MaxBackward0 if op == "max" else MinBackward0, input,
                          data.copy(), xp.zeros((), dtype="int64"), None, keepdim)
    _check_not_empty(op, data, (axis,))
    pick = xp.argmax if op == "max" else xp.argmin
    indices = xp.expand_dims(pick(_native(data), axis=axis), axis)
    values = xp.take_along_axis(data, indices, axis)
    if not keepdim:
        values = values.squeeze(axis)
    node_cls = MaxBackward0 if op == "max" else MinBackward0
    return _selection(op, node_cls, input, values, indices, axis, keepdim)


def max(input, dim=None, keepdim=False, *, other=None):  # noqa: A001 - PyTorch's name
    """max(): the largest value. max(dim, keepdim=False): (values, indices) along dim.
    max(other) with a tensor: the elementwise maximum."""
    if isinstance(dim, Tensor) or other is not None:
        return maximum(input, other if other is not None else dim)
    if dim is None:
        return _full_reduction("max", MaxBackward1, lambda d: xp_of(d).max(d), input)
    return _extreme_along("max", input, dim, keepdim)


def min(input, dim=None, keepdim=False, *, other=None):  # noqa: A001 - PyTorch's name
    """min(): the smallest value. min(dim, keepdim=False): (values, indices) along dim.
    min(other) with a tensor: the elementwise minimum."""
    if isinstance(dim, Tensor) or other is not None:
        return minimum(input, other if other is not None else dim)
    if dim is None:
        return _full_reduction("min", MinBackward1, lambda d: xp_of(d).min(d), input)
    return _extreme_along("min", input, dim, keepdim)


def _amax_op(op, node_cls, input, dim, keepdim):
    data = input._data
    axes = _axes(op, dim, data.ndim)
    _check_not_empty(op, data, axes)
    xp = xp_of(data)
    kernel = xp.max if op == "amax" else xp.min
    out = _wrap(xp.asarray(kernel(_native(data), axis=axes, keepdims=keepdim), dtype=data.dtype))
    if needs_grad(input):
        node = record(node_cls, (input,), out, saved=(input, out))
        node.axes, node.keepdim = axes, keepdim
    return out


def amax(input, dim=(), keepdim=False):
    """The largest values over `dim` (all dims by default); ties share the gradient."""
    return _amax_op("amax", AmaxBackward0, input, dim, keepdim)


def amin(input, dim=(), keepdim=False):
    """The smallest values over `dim` (all dims by default); ties share the gradient."""
    return _amax_op("amin", AminBackward0, input, dim, keepdim)


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over `dim` (all dims by default)."""
    data = input._data
    axes = _axes("aminmax", dim, data.ndim)
    _check_not_empty("aminmax", data, axes)
    xp = xp_of(data)
    native = _native(data)
    low = _wrap(xp.asarray(xp.min(native, axis=axes, keepdims=keepdim), dtype=data.dtype))
    high = _wrap(xp.asarray(xp.max(native, axis=axes, keepdims=keepdim), dtype=data.dtype))
    if needs_grad(input):
        node = record(AminmaxBackward0, (input,), (low, high), saved=(input, low, high))
        node.axes, node.keepdim = axes, keepdim
    return return_types.aminmax(low, high)


# ------------------------------------------------------------------ argmax, argmin

def _arg_extreme(op, input, dim, keepdim):
    data = input._data
    if data.dtype.kind == "b":
        raise RuntimeError(f"{op}: bool tensors are not supported; use input.int().{op}()")
    xp = xp_of(data)
    data = _native(data)
    pick = xp.argmax if op == "argmax" else xp.argmin
    if dim is None:
        _check_not_empty(op, data, tuple(range(data.ndim)))
        index = pick(data.reshape(-1))
        shape = (1,) * data.ndim if keepdim else ()
        return _wrap(xp.asarray(index, dtype="int64").reshape(shape))
    axis = _single_dim(op, dim, data.ndim)
    if axis is None:
        return _wrap(xp.zeros((), dtype="int64"))
    _check_not_empty(op, data, (axis,))
    index = pick(data, axis=axis)
    if keepdim:
        index = xp.expand_dims(index, axis)
    return _wrap(index.astype("int64", copy=False))


def argmax(input, dim=None, keepdim=False):
    """The index of the largest value (of the flattened tensor when dim is None); the first
    one among ties, and the first NaN if there is one."""
    return _arg_extreme("argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    """The index of the smallest value; the first among ties, and the first NaN if any."""
    return _arg_extreme("argmin", input, dim, keepdim)


METHODS = ("max", "min", "amax", "amin", "aminmax", "argmax", "argmin")
FUNCTIONS = ("return_types",)
