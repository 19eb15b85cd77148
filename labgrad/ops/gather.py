"""Ops that pick or place values along one dim by an index tensor: gather, scatter,
scatter_add, take_along_dim.

For a 2-d input and dim=1, ``gather`` reads ``out[i][j] = input[i][index[i][j]]`` and
``scatter`` writes ``out[i][index[i][j]] = src[i][j]`` into a copy of input. The two are each
other's gradients: the gradient of gather is a scatter_add of the incoming gradient into zeros
(an index used twice receives both gradients), and the gradient of scatter_add with respect to
its source is a gather. take_along_dim is gather with broadcasting, like NumPy's
take_along_axis.

Each public op checks its index (dtype, shape, bounds) and then calls an ``*_unchecked`` core,
which the backward formulas here and in extrema use directly.
"""
from __future__ import annotations

from ..autograd.graph import Node
from ..backend import kernels
from ..tensor import Tensor
from ._util import (_NUMBER_TYPES, check_same_device, describe, needs_grad, record,
                    scalar_value, shape_str, wrap_dim, xp_of)
from .indexing import index_put

_wrap = Tensor._wrap


# ------------------------------------------------------------------ addressing

def _grid(index, dim):
    """An advanced-indexing tuple addressing, for every position p of `index`, the element
    at p with its coordinate along `dim` replaced by index[p]."""
    xp = xp_of(index)
    grid = []
    for d, size in enumerate(index.shape):
        if d == dim:
            grid.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = size
            grid.append(xp.arange(size).reshape(shape))
    return tuple(grid)


def _leading_block(data, shape):
    """The corner of `data` with the given shape (src may be larger than the index)."""
    if data.shape == tuple(shape):
        return data
    return data[tuple(slice(0, s) for s in shape)]


def _zeros(shape, like):
    return _wrap(xp_of(like._data).zeros(shape, dtype=like._data.dtype))


def _pad_to(grad, shape):
    """grad placed in the leading corner of zeros(shape): the gradient of _leading_block."""
    if tuple(grad.shape) == tuple(shape):
        return grad
    corner = tuple(slice(0, s) for s in grad.shape)
    return index_put(_zeros(shape, grad), corner, grad)


# ------------------------------------------------------------------ checks

def _check_index(op, input, dim, index, src=None):
    """Raise, naming op and shapes, unless `index` can address `input` (and `src`) along dim.
    Returns dim as a non-negative int."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}: index must be an integer tensor, got {describe(index)}")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: index must be an integer tensor (int64), got "
                           f"{describe(index)}; convert it with index.long()")
    check_same_device(op, input, index, src)
    shape, ishape = input._data.shape, index._data.shape
    dim = wrap_dim(op, dim, len(shape))
    if len(ishape) != len(shape):
        raise RuntimeError(f"{op}: index must have as many dimensions as the input: got index of "
                           f"shape {shape_str(ishape)} for an input of shape {shape_str(shape)}")
    for d, (n, size) in enumerate(zip(ishape, shape)):
        if d != dim and n > size:
            raise RuntimeError(
                f"{op}: index of shape {shape_str(ishape)} is larger than the input of shape "
                f"{shape_str(shape)} at dimension {d}; except along dim={dim}, the index may be "
                "at most as large as the input")
    if src is not None:
        _check_src(op, index, src)
    check_bounds(op, index._data, shape[dim],
                 f"dimension {dim} with size {shape[dim]} (input of shape {shape_str(shape)})")
    return dim


def _check_src(op, index, src):
    ishape, sshape = index._data.shape, src._data.shape
    if len(sshape) != len(ishape):
        raise RuntimeError(f"{op}: src must have as many dimensions as the index: got src of "
                           f"shape {shape_str(sshape)} for an index of shape {shape_str(ishape)}"
                           " (to write one number everywhere, pass it as a Python number)")
    if any(n > s for n, s in zip(ishape, sshape)):
        raise RuntimeError(f"{op}: index of shape {shape_str(ishape)} is larger than src of "
                           f"shape {shape_str(sshape)}; the index may be at most as large as "
                           "src in every dimension")


def check_bounds(op, index, size, where, allow_negative=False, error=RuntimeError):
    """Raise `error` (the type PyTorch raises for `op`) naming the first value of the index
    array outside [0, size), or [-size, size) with `allow_negative`; `where` describes what
    is indexed ("dimension 1 with size 4 (input of shape (3, 4))")."""
    if not index.size:
        return
    low = -size if allow_negative else 0
    if int(index.min()) < low or int(index.max()) >= size:
        value = int(index[(index < low) | (index >= size)].reshape(-1)[0])
        raise error(f"{op}: index {value} is out of bounds for {where}; indices must be in "
                    f"[{low}, {size})")


def _check_dtype(op, input, src):
    if src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{op}: src ({describe(src)}) must have the input's dtype "
                           f"{input.dtype.name}; convert it with src.to({input.dtype.name})")


def _as_src(op, src, value):
    """scatter's value: a tensor `src`, or a number given as src or value."""
    if src is None and value is None:
        raise TypeError(f"{op}: expected src (a tensor) or value (a number)")
    if src is not None and value is not None:
        raise TypeError(f"{op}: pass src or value, not both")
    src = value if src is None else src
    if isinstance(src, Tensor):
        return src
    if isinstance(src, _NUMBER_TYPES):
        return scalar_value(src)
    raise TypeError(f"{op}: src must be a tensor or a number, got {describe(src)}")


# ------------------------------------------------------------------ gather

class GatherBackward0(Node):
    def backward(self, grad):
        (index,) = self.saved_tensors
        zeros = _zeros(self._input_meta[0][0], grad)
        return scatter_add_unchecked(zeros, self.dim, index, grad)


def gather_unchecked(input, dim, index):
    """gather without validating the index (dim non-negative, input at least 1-d)."""
    out = _wrap(input._data[_grid(index._data, dim)])
    if needs_grad(input):
        record(GatherBackward0, (input,), out, saved=(index,)).dim = dim
    return out


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j] = input[i][index[i][j]] for dim=1 (likewise for other dims and ranks)."""
    if input.ndim == 0:  # a 0-d input behaves as one element along dim 0
        return gather(input.reshape(1), dim, index.reshape(-1)).reshape(index.shape)
    dim = _check_index("gather", input, dim, index)
    return gather_unchecked(input, dim, index)


# ------------------------------------------------------------------ scatter_add

class ScatterAddBackward0(Node):
    def backward(self, grad):
        (index,) = self.saved_tensors
        grad_src = None
        if self.next_functions[1][0] is not None:
            grad_src = _pad_to(gather_unchecked(grad, self.dim, index), self._input_meta[1][0])
        return grad, grad_src


def scatter_add_unchecked(input, dim, index, src):
    """scatter_add without validating the index."""
    data = input._data.copy()
    kernels.scatter_add(data, _grid(index._data, dim), _leading_block(src._data, index.shape))
    out = _wrap(data)
    if needs_grad(input, src):
        record(ScatterAddBackward0, (input, src), out, saved=(index,)).dim = dim
    return out


def scatter_add(input, dim, index, src):
    """A copy of input with src[i][j] added at out[i][index[i][j]] (for dim=1); indices that
    repeat add up."""
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add: src must be a tensor, got {describe(src)}")
    if input.ndim == 0:
        return scatter_add(input.reshape(1), dim, index.reshape(-1),
                           src.reshape(-1)).reshape(())
    _check_dtype("scatter_add", input, src)
    dim = _check_index("scatter_add", input, dim, index, src)
    return scatter_add_unchecked(input, dim, index, src)


# ------------------------------------------------------------------ scatter

class ScatterBackward0(Node):
    """scatter with a src tensor: overwritten places get no gradient; src gets a gather."""

    def backward(self, grad):
        (index,) = self.saved_tensors
        grad_self = grad_src = None
        if self.next_functions[0][0] is not None:
            grad_self = scatter_unchecked(grad, self.dim, index, 0.0)
        if self.next_functions[1][0] is not None:
            grad_src = _pad_to(gather_unchecked(grad, self.dim, index), self._input_meta[1][0])
        return grad_self, grad_src


class ScatterBackward1(Node):
    """scatter with a number."""

    def backward(self, grad):
        (index,) = self.saved_tensors
        return scatter_unchecked(grad, self.dim, index, 0.0)


class ScatterReduceNotDifferentiable(Node):
    def backward(self, grad):
        raise RuntimeError(f"scatter: the derivative of scatter with reduce={self.reduce!r} is "
                           "not implemented (nor in PyTorch). Use scatter_add, which is "
                           "differentiable.")


def _write(data, grid, values, reduce):
    xp = xp_of(data)
    if not hasattr(values, "shape"):
        values = xp.asarray(values).astype(data.dtype)
    if reduce is None:
        data[grid] = values
    elif reduce == "add":
        kernels.scatter_add(data, grid, values)
    else:
        ufunc_at = getattr(xp.multiply, "at", None)
        if ufunc_at is None:
            raise NotImplementedError("scatter: reduce='multiply' is not available on this "
                                      "device's array library")
        ufunc_at(data, grid, values)


def scatter_unchecked(input, dim, index, src, reduce=None):
    """scatter without validating the index; src is a tensor or a number."""
    data = input._data.copy()
    src_t = src if isinstance(src, Tensor) else None
    values = _leading_block(src._data, index.shape) if src_t is not None else src
    _write(data, _grid(index._data, dim), values, reduce)
    out = _wrap(data)
    if needs_grad(input, src_t):
        if reduce is not None:
            record(ScatterReduceNotDifferentiable, (input, src_t), out).reduce = reduce
        elif src_t is not None:
            record(ScatterBackward0, (input, src_t), out, saved=(index,)).dim = dim
        else:
            record(ScatterBackward1, (input,), out, saved=(index,)).dim = dim
    return out


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """A copy of input with out[i][index[i][j]] = src[i][j] (for dim=1); src may be a tensor
    or a number. With reduce='add' or 'multiply' the values combine with what is there.
    Where an index repeats, which write wins is unspecified (as in PyTorch)."""
    src = _as_src("scatter", src, value)
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    if input.ndim == 0:
        flat_src = src.reshape(-1) if isinstance(src, Tensor) else src
        return scatter(input.reshape(1), dim, index.reshape(-1), flat_src,
                       reduce=reduce).reshape(())
    if isinstance(src, Tensor):
        _check_dtype("scatter", input, src)
    dim = _check_index("scatter", input, dim, index, src if isinstance(src, Tensor) else None)
    return scatter_unchecked(input, dim, index, src, reduce)


# ------------------------------------------------------------------ take_along_dim

def _broadcast_pair(op, shape, ishape, dim):
    """The common shape of input and indices outside `dim` (each keeps its size along dim)."""
    common = []
    for d, (a, b) in enumerate(zip(shape, ishape)):
        if d == dim or a == b or b == 1:
            common.append(a)
        elif a == 1:
            common.append(b)
        else:
            raise RuntimeError(f"{op}: input of shape {shape_str(shape)} and indices of shape "
                               f"{shape_str(ishape)} cannot be broadcast: dimension {d} has "
                               f"sizes {a} and {b} (each must match or be 1)")
    in_shape = list(common)
    index_shape = list(common)
    index_shape[dim] = ishape[dim]
    return tuple(in_shape), tuple(index_shape)


def take_along_dim(input, indices, dim=None):
    """Values of input at `indices` along `dim`, broadcasting the other dims; with dim=None,
    of the flattened input at the flattened indices. Negative indices count from the end
    (with a dim only, as in PyTorch)."""
    op = "take_along_dim"
    if not isinstance(indices, Tensor) or indices._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: indices must be an integer tensor (int64), got "
                           f"{describe(indices)}")
    check_same_device(op, input, indices)
    if dim is None:  # as PyTorch: a plain gather, where negative indices are errors
        flat, index = input.reshape(-1), indices.reshape(-1)
        size = flat._data.shape[0]
        check_bounds(op, index._data, size, f"a tensor with {size} elements (input of shape "
                     f"{shape_str(input._data.shape)})")
        return gather_unchecked(flat, 0, index)
    if input.ndim == 0:
        input, indices = input.reshape(-1), indices.reshape(-1)
    if indices.ndim != input.ndim:
        raise RuntimeError(f"{op}: input and indices must have the same number of dimensions, "
                           f"got input of shape {shape_str(input.shape)} and indices of shape "
                           f"{shape_str(indices.shape)}")
    dim = wrap_dim(op, dim, input.ndim)
    in_shape, index_shape = _broadcast_pair(op, input._data.shape, indices._data.shape, dim)
    if in_shape != input._data.shape:
        input = input.expand(in_shape)
    index = indices._data
    size = in_shape[dim]
    # Negative indices count from the end here (gather itself does not allow them).
    check_bounds(op, index, size, f"dimension {dim} with size {size} (input of shape "
                 f"{shape_str(in_shape)})", allow_negative=True)
    index = index + size * (index < 0)
    return gather_unchecked(input, dim, _wrap(xp_of(index).broadcast_to(index, index_shape)))


METHODS = ("gather", "scatter", "scatter_add", "take_along_dim")
INPLACE = ("scatter", "scatter_add")
