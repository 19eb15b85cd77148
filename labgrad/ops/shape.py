"""Reshaping views: view, reshape, expand, squeeze and unsqueeze, permute and transpose,
flatten and unflatten, movedim, narrow and select, and diagonal.

Those PyTorch documents as views (view, reshape where it can, expand, squeeze, unsqueeze,
permute, transpose, movedim, unflatten, narrow, select, diagonal) share memory and the version
counter with their input (``_as_view_of``); flatten and ravel are reshape, and narrow_copy copies.
Joining and splitting are in joining.py, copies that rearrange values in rearrange.py.
"""
from __future__ import annotations

import math

import numpy as np

from .. import dtypes as _dt
from ..autograd.graph import Node
from ..tensor import Tensor, address_of
from .conversion import clone
from ._util import needs_grad, normalize_dims, record, shape_args, shape_str, wrap_dim, xp_of
from .indexing import IndexPlan, index_with
from .reductions import sum_to_shape

_wrap = Tensor._wrap


def _view(input, data, node_cls, **attrs):
    """A view of `input` holding `data`, recorded as `node_cls` when grad is needed."""
    out = _wrap(data)._as_view_of(input)
    if needs_grad(input):
        node = record(node_cls, (input,), out)
        node.__dict__.update(attrs)
    return out


def _infer_shape(op, shape, source):
    """Resolve one -1 in `shape`, or explain why `shape` cannot hold the elements of `source`
    (an input shape, or a bare element count)."""
    if isinstance(source, tuple):
        numel = math.prod(source)
        what = f"an input of shape {source} ({numel} elements)"
    else:
        numel, what = source, f"a dimension of size {source}"
    shape = list(shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got {tuple(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"{op}: invalid shape dimension {s} in {tuple(shape)}")
            known *= s
    if (known == 0 or numel % known) if unknown else known != numel:
        raise RuntimeError(f"{op}: shape {tuple(shape)} is invalid for {what}")
    if unknown:
        shape[unknown[0]] = numel // known
    return tuple(shape)


class ViewBackward0(Node):
    def backward(self, grad):
        return grad.reshape(self._input_meta[0][0])


class UnsafeViewBackward0(ViewBackward0):
    pass


def view(input, *shape, dtype=None):
    """view(*shape): the same elements in a new shape, sharing memory. view(dtype): the same
    memory read as another dtype (its bits reinterpreted, not its values converted)."""
    if len(shape) == 1 and isinstance(shape[0], _dt.dtype) and dtype is None:
        shape, dtype = (), shape[0]
    if dtype is not None:
        if shape:
            raise TypeError(f"view: pass either a shape or a dtype, not both (got {shape!r} and "
                            f"dtype={dtype!r})")
        return _view_as_dtype(input, _dt.to_dtype(dtype))
    data = input._data
    shape = _infer_shape("view", shape_args("view", shape), data.shape)
    try:
        viewed = _reshape_no_copy(data, shape)
    except (ValueError, AttributeError):  # CuPy raises AttributeError
        raise RuntimeError(
            f"view: shape {shape} is not compatible with the input's shape {data.shape} and "
            "strides (the input is not contiguous in the needed way). Use .reshape(...) "
            "instead.") from None
    return _view(input, viewed, ViewBackward0)


def _view_as_dtype(input, target):
    """The input's memory reinterpreted as `target`, with PyTorch's rules: between element
    sizes that differ, the last dim changes size and must be contiguous (and, to a larger
    element, divisible, with the other strides and the storage offset divisible too). As in
    PyTorch the result shares memory and the version counter but has no gradient, even for
    the same dtype: its values are not a differentiable function of the input's."""
    data = input._data
    old, new = data.dtype.itemsize, target.itemsize
    if old != new:
        what = f"to view {input.dtype.name} as {target.name} (different element sizes)"
        if data.ndim == 0:
            raise RuntimeError(f"view: a 0-d tensor of {input.dtype.name} cannot be viewed as "
                               f"{target.name}: a different element size needs a last "
                               "dimension to resize")
        # (NumPy's strides of a dim of size 1, or of an empty array, mean nothing: skipped.)
        if data.strides[-1] != old and data.shape[-1] != 1 and data.size:
            raise RuntimeError(f"view: the last dimension must be contiguous (stride 1) {what}, "
                               f"but its stride is {data.strides[-1] // old}")
        if new > old:
            ratio = new // old
            if data.shape[-1] % ratio:
                raise RuntimeError(f"view: the size of the last dimension must be divisible "
                                   f"by {ratio} {what}, but it is {data.shape[-1]}")
            offset = (address_of(data) - address_of(input._base._data)
                      if input._base is not None and data.size else 0)
            if offset % new:
                raise RuntimeError(f"view: the storage offset must be divisible by {ratio} "
                                   f"{what}, but it is {offset // old}")
            for axis in range(data.ndim - 1):
                if data.strides[axis] % new and data.shape[axis] != 1 and data.size:
                    raise RuntimeError(f"view: the stride of dimension {axis} must be divisible "
                                       f"by {ratio} {what}, but it is {data.strides[axis] // old}")
    if not data.size and old != new:  # NumPy refuses to resize an empty array's last dim
        shape = data.shape[:-1] + (data.shape[-1] * old // new,)
        return _wrap(xp_of(data).empty(shape, target.np))._as_view_of(input)
    try:
        viewed = data.view(target.np)
    except ValueError as error:  # a layout NumPy cannot reinterpret
        raise RuntimeError(f"view: cannot view a tensor of shape {shape_str(data.shape)} "
                           f"({input.dtype.name}) as {target.name}: {error}") from None
    return _wrap(viewed)._as_view_of(input)


# Array type -> False once its module's reshape turned out to have no copy= argument (CuPy).
_reshape_takes_copy: dict = {}


def _reshape_no_copy(data, shape):
    """`data` viewed in `shape`; ValueError or AttributeError where that would need a copy."""
    kind = type(data)
    if _reshape_takes_copy.get(kind, True):
        try:
            return xp_of(data).reshape(data, shape, copy=False)
        except TypeError:  # decided once per array type: no copy argument
            _reshape_takes_copy[kind] = False
    out = data.view()
    out.shape = shape
    return out


def reshape(input, *shape):
    data = input._data
    shape = _infer_shape("reshape", shape_args("reshape", shape), data.shape)
    if shape == data.shape:
        return _view(input, data.view(), ViewBackward0)
    try:
        return _view(input, _reshape_no_copy(data, shape), ViewBackward0)
    except (ValueError, AttributeError):
        out = _wrap(data.reshape(shape))  # a copy: not a view
        if needs_grad(input):
            record(UnsafeViewBackward0, (input,), out)
        return out


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


class ExpandBackward0(Node):
    def backward(self, grad):
        return sum_to_shape(grad, self._input_meta[0][0])


def expand(input, *sizes):
    sizes = shape_args("expand", sizes)
    data = input._data
    if len(sizes) < data.ndim:
        raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least the "
                           f"tensor's number of dimensions ({data.ndim}), shape {data.shape}")
    lead = len(sizes) - data.ndim
    target = []
    for i, s in enumerate(sizes):
        current = data.shape[i - lead] if i >= lead else None
        if s == -1:
            if current is None:
                raise RuntimeError(f"expand: -1 is not allowed in a new leading dimension "
                                   f"(sizes {tuple(sizes)})")
            s = current
        elif current is not None and current != 1 and current != s:
            raise RuntimeError(
                f"expand: the expanded size {s} must match the existing size {current} at "
                f"dimension {i} (tensor of shape {data.shape} to {tuple(sizes)}); only "
                "dimensions of size 1 can be expanded")
        target.append(s)
    target = tuple(target)
    if target == data.shape:
        return _view(input, data.view(), ExpandBackward0)
    return _view(input, xp_of(data).broadcast_to(data, target), ExpandBackward0)


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, size):
    return expand(input, size)


def broadcast_shape(*shapes):
    """The shape that `shapes` broadcast to, or None where they do not broadcast."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


class UnsqueezeBackward0(Node):
    """unsqueeze's node. indexing.py has a node of the same (PyTorch's) name for an index
    whose last step is None (``x[0, None]``); that one undoes the whole index, so the two
    stay separate classes."""

    def backward(self, grad):
        return grad.squeeze(self.dim)


def unsqueeze(input, dim):
    dim = wrap_dim("unsqueeze", dim, input._data.ndim + 1)
    return _view(input, xp_of(input._data).expand_dims(input._data, dim), UnsqueezeBackward0,
                 dim=dim)


class SqueezeBackward0(Node):
    def backward(self, grad):
        return grad.reshape(self._input_meta[0][0])


def squeeze(input, dim=None):
    data = input._data
    if data.ndim == 0:
        if dim is not None:
            normalize_dims("squeeze", dim, 0)  # only 0 and -1 name the one pseudo-dimension
        axes = ()
    elif dim is None:
        axes = tuple(i for i, s in enumerate(data.shape) if s == 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = tuple(a for a in (wrap_dim("squeeze", d, data.ndim) for d in dims)
                     if data.shape[a] == 1)
    return _view(input, xp_of(data).squeeze(data, axis=axes) if axes else data.view(),
                 SqueezeBackward0)


class PermuteBackward0(Node):
    def backward(self, grad):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return grad.permute(inverse)


def permute(input, *dims):
    dims = shape_args("permute", dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise RuntimeError(f"permute: got {len(dims)} dims {tuple(dims)} for a tensor with "
                           f"{ndim} dimensions, shape {input._data.shape}")
    dims = tuple(wrap_dim("permute", d, ndim) for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError(f"permute: dims {tuple(dims)} repeat a dimension")
    return _view(input, input._data.transpose(dims), PermuteBackward0, dims=dims)


class TransposeBackward0(Node):
    def backward(self, grad):
        return grad.transpose(self.dim0, self.dim1)


def transpose(input, dim0, dim1):
    ndim = input._data.ndim
    if ndim == 0:
        return _view(input, input._data.view(), TransposeBackward0, dim0=0, dim1=0)
    d0, d1 = wrap_dim("transpose", dim0, ndim), wrap_dim("transpose", dim1, ndim)
    return _view(input, input._data.swapaxes(d0, d1), TransposeBackward0, dim0=d0, dim1=d1)


swapaxes = swapdims = transpose


def t(input):
    """Transpose a tensor of at most 2 dimensions."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, but got shape "
                           f"{input._data.shape}; use transpose(dim0, dim1) or .mT")
    return transpose(input, 0, -1) if input._data.ndim == 2 else input.view(input.shape)


def flatten(input, start_dim=0, end_dim=-1):
    shape = input._data.shape
    if not shape:
        return reshape(input, 1)
    start = wrap_dim("flatten", start_dim, len(shape))
    end = wrap_dim("flatten", end_dim, len(shape))
    if start > end:
        raise RuntimeError(f"flatten: start_dim {start_dim} cannot come after end_dim {end_dim}")
    middle = math.prod(shape[start:end + 1])
    return reshape(input, shape[:start] + (middle,) + shape[end + 1:])


def ravel(input):
    return reshape(input, -1)


# ================================================================== moving dims (views)

def _dim_list(op, dims, ndim):
    """An int or a sequence of dims as a list of non-negative dims (order kept)."""
    dims = [dims] if isinstance(dims, (int, np.integer)) else list(dims)
    return [wrap_dim(op, int(d), ndim) for d in dims]


def movedim(input, source, destination):
    """Move the dims in `source` to the positions in `destination`; the rest keep their order."""
    ndim = input._data.ndim
    src = _dim_list("movedim", source, ndim)
    dst = _dim_list("movedim", destination, ndim)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: source {tuple(src)} and destination {tuple(dst)} must "
                           "name the same number of dims")
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in source {tuple(src)} or destination "
                           f"{tuple(dst)}")
    order = [d for d in range(ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


def unflatten(input, dim, sizes):
    """Split dimension `dim` into `sizes` (one may be -1); a view."""
    shape = input._data.shape
    dim = wrap_dim("unflatten", dim, len(shape))
    sizes = shape_args("unflatten", (sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    try:
        sizes = _infer_shape("unflatten", sizes, shape[dim])
    except RuntimeError:
        raise RuntimeError(f"unflatten: sizes {tuple(sizes)} don't multiply up to the size of "
                           f"dimension {dim} ({shape[dim]}) of a tensor of shape "
                           f"{shape_str(shape)}") from None
    return view(input, shape[:dim] + sizes + shape[dim + 1:])


# ================================================================== slicing one dim (views)

def _int_arg(value):
    return int(value.item()) if isinstance(value, Tensor) else int(value)


def narrow(input, dim, start, length):
    """The view of `length` elements along `dim` from `start` (negative counts from the end)."""
    if input._data.ndim == 0:
        raise RuntimeError("narrow: cannot be applied to a 0-d tensor")
    dim = wrap_dim("narrow", dim, input._data.ndim)
    size = input._data.shape[dim]
    start, length = _int_arg(start), _int_arg(length)
    if not -size <= start <= size:
        raise IndexError(f"narrow: start {start} is out of range for dimension {dim} of size "
                         f"{size} (tensor of shape {shape_str(input._data.shape)})")
    start = start + size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds the size "
                           f"{size} of dimension {dim} (tensor of shape "
                           f"{shape_str(input._data.shape)})")
    first = (slice(None),) * dim + (slice(start, start + length), Ellipsis)
    return index_with(input, IndexPlan(first=first))


def narrow_copy(input, dim, start, length):
    return clone(narrow(input, dim, start, length))


def select(input, dim, index):
    """The view at `index` along `dim`, without that dim."""
    if input._data.ndim == 0:
        raise IndexError("select: cannot be applied to a 0-d tensor")
    dim = wrap_dim("select", dim, input._data.ndim)
    size = input._data.shape[dim]
    index = _int_arg(index)
    if not -size <= index < size:
        raise IndexError(f"select: index {index} is out of range for dimension {dim} of size "
                         f"{size} (tensor of shape {shape_str(input._data.shape)})")
    first = (slice(None),) * dim + (index % size, Ellipsis)
    return index_with(input, IndexPlan(first=first))


# ================================================================== the diagonal (a view)

def _diagonal_dims(op, ndim, offset, dim1, dim2):
    if ndim < 2:
        raise RuntimeError(f"{op}: expected a tensor with at least 2 dimensions, got {ndim}")
    d1, d2 = wrap_dim(op, dim1, ndim), wrap_dim(op, dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"{op}: dim1 and dim2 cannot be the same dimension ({dim1}, {dim2})")
    return int(offset), d1, d2


def _diagonal_view(data, offset, d1, d2):
    """The writable strided view of `data`'s diagonal at (d1, d2), moved to the last dim."""
    n1, n2 = data.shape[d1], data.shape[d2]
    length = max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2))
    if length and offset:  # start the view at the diagonal's first element
        dim, skip = (d2, offset) if offset > 0 else (d1, -offset)
        data = data[(slice(None),) * dim + (slice(skip, None),)]
    rest = [i for i in range(data.ndim) if i not in (d1, d2)]
    shape = [data.shape[i] for i in rest] + [length]
    strides = [data.strides[i] for i in rest] + [data.strides[d1] + data.strides[d2]]
    return xp_of(data).lib.stride_tricks.as_strided(data, shape, strides)


class DiagonalBackward0(Node):
    def backward(self, grad):
        zeros = _wrap(xp_of(grad._data).zeros(self._input_meta[0][0], grad._data.dtype))
        # A method call: diagonal_scatter is in rearrange.py, which imports this module.
        return zeros.diagonal_scatter(grad, self.offset, self.dim1, self.dim2)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the (dim1, dim2) planes as the last dim; a view."""
    offset, d1, d2 = _diagonal_dims("diagonal", input._data.ndim, offset, dim1, dim2)
    return _view(input, _diagonal_view(input._data, offset, d1, d2), DiagonalBackward0,
                 offset=offset, dim1=d1, dim2=d2)


METHODS = ("view", "reshape", "view_as", "reshape_as", "expand", "expand_as", "broadcast_to",
           "unsqueeze", "squeeze", "permute", "transpose", "swapaxes", "swapdims", "t",
           "flatten", "ravel", "movedim", "moveaxis", "unflatten", "narrow", "narrow_copy",
           "select", "diagonal")
