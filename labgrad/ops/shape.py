"""Shape ops: reshaping, moving dims, joining, splitting, repeating, flipping, triangles and
diagonals.

Those PyTorch documents as views (view, reshape where it can, expand, squeeze, permute,
transpose, movedim, unflatten, narrow, select, split, chunk, unbind, diagonal) share memory and
the version counter with their input (``_as_view_of``); the rest copy.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .. import dtypes as _dt
from ..autograd.graph import Node
from ..tensor import Tensor
from .conversion import clone
from ._util import (check_same_device, describe, needs_grad, normalize_dims, record,
                    shape_args, shape_str, wrap_dim, xp_of)
from .indexing import IndexPlan, index_select, index_with
from .inplace import inplace_method

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


class ReshapeAliasBackward0(ViewBackward0):
    pass


class UnsafeViewBackward0(ViewBackward0):
    pass


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
        return input.to(shape[0])  # view(dtype): reinterpretation is not supported; convert
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


def _reshape_no_copy(data, shape):
    try:
        return xp_of(data).reshape(data, shape, copy=False)
    except TypeError:  # array modules without the copy argument
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
        return grad.sum_to_size(self._input_meta[0][0])


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


class UnsqueezeBackward0(Node):
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
    middle = 1
    for s in shape[start:end + 1]:
        middle *= s
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


# ================================================================== repeating (copies)

class RepeatBackward0(Node):
    def backward(self, grad):
        # Each output dim is (repeats, size) in row-major order: sum over the repeats.
        interleaved = []
        for r, s in zip(self.repeats, self.padded):
            interleaved += [r, s]
        total = grad.reshape(interleaved).sum(tuple(range(0, len(interleaved), 2)))
        return total.reshape(self._input_meta[0][0])


def repeat(input, *sizes):
    """Tile the tensor `sizes[i]` times along each dim (new leading dims when sizes is longer)."""
    sizes = shape_args("repeat", sizes)
    data = input._data
    if len(sizes) < data.ndim:
        raise RuntimeError(f"repeat: got {len(sizes)} repeats {tuple(sizes)} for a tensor with "
                           f"{data.ndim} dimensions (shape {shape_str(data.shape)}); give at "
                           "least one per dimension")
    if any(r < 0 for r in sizes):
        raise RuntimeError(f"repeat: repeats must be non-negative, got {tuple(sizes)}")
    padded = (1,) * (len(sizes) - data.ndim) + data.shape
    out = _wrap(xp_of(data).tile(data.reshape(padded), sizes))
    if needs_grad(input):
        node = record(RepeatBackward0, (input,), out)
        node.repeats, node.padded = sizes, padded
    return out


def tile(input, *dims, **kwargs):
    """repeat, with missing leading repeats taken as 1: tile(x, (2, 2)) or x.tile(2, 2)."""
    if "dims" in kwargs:
        dims = (kwargs.pop("dims"),)
    if kwargs:
        raise TypeError(f"tile: unexpected keyword arguments {sorted(kwargs)}")
    dims = shape_args("tile", dims)
    lead = input._data.ndim - len(dims)
    return repeat(input, (1,) * lead + tuple(dims))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeat each element (along `dim`, or of the flattened tensor) `repeats` times; repeats
    is an int or a tensor with one count per element. ``repeat_interleave(counts)`` alone
    repeats 0, 1, 2, ... by the counts."""
    if repeats is None:  # repeat_interleave(counts)
        counts = input
        positions = _wrap(xp_of(counts._data).arange(counts._data.size, dtype=np.int64))
        return repeat_interleave(positions, counts, 0)
    if dim is None:
        input, dim = input.reshape(-1), 0
    dim = wrap_dim("repeat_interleave", dim, input._data.ndim)
    if isinstance(repeats, Tensor) and repeats._data.size == 1:
        repeats = int(repeats.item())
    if isinstance(repeats, (int, np.integer)):
        return _repeat_each(input, int(repeats), dim)
    counts = _repeat_counts(input, repeats, dim)  # on the host: CuPy's repeat wants a list
    index = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    return index_select(input, dim, _wrap(backend.to_device(index, input.device)))


class RepeatInterleaveBackward0(Node):
    def backward(self, grad):
        n = self._input_meta[0][0][self.dim]
        return grad.unflatten(self.dim, (n, self.repeats)).sum(self.dim + 1)


def _repeat_each(input, r, dim):
    """Every slice along `dim` r times in a row."""
    if r < 0:
        raise RuntimeError(f"repeat_interleave: repeats must be non-negative, got {r}")
    data = input._data
    out = _wrap(xp_of(data).repeat(data, r, axis=dim))
    if needs_grad(input):
        node = record(RepeatInterleaveBackward0, (input,), out)
        node.repeats, node.dim = r, dim
    return out


def _repeat_counts(input, repeats, dim):
    counts = backend.to_device(repeats._data.reshape(-1), "cpu")
    size = input._data.shape[dim]
    if counts.dtype.kind not in "iu":
        raise RuntimeError(f"repeat_interleave: repeats must be an integer tensor, got "
                           f"{repeats.dtype.name}")
    if counts.size != size:
        raise RuntimeError(f"repeat_interleave: repeats has {counts.size} elements but "
                           f"dimension {dim} of the tensor (shape "
                           f"{shape_str(input._data.shape)}) has size {size}")
    if counts.size and int(counts.min()) < 0:
        raise RuntimeError("repeat_interleave: repeats must be non-negative")
    return counts


# ================================================================== joining (copies)

def _tensor_list(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected a list of tensors, but item {i} is "
                            f"{describe(t)}")
    check_same_device(op, *tensors)
    return list(tensors)


def _common_arrays(tensors):
    """The tensors' arrays in the dtype PyTorch promotes them to."""
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = _dt.promote_types(dtype, t.dtype)
    return [t._data.astype(dtype.np, copy=False) for t in tensors]


class CatBackward0(Node):
    def backward(self, grad):
        grads, offset = [], 0
        for (shape, _), used in zip(self._input_meta, self.used):
            if not used:  # a skipped empty 1-D tensor
                grads.append(grad.new_zeros(shape))
                continue
            grads.append(narrow(grad, self.dim, offset, shape[self.dim]))
            offset += shape[self.dim]
        return tuple(grads)


def cat(tensors, dim=0):
    """Join tensors along an existing dim; all other sizes must match. As in PyTorch, empty
    1-D tensors are skipped (a legacy rule) and dtypes promote to a common one."""
    tensors = _tensor_list("cat", tensors)
    used = [not (t._data.ndim == 1 and t._data.size == 0) for t in tensors]
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"cat: zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated; unsqueeze it or use stack")
    arrays = _common_arrays(tensors)
    if not any(used):
        out = _wrap(arrays[0].copy())
    else:
        kept = [a for a, u in zip(arrays, used) if u]
        ref = kept[0]
        dim = wrap_dim("cat", dim, ref.ndim)
        _check_cat_shapes(ref, kept, dim)
        out = _wrap(xp_of(ref).concatenate(kept, axis=dim))
    if needs_grad(*tensors):
        node = record(CatBackward0, tuple(tensors), out)
        node.dim, node.used = (dim if any(used) else 0), used
    return out


def _check_cat_shapes(ref, arrays, dim):
    for a in arrays:
        if a.ndim != ref.ndim:
            raise RuntimeError(f"cat: expected all tensors to have the same number of "
                               f"dimensions, got {shape_str(ref.shape)} and {shape_str(a.shape)}")
        if any(x != y for i, (x, y) in enumerate(zip(a.shape, ref.shape)) if i != dim):
            raise RuntimeError(f"cat: expected all tensors to have the same shape except in "
                               f"dim {dim}, got {shape_str(ref.shape)} and {shape_str(a.shape)}")


def concat(tensors, dim=0):
    return cat(tensors, dim)


def concatenate(tensors, axis=0):
    return cat(tensors, axis)


class StackBackward0(Node):
    def backward(self, grad):
        return unbind(grad, self.dim)


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dim."""
    tensors = _tensor_list("stack", tensors)
    first = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != first:
            raise RuntimeError(f"stack: expected all tensors to have the same shape, got "
                               f"{shape_str(first)} at entry 0 and {shape_str(t._data.shape)} "
                               f"at entry {i}")
    dim = wrap_dim("stack", dim, len(first) + 1)
    arrays = _common_arrays(tensors)
    out = _wrap(xp_of(arrays[0]).stack(arrays, axis=dim))
    if needs_grad(*tensors):
        node = record(StackBackward0, tuple(tensors), out)
        node.dim = dim
    return out


def _each(fn, tensors):
    """atleast_*d's calling conventions: f(t) -> t, f(t, u) and f([t, u]) -> tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(fn(t) for t in tensors[0])
    if len(tensors) == 1:
        return fn(tensors[0])
    return tuple(fn(t) for t in tensors)


def _at_least_1d(t):
    return reshape(t, 1) if t._data.ndim == 0 else t


def _at_least_2d(t):
    if t._data.ndim >= 2:
        return t
    return unsqueeze(_at_least_1d(t), 0)


def _at_least_3d(t):
    ndim = t._data.ndim
    if ndim == 0:
        return reshape(t, 1, 1, 1)
    if ndim == 1:
        return unsqueeze(unsqueeze(t, 0), 2)
    return unsqueeze(t, 2) if ndim == 2 else t


def atleast_1d(*tensors):
    return _each(_at_least_1d, tensors)


def atleast_2d(*tensors):
    return _each(_at_least_2d, tensors)


def atleast_3d(*tensors):
    return _each(_at_least_3d, tensors)


def hstack(tensors):
    """Join along dim 1 (dim 0 for 1-D tensors)."""
    tensors = [_at_least_1d(t) for t in _tensor_list("hstack", tensors)]
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors):
    """Join along dim 0, 1-D tensors as rows."""
    return cat([_at_least_2d(t) for t in _tensor_list("vstack", tensors)], 0)


row_stack = vstack


def dstack(tensors):
    """Join along dim 2 (depth), after making each at least 3-D."""
    return cat([_at_least_3d(t) for t in _tensor_list("dstack", tensors)], 2)


def column_stack(tensors):
    """Join as columns: 0-D and 1-D tensors become columns, then join along dim 1."""
    columns = [reshape(t, t._data.size, 1) if t._data.ndim <= 1 else t
               for t in _tensor_list("column_stack", tensors)]
    return cat(columns, 1)


# ================================================================== splitting (views)

class SplitBackward0(Node):
    """Backward of split and chunk: the pieces cover the input in order, so the gradient is
    their gradients joined (the engine gives zeros for pieces that got none)."""

    def backward(self, *grads):
        return cat(list(grads), self.dim)


def _pieces(op, input, dim, sizes):
    """Views of `input` along `dim` of the given consecutive sizes, recorded as one node."""
    data = input._data
    lead = (slice(None),) * dim
    outs, start = [], 0
    for size in sizes:
        outs.append(_wrap(data[lead + (slice(start, start + size),)])._as_view_of(input))
        start += size
    outs = tuple(outs)
    if needs_grad(input):
        node = record(SplitBackward0, (input,), outs)
        node.dim = dim
    return outs


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of `split_size` along `dim` (the last may be smaller), or of the listed sizes."""
    if tensor._data.ndim == 0:
        raise RuntimeError("split: expected a tensor with at least one dimension, got a 0-d "
                           "tensor")
    dim = wrap_dim("split", dim, tensor._data.ndim)
    size = tensor._data.shape[dim]
    if isinstance(split_size_or_sections, (list, tuple)):
        return split_with_sizes(tensor, split_size_or_sections, dim)
    step = int(split_size_or_sections)
    if step < 0 or (step == 0 and size != 0):
        raise RuntimeError(f"split: split_size must be positive (0 only for an empty dim), "
                           f"got {step} for dimension {dim} of size {size}")
    if size == 0:
        return _pieces("split", tensor, dim, [0])
    return _pieces("split", tensor, dim, [min(step, size - s) for s in range(0, size, step)])


def split_with_sizes(input, split_sizes, dim=0):
    dim = wrap_dim("split_with_sizes", dim, input._data.ndim)
    sizes = [int(s) for s in split_sizes]
    total = input._data.shape[dim]
    if any(s < 0 for s in sizes) or sum(sizes) != total:
        raise RuntimeError(f"split_with_sizes: sizes {sizes} must be non-negative and sum to "
                           f"{total}, the size of dimension {dim} (tensor of shape "
                           f"{shape_str(input._data.shape)})")
    return _pieces("split_with_sizes", input, dim, sizes)


def chunk(input, chunks, dim=0):
    """At most `chunks` equal pieces (the last smaller): split by ceil(size / chunks)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk: chunks must be greater than 0, got {chunks}")
    if input._data.ndim == 0:
        raise RuntimeError("chunk: expected a tensor with at least one dimension, got a 0-d "
                           "tensor")
    dim = wrap_dim("chunk", dim, input._data.ndim)
    size = input._data.shape[dim]
    if size == 0:  # as many empty pieces as asked for
        return split_with_sizes(input, [0] * chunks, dim)
    return split(input, -(-size // chunks), dim)


def tensor_split(input, indices_or_sections, dim=0):
    """Views split into n near-equal pieces (the first size % n one longer), or at the given
    indices. Each piece is its own slice of the input."""
    if input._data.ndim == 0:
        raise RuntimeError("tensor_split: expected a tensor with at least one dimension")
    dim = wrap_dim("tensor_split", dim, input._data.ndim)
    size = input._data.shape[dim]
    sections = indices_or_sections
    if isinstance(sections, Tensor):
        sections = sections.tolist() if sections._data.ndim else int(sections.item())
    if isinstance(sections, (int, np.integer)):
        if sections <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be positive, got "
                               f"{sections}")
        base, extra = divmod(size, int(sections))
        bounds, start = [], 0
        for i in range(int(sections)):
            stop = start + base + (1 if i < extra else 0)
            bounds.append((start, stop))
            start = stop
    else:
        points = [0] + [int(i) for i in sections] + [size]
        bounds = list(zip(points[:-1], points[1:]))
    lead = (slice(None),) * dim
    return tuple(index_with(input, IndexPlan(first=lead + (slice(a, max(a, b)), Ellipsis)))
                 for a, b in bounds)


def _split_dims(op, input, sections, dim, min_ndim):
    if input._data.ndim < min_ndim:
        raise RuntimeError(f"{op}: expected a tensor with at least {min_ndim} dimensions, got "
                           f"shape {shape_str(input._data.shape)}")
    if isinstance(sections, (int, np.integer)) and input._data.shape[dim] % sections:
        raise RuntimeError(f"{op}: dimension {dim} of size {input._data.shape[dim]} is not "
                           f"divisible by {sections} sections")
    return tensor_split(input, sections, dim)


def hsplit(input, indices_or_sections):
    dim = 0 if input._data.ndim == 1 else 1
    return _split_dims("hsplit", input, indices_or_sections, dim, 1)


def vsplit(input, indices_or_sections):
    return _split_dims("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    return _split_dims("dsplit", input, indices_or_sections, 2, 3)


class UnbindBackward0(Node):
    def backward(self, *grads):
        return stack(list(grads), self.dim)


def unbind(input, dim=0):
    """The slices along `dim`, each a view without that dim."""
    if input._data.ndim == 0:
        raise IndexError("unbind: dimension specified as 0 but the tensor has no dimensions")
    dim = wrap_dim("unbind", dim, input._data.ndim)
    data = input._data
    lead = (slice(None),) * dim
    outs = tuple(_wrap(data[lead + (i, Ellipsis)])._as_view_of(input)
                 for i in range(data.shape[dim]))
    if needs_grad(input) and outs:
        node = record(UnbindBackward0, (input,), outs)
        node.dim = dim
    return outs


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


# ================================================================== diagonals

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
        return diagonal_scatter(zeros, grad, self.offset, self.dim1, self.dim2)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the (dim1, dim2) planes as the last dim; a view."""
    offset, d1, d2 = _diagonal_dims("diagonal", input._data.ndim, offset, dim1, dim2)
    return _view(input, _diagonal_view(input._data, offset, d1, d2), DiagonalBackward0,
                 offset=offset, dim1=d1, dim2=d2)


_diagonal = diagonal  # for diag, whose argument named `diagonal` hides the function


class DiagonalScatterBackward0(Node):
    def backward(self, grad):
        src_shape, src_dtype = self._input_meta[1]
        grad_input = grad_src = None
        if self.next_functions[0][0] is not None:
            zeros = _wrap(xp_of(grad._data).zeros(src_shape, grad._data.dtype))
            grad_input = diagonal_scatter(grad, zeros, self.offset, self.dim1, self.dim2)
        if self.next_functions[1][0] is not None:
            grad_src = diagonal(grad, self.offset, self.dim1, self.dim2)
        return grad_input, grad_src


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """A copy of input with its diagonal (as diagonal() picks it) replaced by src."""
    offset, d1, d2 = _diagonal_dims("diagonal_scatter", input._data.ndim, offset, dim1, dim2)
    data = input._data.copy()
    target = _diagonal_view(data, offset, d1, d2)
    if tuple(target.shape) != src._data.shape:
        raise RuntimeError(f"diagonal_scatter: src of shape {shape_str(src._data.shape)} does "
                           f"not match the diagonal's shape {shape_str(target.shape)}")
    target[...] = src._data
    out = _wrap(data)
    if needs_grad(input, src):
        node = record(DiagonalScatterBackward0, (input, src), out)
        node.offset, node.dim1, node.dim2 = offset, d1, d2
    return out


class DiagEmbedBackward0(Node):
    def backward(self, grad):
        return diagonal(grad, self.offset, self.dim1, self.dim2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices (in dims dim1, dim2 of a result with one more dim) whose `offset` diagonal
    holds the last dim of input; zeros elsewhere."""
    data = input._data
    if data.ndim == 0:
        raise RuntimeError("diag_embed: expected a tensor with at least 1 dimension")
    offset, d1, d2 = _diagonal_dims("diag_embed", data.ndim + 1, offset, dim1, dim2)
    n = data.shape[-1] + abs(offset)
    shape = list(data.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    out_data = xp_of(data).zeros(shape, dtype=data.dtype)
    _diagonal_view(out_data, offset, d1, d2)[...] = data
    out = _wrap(out_data)
    if needs_grad(input):
        node = record(DiagEmbedBackward0, (input,), out)
        node.offset, node.dim1, node.dim2 = offset, d1, d2
    return out


def diag(input, diagonal=0):
    """1-D: a square matrix with input on the `diagonal`-th diagonal; 2-D: that diagonal as a
    1-D tensor (a copy)."""
    ndim = input._data.ndim
    if ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if ndim == 2:
        return clone(_diagonal(input, diagonal))
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape "
                       f"{shape_str(input._data.shape)}")


# ================================================================== triangles (copies)

class TrilBackward0(Node):
    def backward(self, grad):
        return tril(grad, self.diagonal)


class TriuBackward0(Node):
    def backward(self, grad):
        return triu(grad, self.diagonal)


def _triangle(op, input, diagonal, lower, node_cls):
    data = input._data
    if data.ndim < 2:
        raise RuntimeError(f"{op}: expected a tensor with at least 2 dimensions, got shape "
                           f"{shape_str(data.shape)}")
    xp = xp_of(data)
    n, m = data.shape[-2:]
    keep = xp.tri(n, m, diagonal if lower else diagonal - 1, dtype=bool)
    if not lower:
        keep = ~keep
    out = _wrap(xp.where(keep, data, xp.zeros((), dtype=data.dtype)))
    if needs_grad(input):
        node = record(node_cls, (input,), out)
        node.diagonal = diagonal
    return out


def tril(input, diagonal=0):
    """The lower triangle (on and below the `diagonal`-th diagonal) of the last two dims."""
    return _triangle("tril", input, int(diagonal), True, TrilBackward0)


def triu(input, diagonal=0):
    """The upper triangle (on and above the `diagonal`-th diagonal) of the last two dims."""
    return _triangle("triu", input, int(diagonal), False, TriuBackward0)


tril_ = inplace_method(tril, "tril_")
triu_ = inplace_method(triu, "triu_")


# ================================================================== reordering (copies)

class FlipBackward0(Node):
    def backward(self, grad):
        return flip(grad, self.dims)


def flip(input, dims):
    """Reverse the order of elements along `dims`."""
    dims = tuple(_dim_list("flip", dims, input._data.ndim))
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"flip: dims {dims} name a dimension more than once")
    data = input._data
    out = _wrap(xp_of(data).flip(data, axis=dims).copy() if dims else data.copy())
    if needs_grad(input):
        node = record(FlipBackward0, (input,), out)
        node.dims = dims
    return out


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError(f"fliplr: expected a tensor with at least 2 dimensions, got shape "
                           f"{shape_str(input._data.shape)}")
    return flip(input, 1)


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("flipud: expected a tensor with at least 1 dimension")
    return flip(input, 0)


class RollBackward0(Node):
    def backward(self, grad):
        return roll(grad, tuple(-s for s in self.shifts), self.dims)


def roll(input, shifts, dims=None):
    """Shift elements along dims, wrapping around; without dims, over the flattened tensor."""
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    shifts = tuple(int(s) for s in shifts)
    data = input._data
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: without dims, shifts must be one number, got {shifts}")
        flat = xp_of(data).roll(data.reshape(-1), shifts[0])
        out = _wrap(flat.reshape(data.shape))
    else:
        dims = tuple(_dim_list("roll", dims, data.ndim))
        if len(dims) != len(shifts):
            raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same "
                               "length")
        out = _wrap(xp_of(data).roll(data, shifts, axis=dims))
    if needs_grad(input):
        node = record(RollBackward0, (input,), out)
        node.shifts, node.dims = shifts, dims
    return out


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees k times in the plane of `dims`, from the first towards the second."""
    if len(dims) != 2:
        raise RuntimeError(f"rot90: dims must name 2 dimensions, got {tuple(dims)}")
    d0, d1 = _dim_list("rot90", dims, input._data.ndim)
    if d0 == d1:
        raise RuntimeError(f"rot90: dims must differ, got {tuple(dims)}")
    k %= 4
    if k == 1:
        return transpose(flip(input, d1), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, d0), d0, d1)
    return clone(input)


METHODS = ("view", "reshape", "view_as", "reshape_as", "expand", "expand_as", "broadcast_to",
           "unsqueeze", "squeeze", "permute", "transpose", "swapaxes", "swapdims", "t",
           "flatten", "ravel", "movedim", "moveaxis", "unflatten", "repeat", "tile",
           "repeat_interleave", "split", "split_with_sizes", "chunk", "tensor_split", "hsplit",
           "vsplit", "dsplit", "unbind", "narrow", "narrow_copy", "select", "diagonal",
           "diagonal_scatter", "diag_embed", "diag", "tril", "triu", "tril_", "triu_", "flip",
           "fliplr", "flipud", "roll", "rot90")
FUNCTIONS = ("cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack",
             "dstack", "column_stack", "atleast_1d", "atleast_2d", "atleast_3d")
