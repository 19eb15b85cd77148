"""Reductions over dimensions (sum, mean, ...), each with `dim` (int or tuple) and `keepdim`."""
from __future__ import annotations

from .. import dtypes as _dt
from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import needs_grad, normalize_dims, record, xp_of

_wrap = Tensor._wrap


def _expand_back(grad, input_shape, axes, keepdim):
    """Broadcast a reduced gradient back over the reduced axes."""
    if not keepdim and axes:
        kept = list(grad.shape)
        for axis in axes:
            kept.insert(axis, 1)
        grad = grad.reshape(kept)
    return grad.expand(input_shape)


class SumBackward1(Node):
    def backward(self, grad):
        return _expand_back(grad, self._input_meta[0][0], self.axes, self.keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001 - PyTorch's name
    data = input._data
    axes = normalize_dims("sum", dim, data.ndim)
    if dtype is not None:
        data = data.astype(_dt.to_dtype(dtype).np)
    elif data.dtype.kind in "biu":
        data = data.astype("int64")  # PyTorch sums integers and bools as int64
    out = _wrap(xp_of(data).sum(data, axis=axes, keepdims=keepdim))
    if needs_grad(input):
        node = record(SumBackward1, (input,), out)
        node.axes, node.keepdim = axes, keepdim
    return out


class SumToSizeBackward0(Node):
    def backward(self, grad):
        return grad.expand(self._input_meta[0][0])


def sum_to_size(input, *size):
    """Sum over broadcast dimensions so the result has shape `size`."""
    from ._util import shape_args
    size = shape_args("sum_to_size", size)
    shape = input._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or any(s != 1 and s != d for s, d in zip(size, shape[lead:])):
        raise RuntimeError(f"sum_to_size: size {tuple(size)} is not expandable to the tensor's "
                           f"shape {tuple(shape)}")
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(size)
                                      if s == 1 and shape[lead + i] != 1)
    data = input._data
    if axes:
        data = xp_of(data).sum(data, axis=axes, keepdims=True)
        if lead:
            data = data.reshape(size)
    out = _wrap(data)
    if needs_grad(input) and axes:
        record(SumToSizeBackward0, (input,), out)
    return out if axes else input


def mean(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        input = input.to(_dt.to_dtype(dtype))
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"mean: could not infer output dtype. Input dtype must be floating "
                           f"point, but got {input.dtype}; use input.float().mean()")
    axes = normalize_dims("mean", dim, input._data.ndim)
    count = 1
    for axis in axes:
        count *= input._data.shape[axis]
    return sum(input, axes if dim is not None else None, keepdim) / count


def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The `ord`-norm of the values over `dim` (all of them by default)."""
    x = input.to(_dt.to_dtype(dtype)) if dtype is not None else input
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"vector_norm: expected a floating point tensor, got {x.dtype}")
    if ord == 2:
        return sum(x * x, dim, keepdim).sqrt()
    if ord == float("inf"):
        return x.abs().amax(dim, keepdim)
    if ord == float("-inf"):
        return x.abs().amin(dim, keepdim)
    if ord == 0:
        return sum((x != 0).to(x.dtype), dim, keepdim)
    if ord == 1:
        return sum(x.abs(), dim, keepdim)
    return sum(x.abs() ** ord, dim, keepdim) ** (1.0 / ord)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm: the 2-norm ('fro') or the p-norm of the values over dim."""
    if p == "fro" or p is None:
        p = 2
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along `dim`, shifted by the max for stability."""
    x = input.to(_dt.to_dtype(dtype)) if dtype is not None else input
    if dim is None:
        raise TypeError("softmax: dim is required (implicit dim choice is deprecated)")
    shifted = x - x.amax(dim, keepdim=True).detach()
    e = shifted.exp()
    return e / sum(e, dim, keepdim=True)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    x = input.to(_dt.to_dtype(dtype)) if dtype is not None else input
    if dim is None:
        raise TypeError("log_softmax: dim is required (implicit dim choice is deprecated)")
    shifted = x - x.amax(dim, keepdim=True).detach()
    return shifted - sum(shifted.exp(), dim, keepdim=True).log()


METHODS = ("sum", "sum_to_size", "mean", "norm", "softmax", "log_softmax")
FUNCTIONS = ("vector_norm",)
