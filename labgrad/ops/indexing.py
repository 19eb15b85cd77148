"""Indexing: ``t[index]`` and ``t[index] = value`` with ints, slices, None, Ellipsis, integer
and boolean tensors, and the gather/scatter family.

Basic indexing (ints, slices, None, Ellipsis) returns a view; anything with an index tensor or
list copies, as in PyTorch. Gradients of repeated indices accumulate.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.graph import Node
from ..backend import kernels
from ..tensor import Tensor
from ._util import describe, needs_grad, record, shape_str, xp_of
from .inplace import assign, check_inplace_allowed

_wrap = Tensor._wrap


def _index_array(item, data):
    """An index tensor, list or array as an array on `data`'s device."""
    if isinstance(item, Tensor):
        array = item._data
    else:
        array = np.asarray([x.item() if isinstance(x, Tensor) else x for x in item]
                           if isinstance(item, (list, tuple)) else item)
    if array.dtype.kind not in "biu":
        if array.size == 0:
            return array.astype(np.int64)
        raise IndexError(f"index: tensors used as indices must be integer or bool tensors, got "
                         f"{array.dtype} (use .long())")
    if type(array) is not type(data):
        array = backend.to_device(array, backend.device_of(data))
    return array


def normalize_index(index, data):
    """`index` with tensors turned into arrays; also whether it needs advanced indexing."""
    if not isinstance(index, tuple):
        index = (index,)
    items, advanced = [], False
    for item in index:
        if item is None or item is Ellipsis or isinstance(item, (bool, np.bool_)):
            items.append(item)
        elif isinstance(item, (int, np.integer)):
            items.append(int(item))
        elif isinstance(item, slice):
            items.append(slice(*(x.item() if isinstance(x, Tensor) else x
                                 for x in (item.start, item.stop, item.step))))
        elif isinstance(item, (Tensor, list, np.ndarray)) or backend.is_array(item):
            if isinstance(item, Tensor) and item._data.ndim == 0 and item._data.dtype.kind in "iu":
                items.append(int(item.item()))  # a 0-d integer tensor selects like an int
                continue
            items.append(_index_array(item, data))
            advanced = True
        else:
            raise TypeError(f"index: unsupported index of type {type(item).__name__}; use ints, "
                            "slices, None, ..., or integer/bool tensors")
    for item in items:
        if isinstance(item, slice) and item.step is not None and item.step <= 0:
            raise ValueError("index: slice step must be positive (use flip() to reverse)")
    return tuple(items), advanced


def _index_error(error, data):
    return IndexError(f"index: {error} (indexing a tensor of shape {shape_str(data.shape)})")


class SliceBackward0(Node):
    """Backward of basic indexing (a view)."""

    def backward(self, grad):
        return index_scatter(grad, self._input_meta[0][0], self.index, False)


class IndexBackward0(Node):
    """Backward of advanced indexing: repeated indices accumulate."""

    def backward(self, grad):
        return index_scatter(grad, self._input_meta[0][0], self.index, True)


def getitem(self, index):
    data = self._data
    idx, advanced = normalize_index(index, data)
    try:
        result = data[idx]
    except IndexError as error:
        raise _index_error(error, data) from None
    out = _wrap(result)
    if not advanced:
        out._as_view_of(self)
    if needs_grad(self):
        node = record(IndexBackward0 if advanced else SliceBackward0, (self,), out)
        node.index = idx
    return out


class IndexScatterBackward0(Node):
    def backward(self, grad):
        return getitem(grad, self.index)


def index_scatter(values, shape, idx, accumulate):
    """zeros(shape) with `values` put at `idx` (added where indices repeat): the gradient of
    indexing, itself differentiable."""
    xp = xp_of(values._data)
    data = xp.zeros(shape, dtype=values._data.dtype)
    if accumulate:
        kernels.scatter_add(data, idx, values._data)
    else:
        data[idx] = values._data
    out = _wrap(data)
    if needs_grad(values):
        node = record(IndexScatterBackward0, (values,), out)
        node.index = idx
    return out


class IndexPutBackward0(Node):
    def backward(self, grad):
        grad_self = grad * _wrap(self.kept) if self.next_functions[0][0] is not None else None
        grad_values = getitem(grad, self.index) if self.next_functions[1][0] is not None else None
        return grad_self, grad_values


def _value_array(op, value, data):
    if isinstance(value, Tensor):
        if type(value._data) is not type(data):
            raise RuntimeError(f"{op}: the value is on {value.device} but the tensor is on "
                               f"{backend.device_of(data)}")
        return value._data.astype(data.dtype, copy=False)
    return value


def index_put(input, indices, values, accumulate=False):
    """A copy of input with values written (or added, with accumulate) at indices."""
    data = input._data
    idx, _ = normalize_index(indices, data)
    out_data = data.copy()
    values_t = values if isinstance(values, Tensor) else None
    try:
        if accumulate:
            expanded = xp_of(data).broadcast_to(_value_array("index_put", values, data),
                                                 data[idx].shape)
            kernels.scatter_add(out_data, idx, expanded)
        else:
            out_data[idx] = _value_array("index_put", values, data)
    except IndexError as error:
        raise _index_error(error, data) from None
    except ValueError:
        raise RuntimeError(f"index_put: cannot put {describe(values)} into an indexed region of "
                           f"shape {shape_str(data[idx].shape)} of a tensor of shape "
                           f"{shape_str(data.shape)}") from None
    out = _wrap(out_data)
    if needs_grad(input, values_t):
        node = record(IndexPutBackward0, (input, values_t), out)
        node.index = idx
        if accumulate:
            node.kept = xp_of(data).ones(data.shape, dtype=data.dtype)
        else:
            kept = xp_of(data).ones(data.shape, dtype=data.dtype)
            kept[idx] = 0
            node.kept = kept
    return out


def setitem(self, index, value):
    check_inplace_allowed("__setitem__", self)
    value_t = value if isinstance(value, Tensor) else None
    if needs_grad(self, value_t):
        assign("__setitem__", self, index_put(self, index, value))
        return
    data = self._data
    idx, _ = normalize_index(index, data)
    try:
        data[idx] = _value_array("__setitem__", value, data)
    except IndexError as error:
        raise _index_error(error, data) from None
    except ValueError as error:
        raise RuntimeError(f"__setitem__: cannot assign {describe(value)} to an indexed region "
                           f"of shape {shape_str(np.shape(data[idx]))} ({error})") from None
    self._bump_version()


METHODS = ("index_put",)
INPLACE = ("index_put",)
