"""Copies that rearrange values: repeat, tile and repeat_interleave; diagonal_scatter,
diag_embed and diag; the triangles tril and triu; flip, roll and rot90.

Each returns a new tensor (tril_ and triu_ write theirs back in place); the reshaping
views, diagonal among them, are in shape.py.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.graph import Node
from ..tensor import Tensor
from .conversion import clone
from ._util import needs_grad, record, shape_args, shape_str, wrap_dim, xp_of
from .index_ops import index_select
from .inplace import inplace_method
from .shape import _diagonal_dims, _diagonal_view, _dim_list, diagonal, transpose

_wrap = Tensor._wrap


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


# ================================================================== diagonals (copies)

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


_diagonal = diagonal  # for diag, whose argument named `diagonal` hides the function


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


METHODS = ("repeat", "tile", "repeat_interleave", "diagonal_scatter", "diag_embed", "diag",
           "tril", "triu", "tril_", "triu_", "flip", "fliplr", "flipud", "roll", "rot90")
