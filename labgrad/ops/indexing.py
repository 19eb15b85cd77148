"""Indexing: ``t[index]``, ``t[index] = value`` and index_put, and the parsing of an index into
an IndexPlan that the other index ops reuse. The named ops that pick or place values by an
index tensor or a mask (index_select, masked_fill, take, nonzero, ...) are in index_ops.py.

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
from ._util import describe, needs_grad, record, shape_str, xp_of
from .inplace import assign, check_inplace_allowed

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
    """PyTorch's name for an index whose last step is None; a different node from shape.py's
    UnsqueezeBackward0 (unsqueeze), as it undoes the whole index, not one unsqueeze."""


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


METHODS = ("index_put", "index_put_")
