"""The named index ops, which pick or place values by an index tensor or a mask:
index_select, index_add, index_copy and index_fill along one dim; masked_fill, masked_select
and masked_scatter; take and put at flat positions; nonzero and argwhere.

Each returns a new tensor, except the in-place forms (index_add_, masked_fill_, put_, ...).
The differentiable ones record backward nodes written with indexing's IndexPlan, index_with
and put_at; nonzero and argwhere return int64 indices and record nothing.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.graph import Node, take_sequence_number
from ..tensor import Tensor
from ._util import describe, needs_grad, record, shape_str, wrap_dim, xp_of
from .gather import check_bounds
from .indexing import IndexPlan, _value_array, index_scatter, index_with, put_at
from .inplace import assign, check_inplace_allowed, inplace_method
from .shape import broadcast_shape

_wrap = Tensor._wrap


# ================================================================== along one dim

def _dim_index(op, index, input, dim, allow_negative=False, error=IndexError):
    """A 1-D integer index array for `dim`, checked against its size."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: index must be an integer tensor, got {describe(index)}")
    array = index._data
    if array.dtype.kind not in "iu":
        raise IndexError(f"{op}: index must be an integer tensor (int64 or int32), got "
                         f"{index.dtype.name}")
    if array.ndim > 1:
        raise IndexError(f"{op}: index must be a vector (0-d or 1-D), got shape "
                         f"{shape_str(array.shape)}")
    array = array.reshape(-1)
    if type(array) is not type(input._data):
        array = backend.to_device(array, input.device)
    size = input._data.shape[dim] if input._data.ndim else 1
    check_bounds(op, array, size, f"dimension {dim} with size {size} (tensor of shape "
                 f"{shape_str(input._data.shape)})", allow_negative, error)
    return array % size if allow_negative and size else array


def _along(dim, array):
    """An IndexPlan picking `array` along `dim`."""
    return IndexPlan(then=(slice(None),) * dim + (array,))


def _dim_of(op, input, dim):
    return wrap_dim(op, dim, input._data.ndim)


def _on_one_element(op, input, dim, index, value, **kwargs):
    """Run a dim op on a 0-d tensor as on a 1-element 1-D one, as PyTorch does."""
    _dim_of(op.__name__, input, dim)
    if isinstance(value, Tensor) and op is not index_fill:
        value = value.reshape(-1)
    return op(input.reshape(1), 0, index, value, **kwargs).reshape(())


class IndexSelectBackward0(Node):
    def backward(self, grad):
        return index_scatter(grad, self._input_meta[0][0], self.plan, True)


def index_select(input, dim, index):
    """The slices of `input` at `index` along `dim`, in that order (a copy)."""
    if input._data.ndim == 0:  # one element: PyTorch accepts dim 0 or -1 and keeps 0-d
        _dim_of("index_select", input, dim)
        return index_select(input.reshape(1), 0, index).reshape(())
    dim = _dim_of("index_select", input, dim)
    array = _dim_index("index_select", index, input, dim)
    data = input._data
    out = _wrap(xp_of(data).take(data, array, axis=dim))
    if needs_grad(input):
        node = record(IndexSelectBackward0, (input,), out)
        node.plan = _along(dim, array)
    return out


def _check_source(op, input, dim, array, source):
    """source's array, checked: input's dtype, and input's shape with `dim` the index's length."""
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}: source must be a tensor, got {describe(source)}")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"{op}: the tensor ({input.dtype.name}) and source "
                           f"({source.dtype.name}) must have the same dtype")
    expected = list(input._data.shape)
    expected[dim] = array.size
    if source._data.shape != tuple(expected):
        raise RuntimeError(f"{op}: source of shape {shape_str(source._data.shape)} does not "
                           f"fit: expected {shape_str(expected)} (the tensor's shape "
                           f"{shape_str(input._data.shape)} with dimension {dim} the index's "
                           f"length {array.size})")
    return source._data


class IndexAddBackward0(Node):
    def backward(self, grad):
        grad_source = None
        if self.next_functions[1][0] is not None:
            grad_source = index_with(grad, self.plan)
            if self.alpha != 1:
                grad_source = grad_source * self.alpha
        return grad, grad_source


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of input with alpha * source added at `index` along `dim` (repeats add up)."""
    if input._data.ndim == 0:
        return _on_one_element(index_add, input, dim, index, source, alpha=alpha)
    dim = _dim_of("index_add", input, dim)
    array = _dim_index("index_add", index, input, dim, error=RuntimeError)  # as PyTorch
    values = _check_source("index_add", input, dim, array, source)
    if alpha != 1:
        values = values * alpha
    plan = _along(dim, array)
    data = input._data.copy()
    plan.write(data, values, accumulate=True)
    out = _wrap(data)
    if needs_grad(input, source):
        node = record(IndexAddBackward0, (input, source), out)
        node.plan, node.alpha = plan, alpha
    return out


class IndexCopyBackward0(Node):
    def backward(self, grad):
        grad_input = put_at(grad, self.plan, 0) if self.next_functions[0][0] else None
        grad_source = None
        if self.next_functions[1][0] is not None:
            grad_source = index_with(grad, self.plan)
        return grad_input, grad_source


def index_copy(input, dim, index, source):
    """A copy of input with the slices at `index` along `dim` replaced by source's."""
    if input._data.ndim == 0:
        return _on_one_element(index_copy, input, dim, index, source)
    dim = _dim_of("index_copy", input, dim)
    array = _dim_index("index_copy", index, input, dim)
    values = _check_source("index_copy", input, dim, array, source)
    plan = _along(dim, array)
    data = input._data.copy()
    plan.write(data, values)
    out = _wrap(data)
    if needs_grad(input, source):
        node = record(IndexCopyBackward0, (input, source), out)
        node.plan = plan
    return out


class IndexFillBackward0(Node):
    def backward(self, grad):
        grad_input = put_at(grad, self.plan, 0) if self.next_functions[0][0] else None
        grad_value = None
        if self.next_functions[1][0] is not None:
            grad_value = index_with(grad, self.plan).sum()
        return grad_input, grad_value


def index_fill(input, dim, index, value):
    """A copy of input with `value` (a number or 0-d tensor) at `index` along `dim`."""
    if input._data.ndim == 0:
        return _on_one_element(index_fill, input, dim, index, value)
    dim = _dim_of("index_fill", input, dim)
    array = _dim_index("index_fill", index, input, dim, allow_negative=True)
    value_t = _scalar_value_tensor("index_fill", value)
    plan = _along(dim, array)
    data = input._data.copy()
    plan.write(data, _value_array("index_fill", value, data))
    out = _wrap(data)
    if needs_grad(input, value_t):
        node = record(IndexFillBackward0, (input, value_t), out)
        node.plan = plan
    return out


def _scalar_value_tensor(op, value):
    """`value` when it is a 0-d tensor, None for a number; an error for anything else."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"{op}: the value must be a number or a 0-d tensor, got a "
                               f"tensor of shape {shape_str(value._data.shape)}")
        return value
    if not isinstance(value, (int, float, bool, np.number, np.bool_)):
        raise TypeError(f"{op}: the value must be a number or a 0-d tensor, got "
                        f"{describe(value)}")
    return None


# ================================================================== masks

def _mask_array(op, mask, input):
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        raise RuntimeError(f"{op}: the mask must be a bool tensor, got {describe(mask)}")
    if type(mask._data) is not type(input._data):
        raise RuntimeError(f"{op}: the mask is on {mask.device} but the tensor is on "
                           f"{input.device}")
    return mask._data


def _mask_shape(op, input, mask):
    """The shape the tensor and its mask (an array) broadcast to."""
    shape = broadcast_shape(input._data.shape, mask.shape)
    if shape is None:
        raise RuntimeError(f"{op}: the mask of shape {shape_str(mask.shape)} cannot be "
                           f"broadcast with the tensor's shape {shape_str(input._data.shape)}")
    return shape


class MaskedFillBackward0(Node):
    def backward(self, grad):
        grad_input = grad_value = None
        if self.next_functions[0][0] is not None:
            grad_input = masked_fill(grad, self.mask, 0)
        if self.next_functions[1][0] is not None:
            grad_value = masked_fill(grad, self.mask.logical_not(), 0).sum()
        return grad_input, grad_value


def masked_fill(input, mask, value):
    """A copy of input with `value` (a number or 0-d tensor) where `mask` is true."""
    mask_data = _mask_array("masked_fill", mask, input)
    value_t = _scalar_value_tensor("masked_fill", value)
    data = input._data
    shape = _mask_shape("masked_fill", input, mask_data)
    fill = _value_array("masked_fill", value, data)
    xp = xp_of(data)
    out = _wrap(xp.where(mask_data, xp.asarray(fill, dtype=data.dtype), data)
                .astype(data.dtype, copy=False).reshape(shape))
    if needs_grad(input, value_t):
        node = record(MaskedFillBackward0, (input, value_t), out)
        node.mask = mask
    return out


def masked_fill_(input, mask, value):
    check_inplace_allowed("masked_fill_", input)
    mask_data = _mask_array("masked_fill_", mask, input)
    if _mask_shape("masked_fill_", input, mask_data) != input._data.shape:
        raise RuntimeError(f"masked_fill_: the mask of shape {shape_str(mask_data.shape)} "
                           f"cannot be broadcast to the tensor's shape "
                           f"{shape_str(input._data.shape)}")
    value_t = _scalar_value_tensor("masked_fill_", value)
    if needs_grad(input, value_t):
        since = take_sequence_number()
        return assign("masked_fill_", input, masked_fill(input, mask, value), since)
    data = input._data
    full_mask = xp_of(data).broadcast_to(mask_data, data.shape)
    data[full_mask] = _value_array("masked_fill_", value, data)
    input._bump_version()
    return input


class MaskedSelectBackward0(Node):
    def backward(self, grad):
        zeros = _wrap(xp_of(grad._data).zeros(self.shape, dtype=grad._data.dtype))
        return masked_scatter(zeros, self.mask, grad)


def masked_select(input, mask):
    """The elements of input where `mask` (broadcast with it) is true, as a 1-D tensor."""
    mask_data = _mask_array("masked_select", mask, input)
    shape = _mask_shape("masked_select", input, mask_data)
    xp = xp_of(input._data)
    data = xp.broadcast_to(input._data, shape)
    out = _wrap(data[xp.broadcast_to(mask_data, shape)])
    if needs_grad(input):
        node = record(MaskedSelectBackward0, (input,), out)
        node.mask, node.shape = mask, shape
    return out


class MaskedScatterBackward0(Node):
    def backward(self, grad):
        grad_input = grad_source = None
        if self.next_functions[0][0] is not None:
            grad_input = masked_fill(grad, self.mask, 0)
        if self.next_functions[1][0] is not None:
            shape = self._input_meta[1][0]
            picked = masked_select(grad, self.mask)
            zeros = _wrap(xp_of(grad._data).zeros(math.prod(shape), grad._data.dtype))
            plan = IndexPlan(first=(slice(0, picked._data.size),))
            grad_source = put_at(zeros, plan, picked).reshape(shape)
        return grad_input, grad_source


def masked_scatter(input, mask, source):
    """A copy of input with source's elements, in order, where `mask` is true."""
    mask_data = _mask_array("masked_scatter", mask, input)
    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter: source must be a tensor, got {describe(source)}")
    shape = _mask_shape("masked_scatter", input, mask_data)
    xp = xp_of(input._data)
    data = xp.broadcast_to(input._data, shape).copy()
    full_mask = xp.broadcast_to(mask_data, shape)
    count = int(full_mask.sum())
    if source._data.size < count:
        raise RuntimeError(f"masked_scatter: source has {source._data.size} elements but the "
                           f"mask selects {count} (mask of shape {shape_str(mask_data.shape)})")
    data[full_mask] = source._data.reshape(-1)[:count].astype(data.dtype, copy=False)
    out = _wrap(data)
    if needs_grad(input, source):
        node = record(MaskedScatterBackward0, (input, source), out)
        node.mask = mask
    return out


# ================================================================== flat positions

def _flat_index(op, index, input):
    """`index` as an integer array of positions in input viewed as 1-D (negatives wrap)."""
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor, got {describe(index)}")
    array = index._data
    if type(array) is not type(input._data):
        array = backend.to_device(array, input.device)
    size = input._data.size
    check_bounds(op, array, size,
                 f"a tensor with {size} elements (shape {shape_str(input._data.shape)})", True,
                 IndexError)
    return array % size if size else array


class TakeBackward0(Node):
    def backward(self, grad):
        shape = self._input_meta[0][0]
        zeros = _wrap(xp_of(grad._data).zeros(math.prod(shape), dtype=grad._data.dtype))
        plan = IndexPlan(then=(self.positions.reshape(-1),))
        return put_at(zeros, plan, grad.reshape(-1), accumulate=True).reshape(shape)


def take(input, index):
    """input viewed as 1-D, picked at `index`; the result has index's shape."""
    positions = _flat_index("take", index, input)
    out = _wrap(input._data.reshape(-1)[positions])
    if needs_grad(input):
        node = record(TakeBackward0, (input,), out)
        node.positions = positions
    return out


class PutBackward0(Node):
    def backward(self, grad):
        grad_input = grad_source = None
        flat = grad.reshape(-1)
        if self.next_functions[0][0] is not None:
            grad_input = grad if self.accumulate else put_at(flat, self.plan, 0).reshape(
                grad._data.shape)
        if self.next_functions[1][0] is not None:
            grad_source = index_with(flat, self.plan).reshape(self._input_meta[1][0])
        return grad_input, grad_source


def put(input, index, source, accumulate=False):
    """A copy of input (viewed as 1-D) with source's elements written (or added) at index."""
    positions = _flat_index("put", index, input)
    if not isinstance(source, Tensor):
        raise TypeError(f"put: source must be a tensor, got {describe(source)}")
    if source._data.size != positions.size:
        raise RuntimeError(f"put: source has {source._data.size} elements but index has "
                           f"{positions.size}; they must match")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"put: the tensor ({input.dtype.name}) and source "
                           f"({source.dtype.name}) must have the same dtype")
    plan = IndexPlan(then=(positions.reshape(-1),))
    data = input._data.copy()
    plan.write(data.reshape(-1), source._data.reshape(-1), accumulate)
    out = _wrap(data)
    if needs_grad(input, source):
        node = record(PutBackward0, (input, source), out)
        node.plan, node.accumulate = plan, accumulate
    return out


# ================================================================== where are the non-zeros

def nonzero(input, *, as_tuple=False):
    """The indices of input's non-zero elements: an (n, ndim) int64 tensor, or with as_tuple
    one 1-D tensor per dimension (a 0-d input counts as 1-D)."""
    data = input._data
    xp = xp_of(data)
    coords = xp.nonzero(data.reshape(1) if data.ndim == 0 else data)
    coords = [c.astype(np.int64, copy=False) for c in coords]
    if as_tuple:
        return tuple(_wrap(c) for c in coords)
    if data.ndim == 0:
        return _wrap(xp.zeros((coords[0].size, 0), dtype=np.int64))
    return _wrap(xp.stack(coords, axis=1))


def argwhere(input):
    return nonzero(input)


# ================================================================== in-place forms

index_add_ = inplace_method(index_add, "index_add_")
index_copy_ = inplace_method(index_copy, "index_copy_")
index_fill_ = inplace_method(index_fill, "index_fill_")
masked_scatter_ = inplace_method(masked_scatter, "masked_scatter_")
put_ = inplace_method(put, "put_")


METHODS = ("index_select", "index_add", "index_add_", "index_copy", "index_copy_",
           "index_fill", "index_fill_", "masked_fill", "masked_fill_", "masked_select",
           "masked_scatter", "masked_scatter_", "take", "put", "put_", "nonzero", "argwhere")
