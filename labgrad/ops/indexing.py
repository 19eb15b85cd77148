"""Indexing: ``t[index]`` and ``t[index] = value``, and the ops that pick or place values by an
index tensor or a mask: index_select, index_add, index_copy, index_fill, masked_fill,
masked_select, masked_scatter, take, put, nonzero.

An index follows PyTorch, not NumPy, where the two differ: Python ints (and 0-d integer tensors)
select first, like ``select``, and only then do index tensors apply. So ``x[:, 0, :, [0, 1]]``
has shape (2, 4, 2) for a (2, 3, 4, 5) tensor, where NumPy gives (2, 2, 4).

Basic indexing (ints, slices, None, Ellipsis) returns a view; anything with an index tensor,
list or mask copies, as in PyTorch. Gradients of repeated indices accumulate.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..autograd.graph import Node, take_sequence_number
from ..backend import kernels
from ..tensor import Tensor
from ._util import describe, needs_grad, record, shape_str, wrap_dim, xp_of
from .inplace import assign, check_inplace_allowed, inplace_method

_wrap = Tensor._wrap
_INT_TYPES = (int, np.integer)


# ================================================================== parsing an index

class IndexPlan:
    """A parsed index, applied in up to two steps: `first` (basic: ints, slices, None,
    Ellipsis; gives a view) and then `then` (advanced: index arrays and masks; copies)."""

    __slots__ = ("first", "then")

    def __init__(self, first=None, then=None):
        self.first, self.then = first, then

    @property
    def is_view(self) -> bool:
        return self.then is None

    def select(self, data):
        """data[index]."""
        if self.first is not None:
            data = data[self.first]
        if self.then is not None:
            data = data[self.then]
        return data

    def write(self, target, values, accumulate=False):
        """target[index] = values (or += with accumulate, adding at repeated indices)."""
        view = target[self.first] if self.first is not None else target
        if self.then is None:
            if accumulate:
                view += values
            else:
                view[...] = values
        elif accumulate:
            kernels.scatter_add(view, self.then, values)
        else:
            view[self.then] = values

    def node_class(self):
        """The backward node PyTorch would name for this index."""
        if self.then is not None:
            return IndexBackward0
        last = None  # PyTorch names the node after the last op the index applied
        for item in self.first:
            if isinstance(item, int):
                last = SelectBackward0
            elif item is None:
                last = UnsqueezeBackward0
            elif isinstance(item, slice) and item != slice(None):
                last = SliceBackward0
        return last or AliasBackward0


def parse_index(op, index, data) -> IndexPlan:
    """`index` (anything Python's ``[]`` accepts) as an IndexPlan for `data`."""
    items = _as_items(index)
    parsed, has_int, advanced = [], False, False
    for item in items:
        if item is None or item is Ellipsis:
            parsed.append(item)
        elif isinstance(item, (bool, np.bool_)):
            parsed.append(bool(item))  # adds a dim of size 1 (True) or 0 (False); copies
            advanced = True
        elif isinstance(item, _INT_TYPES):
            parsed.append(int(item))
            has_int = True
        elif isinstance(item, slice):
            parsed.append(_slice(op, item, index))
        elif _is_int_scalar_tensor(item):
            parsed.append(int(item._data))  # selects like an int (a view), as in PyTorch
            has_int = True
        elif isinstance(item, (Tensor, list, tuple, np.ndarray)) or backend.is_array(item):
            parsed.append(_index_array(op, item, data, index))
            advanced = True
        else:
            raise IndexError(
                f"{op}: only integers, slices (:), ellipsis (...), None and integer or bool "
                f"tensors are valid indices, got {type(item).__name__} in {format_index(index)}")
    if not advanced:
        return IndexPlan(first=_keep_dims_view(parsed))
    parsed = _expand_ellipsis(parsed, data.ndim)
    if not has_int:
        return IndexPlan(then=tuple(parsed))
    return _two_step_plan(parsed)


def _expand_ellipsis(items, ndim):
    """`...` as the full slices it stands for. NumPy counts an ellipsis between two index
    arrays as separating them even when it covers no dimension; PyTorch does not."""
    if not any(item is Ellipsis for item in items):
        return items
    used = 0
    for item in items:
        if isinstance(item, (int, slice)) and not isinstance(item, bool):
            used += 1
        elif backend.is_array(item):
            used += item.ndim if item.dtype == np.bool_ else 1
    position = next(i for i, item in enumerate(items) if item is Ellipsis)
    fill = [slice(None)] * max(ndim - used, 0)
    return items[:position] + fill + items[position + 1:]


def _as_items(index):
    """The index as a tuple of items; a short list holding slices, None, ... or sequences
    counts as a tuple (PyTorch 2.x's legacy rule, deprecated there)."""
    if isinstance(index, tuple):
        return index
    if isinstance(index, list) and len(index) < 32 and any(
            item is None or item is Ellipsis
            or isinstance(item, (slice, Tensor, list, tuple, np.ndarray)) for item in index):
        warnings.warn("Indexing with a list of slices, None, tensors or sequences treats the "
                      "list as a tuple, as PyTorch does; write x[tuple(seq)] to say so.",
                      UserWarning, stacklevel=4)
        return tuple(index)
    return (index,)


def _is_int_scalar_tensor(item) -> bool:
    return (isinstance(item, Tensor) and item._data.ndim == 0
            and item._data.dtype.kind in "iu" and item._data.dtype != np.uint8)


def _slice(op, item, index):
    start, stop, step = (x.item() if isinstance(x, Tensor) else x
                         for x in (item.start, item.stop, item.step))
    if step is not None and step <= 0:
        raise ValueError(f"{op}: slice step must be greater than zero, got {step} in "
                         f"{format_index(index)} (use flip() to reverse)")
    return slice(start, stop, step)


def _index_array(op, item, data, index):
    """An index tensor, list or array as an integer or bool array on `data`'s device."""
    if isinstance(item, Tensor):
        array = item._data
    elif isinstance(item, (list, tuple)):
        array = np.asarray([x.item() if isinstance(x, Tensor) else x for x in item])
    else:
        array = item
    kind = array.dtype.kind
    if kind == "u" and array.dtype.itemsize == 1:
        warnings.warn(f"{op}: indexing with a uint8 tensor is deprecated; it is read as a bool "
                      "mask. Use a bool tensor instead.", UserWarning, stacklevel=4)
        array = array.astype(bool)
    elif kind not in "biu":
        if array.size == 0:
            array = array.astype(np.int64)
        else:
            raise IndexError(f"{op}: tensors used as indices must be integer or bool tensors, "
                             f"got {array.dtype} in {format_index(index)} (use .long())")
    if type(array) is not type(data):
        array = backend.to_device(array, backend.device_of(data))
    return array


def _keep_dims_view(items):
    """A basic index that always gives an array view: NumPy returns a scalar for a full set
    of ints, but a trailing Ellipsis keeps a 0-d view, as PyTorch's x[0, 1] is."""
    if not any(item is Ellipsis for item in items):
        items.append(Ellipsis)
    return tuple(items)


def _two_step_plan(items) -> IndexPlan:
    """Ints and index arrays together: ints (and slices, None) first, the arrays after."""
    first, then = [], []
    for item in items:
        if isinstance(item, bool):
            then.append(item)  # consumes no dimension in the first step
        elif isinstance(item, int):
            first.append(item)  # its dimension is gone in the second step
        elif item is None or isinstance(item, slice):
            first.append(item)
            then.append(slice(None))
        else:  # an index array: the first step keeps every dimension it indexes
            first.extend([slice(None)] * (item.ndim if item.dtype == np.bool_ else 1))
            then.append(item)
    return IndexPlan(first=_keep_dims_view(first), then=tuple(then))


def format_index(index) -> str:
    """An index as Python would write it: [0, 1:3, ..., tensor([0, 2])]."""
    items = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(_format_item(item) for item in items) + "]"


def _format_item(item):
    if item is Ellipsis:
        return "..."
    if isinstance(item, slice):
        parts = ["" if x is None else str(x) for x in (item.start, item.stop, item.step)]
        return ":".join(parts if item.step is not None else parts[:2])
    if isinstance(item, Tensor) or backend.is_array(item):
        array = item._data if isinstance(item, Tensor) else item
        if array.size <= 8:
            return f"tensor({backend.to_device(array, 'cpu').tolist()})"
        return f"<{array.dtype} tensor of shape {shape_str(array.shape)}>"
    text = repr(item)
    return text if len(text) <= 60 else text[:57] + "..."


def _index_error(op, error, index, data) -> IndexError:
    """NumPy's complaint, reworded, naming the op, the index and the tensor's shape."""
    reason = str(error).replace("axis", "dimension").replace(
        "boolean index did not match indexed array", "the bool mask does not match the tensor")
    return IndexError(f"{op}: {reason}; index {format_index(index)} on a tensor of shape "
                      f"{shape_str(data.shape)}")


# ================================================================== t[index]

class _BasicIndexBackward(Node):
    """Backward of basic indexing (a view): the gradient placed into zeros."""

    def backward(self, grad):
        return index_scatter(grad, self._input_meta[0][0], self.plan, False)


class SelectBackward0(_BasicIndexBackward):
    pass


class SliceBackward0(_BasicIndexBackward):
    pass


class UnsqueezeBackward0(_BasicIndexBackward):
    pass


class AliasBackward0(_BasicIndexBackward):
    pass


class IndexBackward0(Node):
    """Backward of advanced indexing: repeated indices accumulate."""

    def backward(self, grad):
        return index_scatter(grad, self._input_meta[0][0], self.plan, True)


def getitem(self, index):
    data = self._data
    plan = parse_index("__getitem__", index, data)
    try:
        return index_with(self, plan)
    except IndexError as error:
        raise _index_error("__getitem__", error, index, data) from None


def index_with(input, plan: IndexPlan):
    """input[plan]: a view for basic indexing, else a copy; recorded for backward."""
    out = _wrap(plan.select(input._data))
    if plan.is_view:
        out._as_view_of(input)
    if needs_grad(input):
        node = record(plan.node_class(), (input,), out)
        node.plan = plan
    return out


class IndexScatterBackward0(Node):
    def backward(self, grad):
        return index_with(grad, self.plan)


def index_scatter(values, shape, plan, accumulate):
    """zeros(shape) with `values` put at `plan` (added where indices repeat): the gradient of
    indexing, itself differentiable."""
    data = xp_of(values._data).zeros(shape, dtype=values._data.dtype)
    plan.write(data, values._data, accumulate)
    out = _wrap(data)
    if needs_grad(values):
        node = record(IndexScatterBackward0, (values,), out)
        node.plan = plan
    return out


# ================================================================== t[index] = value

class IndexPutBackward0(Node):
    def backward(self, grad):
        grad_self = grad_values = None
        if self.next_functions[0][0] is not None:
            grad_self = grad if self.accumulate else put_at(grad, self.plan, 0)
        if self.next_functions[1][0] is not None:
            grad_values = _unbroadcast(index_with(grad, self.plan), self._input_meta[1][0])
        return grad_self, grad_values


def _unbroadcast(grad, shape):
    """Sum a gradient down to `shape`, which may have more leading 1s than the gradient."""
    extra = len(shape) - grad._data.ndim
    if extra <= 0:
        return grad  # the engine sums broadcast dimensions away
    return grad.sum_to_size(shape[extra:]).reshape(shape)


def _value_array(op, value, data):
    """What a tensor receives in an assignment: a number, or an array of its dtype."""
    if isinstance(value, Tensor):
        if type(value._data) is not type(data):
            raise RuntimeError(f"{op}: the value is on {value.device} but the tensor is on "
                               f"{backend.device_of(data)}; move it with .to(device) first")
        return value._data.astype(data.dtype, copy=False)
    if isinstance(value, (int, float, bool, np.number, np.bool_)):
        return value
    raise TypeError(f"{op}: can't assign a {type(value).__name__} to a tensor; use a number "
                    "or a tensor (labgrad.tensor(...))")


def put_at(input, plan, values, accumulate=False, op="index_put", index=None):
    """A copy of input with values written (or added) at `plan`; differentiable in both."""
    data = input._data
    out_data = data.copy()
    try:
        plan.write(out_data, _value_array(op, values, data), accumulate)
    except IndexError as error:
        raise _index_error(op, error, index, data) from None
    except ValueError:
        raise RuntimeError(f"{op}: cannot put {describe(values)} into the indexed region of "
                           f"shape {shape_str(np.shape(plan.select(data)))} (index "
                           f"{format_index(index)} on a tensor of shape "
                           f"{shape_str(data.shape)})") from None
    out = _wrap(out_data)
    values_t = values if isinstance(values, Tensor) else None
    if needs_grad(input, values_t):
        node = record(IndexPutBackward0, (input, values_t), out)
        node.plan, node.accumulate = plan, accumulate
    return out


def index_put(input, indices, values, accumulate=False):
    """A copy of input with values written (or added, with accumulate) at indices, a tuple of
    index tensors (None for a whole dimension)."""
    indices = _indices_tuple(indices)
    plan = parse_index("index_put", indices, input._data)
    return put_at(input, plan, values, accumulate, "index_put", indices)


def index_put_(input, indices, values, accumulate=False):
    return _store("index_put_", input, _indices_tuple(indices), values, accumulate)


def _indices_tuple(indices):
    """index_put's indices: a list or tuple of index tensors, None meaning a whole dim."""
    if isinstance(indices, (list, tuple)):
        return tuple(slice(None) if i is None else i for i in indices)
    return indices


def setitem(self, index, value):
    _store("__setitem__", self, index, value)


def _store(op, self, index, value, accumulate=False):
    """self[index] = value (or += with accumulate), in place."""
    check_inplace_allowed(op, self)
    data = self._data
    plan = parse_index(op, index, data)
    if needs_grad(self, value if isinstance(value, Tensor) else None):
        since = take_sequence_number()
        return assign(op, self, put_at(self, plan, value, accumulate, op, index), since)
    try:
        plan.write(data, _value_array(op, value, data), accumulate)
    except IndexError as error:
        raise _index_error(op, error, index, data) from None
    except ValueError as error:
        raise RuntimeError(f"{op}: cannot assign {describe(value)} to the indexed region of "
                           f"shape {shape_str(np.shape(plan.select(data)))} (index "
                           f"{format_index(index)} on a tensor of shape "
                           f"{shape_str(data.shape)}): {error}") from None
    self._bump_version()
    return self


# ================================================================== along one dim

def _dim_index(op, index, input, dim, allow_negative=False):
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
    _check_bounds(op, array, size, allow_negative,
                  f"dimension {dim} of size {size} (tensor of shape "
                  f"{shape_str(input._data.shape)})")
    return array % size if allow_negative and size else array


def _check_bounds(op, array, size, allow_negative, where):
    if not array.size:
        return
    low, high = int(array.min()), int(array.max())
    floor = -size if allow_negative else 0
    if low < floor or high >= size:
        bad = low if low < floor else high
        raise IndexError(f"{op}: index {bad} is out of range for {where}")


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
    array = _dim_index("index_add", index, input, dim)
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


def _broadcast_shape(op, input, mask):
    try:
        return np.broadcast_shapes(input._data.shape, mask.shape)
    except ValueError:
        raise RuntimeError(f"{op}: the mask of shape {shape_str(mask.shape)} cannot be "
                           f"broadcast with the tensor's shape "
                           f"{shape_str(input._data.shape)}") from None


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
    shape = _broadcast_shape("masked_fill", input, mask_data)
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
    if _broadcast_shape("masked_fill_", input, mask_data) != input._data.shape:
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
    shape = _broadcast_shape("masked_select", input, mask_data)
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
            zeros = _wrap(xp_of(grad._data).zeros(int(np.prod(shape)), grad._data.dtype))
            plan = IndexPlan(first=(slice(0, picked._data.size),))
            grad_source = put_at(zeros, plan, picked).reshape(shape)
        return grad_input, grad_source


def masked_scatter(input, mask, source):
    """A copy of input with source's elements, in order, where `mask` is true."""
    mask_data = _mask_array("masked_scatter", mask, input)
    if not isinstance(source, Tensor):
        raise TypeError(f"masked_scatter: source must be a tensor, got {describe(source)}")
    shape = _broadcast_shape("masked_scatter", input, mask_data)
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
    _check_bounds(op, array, size, True,
                  f"a tensor with {size} elements (shape {shape_str(input._data.shape)})")
    return array % size if size else array


class TakeBackward0(Node):
    def backward(self, grad):
        shape = self._input_meta[0][0]
        zeros = _wrap(xp_of(grad._data).zeros(int(np.prod(shape)), dtype=grad._data.dtype))
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


METHODS = ("index_put", "index_put_", "index_select", "index_add", "index_add_",
           "index_copy", "index_copy_", "index_fill", "index_fill_", "masked_fill",
           "masked_fill_", "masked_select", "masked_scatter", "masked_scatter_", "take", "put",
           "put_", "nonzero", "argwhere")
