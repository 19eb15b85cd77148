"""Reductions over dimensions: sums, means, variances, products, logical reductions and norms;
and the helpers that the modules beside it share.

Every reduction takes `dim` (an int, a tuple of ints, or None for all of them) and `keepdim`,
and follows PyTorch's dtype rules: sums and products of integers and bools are int64; means
and variances need floating point. A reduction spreads its output's gradient back over the
dims it reduced (`_expand_back`).

The ops that select or accumulate along a dim have modules of their own: extrema (max, min,
argmax, ...), sorting (sort, topk, median), cumulative (cumsum, cumprod) and softmax
(logsumexp, softmax, log_softmax). They take their dims, shapes and dtype checks from the
helpers here.

Forward passes compute on backend arrays; backward formulas use labgrad ops only, so that
``create_graph=True`` gives correct second derivatives.
"""
from __future__ import annotations

import builtins
import contextlib
import math
import warnings

from .. import dtypes as _dt
from ..autograd import grad_mode
from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import (describe, needs_grad, normalize_dims, record, shape_args, shape_str, wrap_dim,
                    xp_of)
from .comparison import where

_wrap = Tensor._wrap
_state = grad_mode.state


# ------------------------------------------------------------------ helpers

def _axes(op, dim, ndim):
    """`dim` as a sorted tuple of axes. None, () and [] all mean every dimension, as in
    PyTorch; a 0-d tensor accepts dim 0 or -1 and has no axes to reduce."""
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        return tuple(range(ndim))
    if ndim == 0:
        for d in (dim if isinstance(dim, (tuple, list)) else (dim,)):
            wrap_dim(op, d, 0)
        return ()
    return normalize_dims(op, dim, ndim)


def _single_dim(op, dim, ndim):
    """The one axis a selecting op works along; None for a 0-d tensor (nothing to select)."""
    if isinstance(dim, (tuple, list)) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be a single int, got {dim!r}")
    axis = wrap_dim(op, int(dim), ndim)
    return axis if ndim else None


def _count(shape, axes):
    """How many elements a reduction over `axes` of `shape` combines."""
    return math.prod([shape[axis] for axis in axes])


def _reduced_shape(shape, axes, keepdim):
    if keepdim:
        return tuple(1 if i in axes else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i not in axes)


def _expand_back(grad, input_shape, axes, keepdim):
    """Broadcast a reduced gradient back over the reduced axes."""
    if not keepdim and axes:
        grad = grad.reshape(_reduced_shape(input_shape, axes, True))
    return grad.expand(input_shape)


def _is_float(data) -> bool:
    return _dt.from_numpy_dtype(data.dtype).is_floating_point


def _native(data):
    """Extension floats (bfloat16) as float32, whose comparisons, NaN ordering and reductions
    NumPy implements natively; other arrays unchanged. The conversion is exact."""
    if data.dtype.kind == "V":
        return data.astype("float32")
    return data


def _require_float(op, input):
    if not _is_float(input._data):
        raise RuntimeError(f"{op}: expected a floating point tensor, got {describe(input)}. "
                           f"Convert it first, e.g. input.float().{op}(...)")


def _accumulation_data(input, dtype):
    """The array a sum or product runs on: cast to `dtype`, else integers widened to int64."""
    data = input._data
    if dtype is not None:
        return data.astype(_dt.to_dtype(dtype).np, copy=False)
    if data.dtype.kind in "biu":
        return data.astype("int64", copy=False)  # PyTorch accumulates integers as int64
    return data


def _reduce(method, data, axes, keepdim):
    """data.sum or data.mean over axes; half-precision floats accumulate in float32, as in
    PyTorch, so long sums do not lose most of their digits. (The array methods skip NumPy's
    Python-level wrappers: twice as fast on small tensors.)"""
    if data.dtype.itemsize == 2 and _is_float(data):
        reduced = getattr(data, method)(axis=axes, keepdims=keepdim, dtype="float32")
        return reduced.astype(data.dtype)
    return getattr(data, method)(axis=axes, keepdims=keepdim)


def _quiet(xp):
    """Silence NumPy's warnings for results that are meant to be inf or nan (log 0, 0/0)."""
    errstate = getattr(xp, "errstate", None)
    if errstate is None:
        return contextlib.nullcontext()
    return errstate(divide="ignore", invalid="ignore", over="ignore")


def _check_not_empty(op, data, axes):
    if _count(data.shape, axes) == 0:
        where = "the tensor" if len(axes) == data.ndim else \
            f"dim {axes[0] if len(axes) == 1 else axes}"
        raise RuntimeError(f"{op}: cannot reduce over {where} of a tensor of shape "
                           f"{shape_str(data.shape)}: it is empty and {op} has no identity. "
                           "Give a dim whose size is not 0.")


# ------------------------------------------------------------------ sum, mean

class SumBackward0(Node):
    """Sum of every element."""

    def backward(self, grad):
        return grad.expand(self._input_meta[0][0])


class SumBackward1(Node):
    """Sum over some dims."""

    def backward(self, grad):
        return _expand_back(grad, self._input_meta[0][0], self.axes, self.keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001 - PyTorch's name
    """The sum over `dim` (all elements by default); integers and bools sum to int64."""
    data = _accumulation_data(input, dtype)
    axes = _axes("sum", dim, data.ndim)
    out = _wrap(_reduce("sum", data, axes, keepdim))
    if input._rg and _state.grad_enabled:  # needs_grad(input), inlined for the hot path
        if dim is None and not keepdim:
            record(SumBackward0, (input,), out)
        else:
            node = record(SumBackward1, (input,), out)
            node.axes, node.keepdim = axes, keepdim
    return out


class SumToSizeBackward0(SumBackward0):
    """Sum over broadcast dims: the gradient is expanded back, as for a sum."""


def sum_to_size(input, *size):
    """Sum over broadcast dimensions so the result has shape `size`."""
    size = shape_args("sum_to_size", size)
    shape = input._data.shape
    lead = len(shape) - len(size)
    if lead < 0 or builtins.any(s != 1 and s != d for s, d in zip(size, shape[lead:])):
        raise RuntimeError(f"sum_to_size: size {tuple(size)} is not expandable to the tensor's "
                           f"shape {tuple(shape)}")
    return sum_to_shape(input, size)


def sum_to_shape(input, size):
    """sum_to_size for a tuple of ints `size` known to be expandable to the input's shape: the
    path of gradients of broadcast operands (the engine, expand's backward), without parsing
    or checks. Returns the input itself when nothing is summed."""
    data = input._data
    shape = data.shape
    if shape == size:
        return input
    lead = len(shape) - len(size)
    axes = tuple(range(lead)) + tuple(i for i in range(lead, len(shape))
                                      if size[i - lead] == 1 and shape[i] != 1)
    if not axes:
        return input
    data = data.sum(axis=axes, keepdims=True)
    if lead:
        data = data.reshape(size)
    out = _wrap(data)
    if input._rg and _state.grad_enabled:  # needs_grad(input), inlined for the hot path
        record(SumToSizeBackward0, (input,), out)
    return out


def _mean_grad(grad, shape, axes, keepdim):
    """The gradient of a mean over `axes` of `shape` (None: of every element)."""
    if axes is None:
        return grad.expand(shape) / builtins.max(math.prod(shape), 1)
    return _expand_back(grad, shape, axes, keepdim) / builtins.max(_count(shape, axes), 1)


class MeanBackward0(Node):
    """Mean of every element."""

    def backward(self, grad):
        return _mean_grad(grad, self._input_meta[0][0], None, False)


class MeanBackward1(Node):
    """Mean over some dims."""

    def backward(self, grad):
        return _mean_grad(grad, self._input_meta[0][0], self.axes, self.keepdim)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """The mean over `dim` (all elements by default); needs a floating point tensor."""
    data = input._data if dtype is None else input._data.astype(_dt.to_dtype(dtype).np)
    if not _is_float(data):
        raise RuntimeError(f"mean: could not infer the output dtype: the input must be floating "
                           f"point, got {describe(input)}. Use input.float().mean() or pass "
                           "dtype=labgrad.float32")
    axes = _axes("mean", dim, data.ndim)
    xp = xp_of(data)
    if _count(data.shape, axes) == 0:  # the mean of nothing is nan, without NumPy's warning
        out = _wrap(xp.full(_reduced_shape(data.shape, axes, keepdim), math.nan, data.dtype))
    else:
        out = _wrap(_reduce("mean", data, axes, keepdim))
    if needs_grad(input):
        if dim is None and not keepdim:
            record(MeanBackward0, (input,), out)
        else:
            node = record(MeanBackward1, (input,), out)
            node.axes, node.keepdim = axes, keepdim
    return out


# ------------------------------------------------------------------ var, std

def _variance_args(op, dim, unbiased, correction):
    """PyTorch's two spellings: `correction` (default 1), or the legacy `unbiased` flag,
    which may also come first in place of dim (var(x, False))."""
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: pass either unbiased= or correction=, not both "
                        "(unbiased=False is correction=0)")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


def _moments(op, input, dim, correction, keepdim):
    """(variance, mean, axes, degrees of freedom) of `input` over `dim`, as arrays."""
    _require_float(op, input)
    data = input._data
    axes = _axes(op, dim, data.ndim)
    xp = xp_of(data)
    dof = builtins.max(0, _count(data.shape, axes) - correction)
    if dof <= 0:
        warnings.warn(f"{op}: degrees of freedom is <= 0 (correction {correction} is not less "
                      f"than the {_count(data.shape, axes)} values reduced); the result is "
                      "inf or nan", RuntimeWarning, stacklevel=4)
    with _quiet(xp):
        mean_kept = xp.mean(data, axis=axes, keepdims=True)
        centered = data - mean_kept
        var = xp.sum(centered * centered, axis=axes, keepdims=keepdim) / data.dtype.type(dof)
    var = xp.asarray(var, dtype=data.dtype)
    return var, mean_kept.reshape(var.shape), axes, dof


def _var_grad(grad, x, axes, keepdim, dof):
    """d var / d x = 2 (x - mean) / dof, times the incoming gradient."""
    centered = x - mean(x, axes, keepdim=True)
    scale = 2.0 / dof if dof else math.inf
    return _expand_back(grad, x.shape, axes, keepdim) * centered * scale


def _std_grad(grad, x, std, axes, keepdim, dof):
    """d std = d var / (2 std); zero where std is 0, as in PyTorch (the true limit is
    undefined there)."""
    std = _expand_back(std, x.shape, axes, keepdim)
    flat = std == 0
    safe = where(flat, 1.0, std)
    grad = where(flat, 0.0, _expand_back(grad, x.shape, axes, keepdim) / (2 * safe))
    return _var_grad(grad, x, axes, True, dof)


class VarBackward0(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        return _var_grad(grad, x, self.axes, self.keepdim, self.dof)


class StdBackward0(Node):
    def backward(self, grad):
        x, std = self.saved_tensors
        return _std_grad(grad, x, std, self.axes, self.keepdim, self.dof)


class VarMeanBackward0(Node):
    def backward(self, grad_var, grad_mean):
        (x,) = self.saved_tensors
        return (_var_grad(grad_var, x, self.axes, self.keepdim, self.dof)
                + _mean_grad(grad_mean, x.shape, self.axes, self.keepdim))


class StdMeanBackward0(Node):
    def backward(self, grad_std, grad_mean):
        x, std = self.saved_tensors
        return (_std_grad(grad_std, x, std, self.axes, self.keepdim, self.dof)
                + _mean_grad(grad_mean, x.shape, self.axes, self.keepdim))


def _variance_op(op, input, dim, unbiased, keepdim, correction):
    dim, correction = _variance_args(op, dim, unbiased, correction)
    var, mean_, axes, dof = _moments(op, input, dim, correction, keepdim)
    xp = xp_of(var)
    std = op.startswith("std")
    value = _wrap(xp.sqrt(var) if std else var)
    outputs = (value, _wrap(mean_)) if op.endswith("_mean") else value
    if needs_grad(input):
        node_cls = {"var": VarBackward0, "std": StdBackward0, "var_mean": VarMeanBackward0,
                    "std_mean": StdMeanBackward0}[op]
        saved = (input, value) if std else (input,)
        node = record(node_cls, (input,), outputs, saved=saved)
        node.axes, node.keepdim, node.dof = axes, keepdim, dof
    return outputs


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The variance over `dim`, divided by (N - correction); correction=1 (Bessel's) by
    default. unbiased=False is the legacy spelling of correction=0."""
    return _variance_op("var", input, dim, unbiased, keepdim, correction)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """The standard deviation: sqrt(var(input, dim, ...))."""
    return _variance_op("std", input, dim, unbiased, keepdim, correction)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over `dim`, in one pass."""
    return _variance_op("var_mean", input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over `dim`, in one pass."""
    return _variance_op("std_mean", input, dim, unbiased, keepdim, correction)


# ------------------------------------------------------------------ prod

class ProdBackward0(Node):
    """Product of every element."""

    def backward(self, grad):
        x, out = self.saved_tensors
        if x.ndim == 0:
            return grad
        grad = grad.expand(x.shape)
        if not xp_of(x._data).any(x._data == 0):
            return grad * out / x
        from .cumulative import _product_of_others  # cumulative imports this module
        return grad * _product_of_others(x.reshape(-1), 0).reshape(x.shape)


class ProdBackward1(Node):
    """Product along one dim."""

    def backward(self, grad):
        x, out = self.saved_tensors
        if self.axis is None:
            return grad
        grad = _expand_back(grad, x.shape, (self.axis,), self.keepdim)
        if not xp_of(x._data).any(x._data == 0):
            return grad * _expand_back(out, x.shape, (self.axis,), self.keepdim) / x
        from .cumulative import _product_of_others  # cumulative imports this module
        return grad * _product_of_others(x, self.axis)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    """The product over one dim (all elements by default); integers and bools give int64."""
    data = _accumulation_data(input, dtype)
    xp = xp_of(data)
    if dim is None:
        out = _wrap(xp.prod(data, keepdims=keepdim))
        if needs_grad(input):
            record(ProdBackward0, (input,), out, saved=(input, out))
        return out
    axis = _single_dim("prod", dim, data.ndim)
    out = _wrap(data.copy() if axis is None else xp.prod(data, axis=axis, keepdims=keepdim))
    if needs_grad(input):
        node = record(ProdBackward1, (input,), out, saved=(input, out))
        node.axis, node.keepdim = axis, keepdim
    return out


# ------------------------------------------------------------------ logical and counting

def _logical_reduction(op, input, dim, keepdim):
    data = input._data
    axes = _axes(op, dim, data.ndim)
    xp = xp_of(data)
    out = getattr(xp, op)(data, axis=axes, keepdims=keepdim)
    if data.dtype == "uint8":  # PyTorch keeps uint8 for all/any of uint8
        out = out.astype("uint8")
    return _wrap(out)


def all(input, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """True where every value over `dim` is non-zero (bool; uint8 for uint8 input)."""
    return _logical_reduction("all", input, dim, keepdim)


def any(input, dim=None, keepdim=False):  # noqa: A001 - PyTorch's name
    """True where some value over `dim` is non-zero (bool; uint8 for uint8 input)."""
    return _logical_reduction("any", input, dim, keepdim)


def count_nonzero(input, dim=None):
    """The number of non-zero values over `dim` (all dims by default), as int64."""
    data = input._data
    axes = _axes("count_nonzero", dim, data.ndim)
    return _wrap(xp_of(data).sum(data != 0, axis=axes, dtype="int64"))


# ------------------------------------------------------------------ norms

def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The `ord`-norm of the values over `dim` (all of them by default)."""
    x = input.to(_dt.to_dtype(dtype)) if dtype is not None else input
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"vector_norm: expected a floating point tensor, got {describe(x)}. "
                           "Convert it first, or pass dtype=labgrad.float32")
    if ord == 2:
        return _two_norm(x, dim, keepdim)
    if ord == float("inf"):
        return x.abs().amax(dim, keepdim)
    if ord == float("-inf"):
        return x.abs().amin(dim, keepdim)
    if ord == 0:
        return sum((x != 0).to(x.dtype), dim, keepdim)
    if ord == 1:
        return sum(x.abs(), dim, keepdim)
    return sum(x.abs() ** ord, dim, keepdim) ** (1.0 / ord)


class NormBackward1(Node):
    """d|x|/dx = x / |x|, and 0 where |x| is 0 (a subgradient, as PyTorch picks)."""

    def backward(self, grad):
        x, out = self.saved_tensors
        zero = out == 0
        scale = where(zero, 0.0, grad / where(zero, 1.0, out))
        return _expand_back(scale, x.shape, self.axes, self.keepdim) * x


def _two_norm(x, dim, keepdim):
    data = x._data
    xp = xp_of(data)
    axes = _axes("vector_norm", dim, data.ndim)
    out = _wrap(xp.sqrt(xp.sum(data * data, axis=axes, keepdims=keepdim)))
    if needs_grad(x):
        node = record(NormBackward1, (x,), out, saved=(x, out))
        node.axes, node.keepdim = axes, keepdim
    return out


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    """torch.norm: the 2-norm ('fro') or the p-norm of the values over dim."""
    if p == "fro" or p is None:
        p = 2
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


METHODS = ("sum", "sum_to_size", "mean", "var", "std", "prod", "all", "any", "count_nonzero",
           "norm")
FUNCTIONS = ("vector_norm", "var_mean", "std_mean")
