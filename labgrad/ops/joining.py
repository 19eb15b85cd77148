"""Joining and splitting: cat and stack (and hstack, vstack, dstack, column_stack, with the
atleast_*d they use), and split, chunk, tensor_split, hsplit/vsplit/dsplit and unbind.

Joining copies, promoting dtypes as PyTorch does. The pieces of a split are views of the input,
sharing memory and the version counter with it (``_as_view_of``); so are unbind's slices.
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import check_same_device, describe, needs_grad, record, shape_str, wrap_dim, xp_of
from .indexing import IndexPlan, index_with
from .shape import narrow, reshape, unsqueeze

_wrap = Tensor._wrap


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


METHODS = ("split", "split_with_sizes", "chunk", "tensor_split", "hsplit", "vsplit", "dsplit",
           "unbind")
FUNCTIONS = ("cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack",
             "dstack", "column_stack", "atleast_1d", "atleast_2d", "atleast_3d")
