"""logsumexp, softmax and log_softmax along a dim, each computed stably: the input is
shifted by its max before it is exponentiated, so large values do not overflow.

softmax and log_softmax need a floating point input (or a dtype= to convert to); logsumexp
converts integers to the default dtype.
"""
from __future__ import annotations

import warnings

from .. import dtypes as _dt
from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import describe, needs_grad, record, wrap_dim, xp_of
from .reductions import _axes, _expand_back, _is_float, _quiet, _reduced_shape, sum  # noqa: A004

_wrap = Tensor._wrap


# ------------------------------------------------------------------ logsumexp, softmax

class LogsumexpBackward0(Node):
    def backward(self, grad):
        x, out = self.saved_tensors
        out = _expand_back(out, x.shape, self.axes, self.keepdim)
        return _expand_back(grad, x.shape, self.axes, self.keepdim) * (x - out).exp()


def logsumexp(input, dim, keepdim=False):
    """log(sum(exp(x))) over `dim`, shifted by the max so large values do not overflow."""
    data = input._data
    if not _is_float(data):
        data = data.astype(_dt.get_default_dtype().np)
    axes = _axes("logsumexp", dim, data.ndim)
    xp = xp_of(data)
    with _quiet(xp):
        if data.size:
            shift = xp.max(data, axis=axes, keepdims=True)
            shift = xp.where(xp.isfinite(shift), shift, 0)  # all -inf, or +inf: no shift
        else:
            shift = xp.zeros(_reduced_shape(data.shape, axes, True), dtype=data.dtype)
        total = xp.sum(xp.exp(data - shift), axis=axes, keepdims=True)
        out = xp.log(total) + shift
    out = _wrap(out.reshape(_reduced_shape(data.shape, axes, keepdim)))
    if needs_grad(input):
        node = record(LogsumexpBackward0, (input,), out, saved=(input, out))
        node.axes, node.keepdim = axes, keepdim
    return out


def _softmax_dim(op, dim, ndim, stacklevel):
    """PyTorch's implicit choice when dim is None (deprecated): 0 for 0-, 1- and 3-d."""
    if dim is None:
        warnings.warn(f"{op}: implicit dimension choice is deprecated; pass dim=X",
                      UserWarning, stacklevel=stacklevel)
        dim = 0 if ndim in (0, 1, 3) else 1
    return wrap_dim(op, dim, ndim)


def _softmax_input(op, input, dtype):
    x = input.to(_dt.to_dtype(dtype)) if dtype is not None else input
    if not _is_float(x._data):
        raise RuntimeError(f"{op}: expected a floating point tensor, got {describe(input)}; "
                           f"use input.float() or pass dtype=labgrad.float32")
    return x


def _shifted_exp(data, axis):
    """(x - max, exp(x - max), their sum) along axis: the stable core of both softmaxes."""
    xp = xp_of(data)
    axis = axis if data.ndim else None
    if data.size == 0:
        return data, data, data
    with _quiet(xp):
        shifted = data - xp.max(data, axis=axis, keepdims=True)
        e = xp.exp(shifted)
    return shifted, e, xp.sum(e, axis=axis, keepdims=True)


class SoftmaxBackward0(Node):
    """dx = y * (g - sum(g * y)) along dim."""

    def backward(self, grad):
        (y,) = self.saved_tensors
        return y * (grad - sum(grad * y, self.dim, keepdim=True))


class LogSoftmaxBackward0(Node):
    """dx = g - softmax * sum(g) along dim; softmax is exp of the output."""

    def backward(self, grad):
        (y,) = self.saved_tensors
        return grad - y.exp() * sum(grad, self.dim, keepdim=True)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along `dim`, computed stably (shifted by the max)."""
    x = _softmax_input("softmax", input, dtype)
    dim = _softmax_dim("softmax", dim, x.ndim, _stacklevel)
    _, e, total = _shifted_exp(x._data, dim)
    with _quiet(xp_of(e)):
        out = _wrap(e / total)
    if needs_grad(x):
        node = record(SoftmaxBackward0, (x,), out, saved=(out,))
        node.dim = dim
    return out


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """x - logsumexp(x) along `dim`, computed stably."""
    x = _softmax_input("log_softmax", input, dtype)
    dim = _softmax_dim("log_softmax", dim, x.ndim, _stacklevel)
    shifted, _, total = _shifted_exp(x._data, dim)
    with _quiet(xp_of(total)):
        out = _wrap(shifted - xp_of(total).log(total))
    if needs_grad(x):
        node = record(LogSoftmaxBackward0, (x,), out, saved=(out,))
        node.dim = dim
    return out


METHODS = ("logsumexp", "softmax", "log_softmax")
