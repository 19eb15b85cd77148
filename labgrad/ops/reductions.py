"""Reductions over dimensions, and the ops that select or accumulate along one.

Every reduction takes `dim` (an int, a tuple of ints, or None for all of them) and `keepdim`,
and follows PyTorch's dtype rules: sums and products of integers and bools are int64; means,
variances, logsumexp and softmax need floating point. Gradients come in two kinds:

- a reduction spreads its output's gradient back over the dims it reduced (`_expand_back`);
- a selection (max/min with a dim, sort, topk, median) puts each gradient back where its value
  was taken from (`_select_backward`, a scatter into zeros).

Forward passes compute on backend arrays; backward formulas use labgrad ops only, so that
``create_graph=True`` gives correct second derivatives.
"""
from __future__ import annotations

import builtins
import collections
import contextlib
import math
import types
import warnings

from .. import dtypes as _dt
from ..autograd import grad_mode
from ..autograd.graph import Node
from ..tensor import Tensor
from . import gather as _gather
from ._util import describe, needs_grad, normalize_dims, record, shape_str, wrap_dim, xp_of

_wrap = Tensor._wrap


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
    n = 1
    for axis in axes:
        n *= shape[axis]
    return n


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


def _return_type(name, fields):
    """A named pair like torch.return_types.max: unpacks as a tuple, fields by name."""
    cls = collections.namedtuple(name, fields)
    cls.__module__ = "labgrad.return_types"

    def __repr__(self):
        items = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"labgrad.return_types.{name}(\n{items})"

    cls.__repr__ = __repr__
    return cls


return_types = types.SimpleNamespace(
    **{name: _return_type(name, ("values", "indices"))
       for name in ("max", "min", "sort", "topk", "median")},
    aminmax=_return_type("aminmax", ("min", "max")))


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
    if needs_grad(input):
        if dim is None and not keepdim:
            record(SumBackward0, (input,), out)
        else:
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
    if lead < 0 or builtins.any(s != 1 and s != d for s, d in zip(size, shape[lead:])):
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


class MeanBackward0(Node):
    """Mean of every element."""

    def backward(self, grad):
        shape = self._input_meta[0][0]
        return grad.expand(shape) / builtins.max(_count(shape, range(len(shape))), 1)


class MeanBackward1(Node):
    """Mean over some dims."""

    def backward(self, grad):
        shape = self._input_meta[0][0]
        count = builtins.max(_count(shape, self.axes), 1)
        return _expand_back(grad, shape, self.axes, self.keepdim) / count


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
    from .comparison import where
    std = _expand_back(std, x.shape, axes, keepdim)
    flat = std == 0
    safe = where(flat, 1.0, std)
    grad = where(flat, 0.0, _expand_back(grad, x.shape, axes, keepdim) / (2 * safe))
    return _var_grad(grad, x, axes, True, dof)


def _mean_grad(grad, shape, axes, keepdim):
    return _expand_back(grad, shape, axes, keepdim) / builtins.max(_count(shape, axes), 1)


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


# ------------------------------------------------------------------ index helpers

class FlipBackward0(Node):
    def backward(self, grad):
        return _flip(grad, self.axis)


def _flip(x, axis):
    """x reversed along `axis` (a differentiable copy), for reverse cumulative sums."""
    xp = xp_of(x._data)
    out = _wrap(xp.ascontiguousarray(xp.flip(x._data, axis)))
    if needs_grad(x):
        record(FlipBackward0, (x,), out).axis = axis
    return out


def _take(x, axis, positions):
    """x at the given positions along `axis` (an index array): differentiable indexing."""
    return x[(slice(None),) * axis + (_wrap(positions),)]


def _along(values, axis, ndim):
    """A 1-d array laid out along `axis` of an ndim-dimensional tensor, for broadcasting."""
    shape = [1] * ndim
    shape[axis] = values.shape[0]
    return values.reshape(shape)


def _reverse_cumsum(x, axis):
    """out[i] = sum of x[j] for j >= i along axis: the gradient of cumsum."""
    return _flip(cumsum(_flip(x, axis), axis), axis)


def _exclusive_cumprod(x, axis):
    """out[i] = product of x[j] for j < i along axis (1 at i = 0)."""
    from .comparison import where
    xp = xp_of(x._data)
    n = x.shape[axis]
    steps = xp.arange(n)
    previous = _take(x, axis, xp.maximum(steps - 1, 0))
    first = _wrap(_along(steps == 0, axis, x.ndim))
    return cumprod(where(first, 1.0, previous), axis)


def _product_of_others(x, axis):
    """out[i] = product of x[j] for j != i along axis, without dividing (zeros are fine)."""
    left = _exclusive_cumprod(x, axis)
    right = _flip(_exclusive_cumprod(_flip(x, axis), axis), axis)
    return left * right


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


# ------------------------------------------------------------------ cumsum, cumprod

class CumsumBackward0(Node):
    def backward(self, grad):
        return grad if self.axis is None else _reverse_cumsum(grad, self.axis)


def cumsum(input, dim, *, dtype=None):
    """Running sums along `dim`; integers and bools give int64."""
    data = _accumulation_data(input, dtype)
    axis = _single_dim("cumsum", dim, data.ndim)
    xp = xp_of(data)
    out = _wrap(data.copy() if axis is None else xp.cumsum(data, axis=axis))
    if needs_grad(input):
        record(CumsumBackward0, (input,), out).axis = axis
    return out


class CumprodBackward0(Node):
    def backward(self, grad):
        x, out = self.saved_tensors
        axis = self.axis
        if axis is None:
            return grad
        if not xp_of(x._data).any(x._data == 0):
            return _reverse_cumsum(grad * out, axis) / x
        if grad_mode.state.grad_enabled:  # create_graph: second derivatives must be exact
            return _cumprod_grad_exact(grad, x, axis)
        return _cumprod_grad_with_zeros(grad, x, out, axis)


def _cumprod_grad_with_zeros(grad, x, out, axis):
    """First-order gradient of cumprod where x has zeros, in O(n) on arrays.

    With z the first zero along the axis: for i < z, out[k] = 0 for k >= z, so dividing by
    x[i] is safe; at z, the gradient is the reverse cumsum of grad * cumprod(x with x[z] = 1);
    after z every term contains x[z] = 0.
    """
    xp = xp_of(x._data)
    g, xd, yd = grad._data, x._data, out._data

    def reverse_cumsum(a):
        return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)

    zeros_so_far = xp.cumsum(xd == 0, axis=axis)
    before = zeros_so_far == 0
    first_zero = (xd == 0) & (zeros_so_far == 1)
    before_part = reverse_cumsum(g * yd) / xp.where(before, xd, 1)
    zero_part = reverse_cumsum(g * xp.cumprod(xp.where(first_zero, 1, xd), axis=axis))
    result = xp.where(before, before_part, xp.where(first_zero, zero_part, 0))
    return _wrap(result.astype(g.dtype, copy=False))


def _cumprod_grad_exact(grad, x, axis):
    """grad[i] = sum over k >= i of grad[k] * prod(x[j] for j <= k, j != i), in labgrad ops.

    O(n^2) memory along the axis, but every derivative of it is right, zeros included; used
    only when backward itself is being differentiated.
    """
    from .comparison import where
    xp = xp_of(x._data)
    xt, gt = x.transpose(axis, -1), grad.transpose(axis, -1)
    n = xt.shape[-1]
    # rows[..., i, j] = x[j], with x[i] replaced by 1; its cumprod along j leaves x[i] out.
    rows = where(_wrap(xp.eye(n, dtype=bool)), 1.0, xt.unsqueeze(-2))
    upper = _wrap(xp.triu(xp.ones((n, n), dtype=bool)))  # k >= i
    terms = where(upper, gt.unsqueeze(-2) * cumprod(rows, -1), 0.0)
    return sum(terms, -1).transpose(axis, -1)


def cumprod(input, dim, *, dtype=None):
    """Running products along `dim`; integers and bools give int64."""
    data = _accumulation_data(input, dtype)
    axis = _single_dim("cumprod", dim, data.ndim)
    xp = xp_of(data)
    out = _wrap(data.copy() if axis is None else xp.cumprod(data, axis=axis))
    if needs_grad(input):
        record(CumprodBackward0, (input,), out, saved=(input, out)).axis = axis
    return out


# ------------------------------------------------------------------ max, min, amax, amin

def _tie_share(x, value, axes):
    """Where x equals the reduced `value`, 1/number of such ties; else 0 (arrays).

    The gradient of amax, amin and max()/min()/median() without dim is split evenly among
    tied elements, as in PyTorch; a NaN result sends it to the NaNs. The share is constant
    where it is defined, so it needs no graph of its own.
    """
    xp = xp_of(x)
    dtype = x.dtype
    x, value = _native(x), _native(value.reshape(_reduced_shape(x.shape, axes, True)))
    hit = x == value
    if _is_float(x):
        hit = hit | (xp.isnan(x) & xp.isnan(value))
    hit = hit.astype(x.dtype)
    return (hit / xp.sum(hit, axis=axes, keepdims=True)).astype(dtype, copy=False)


class _EvenlySplit(Node):
    """Backward of a reduction whose value came from its tied elements."""

    def backward(self, grad):
        x, out = self.saved_tensors
        axes = self.axes
        share = _tie_share(x._data, out._data, axes)
        return _expand_back(grad, x.shape, axes, self.keepdim) * _wrap(share)


class MaxBackward1(_EvenlySplit):
    """max() without a dim."""


class MinBackward1(_EvenlySplit):
    """min() without a dim."""


class AmaxBackward0(_EvenlySplit):
    pass


class AminBackward0(_EvenlySplit):
    pass


class MedianBackward0(_EvenlySplit):
    """median() without a dim."""


class AminmaxBackward0(Node):
    def backward(self, grad_min, grad_max):
        x, low, high = self.saved_tensors
        axes, keepdim = self.axes, self.keepdim
        low_share = _wrap(_tie_share(x._data, low._data, axes))
        high_share = _wrap(_tie_share(x._data, high._data, axes))
        return (_expand_back(grad_min, x.shape, axes, keepdim) * low_share
                + _expand_back(grad_max, x.shape, axes, keepdim) * high_share)


def _select_backward(grad, indices, axis, input_shape, keepdim):
    """The gradient of picking values at `indices` along `axis`: each gradient goes back to
    the element its value came from (zeros elsewhere)."""
    if axis is None:  # a 0-d input: the value is the input
        return grad
    if not keepdim:
        grad, indices = grad.unsqueeze(axis), indices.unsqueeze(axis)
    xp = xp_of(grad._data)
    zeros = _wrap(xp.zeros(input_shape, dtype=grad._data.dtype))
    return _gather.scatter_unchecked(zeros, axis, indices, grad)


class _SelectBackward(Node):
    def backward(self, grad):
        (indices,) = self.saved_tensors
        return _select_backward(grad, indices, self.axis, self._input_meta[0][0],
                                self.keepdim)


class MaxBackward0(_SelectBackward):
    """max(dim): the gradient goes to the index max returned."""


class MinBackward0(_SelectBackward):
    pass


class MedianBackward1(_SelectBackward):
    pass


class SortBackward0(_SelectBackward):
    pass


class TopkBackward0(_SelectBackward):
    pass


def _selection(op, node_cls, input, values, indices, axis, keepdim):
    """(values, indices) as op's return type. `indices` arrives with the reduced dim kept.

    The node saves the returned indices, so changing them in place is caught at backward.
    """
    if axis is not None and not keepdim:
        indices = indices.squeeze(axis)
    out, index = _wrap(values), _wrap(indices.astype("int64", copy=False))
    if needs_grad(input):
        node = record(node_cls, (input,), out, saved=(index,))
        node.axis, node.keepdim = axis, keepdim
    return getattr(return_types, op)(out, index)


def _full_reduction(op, node_cls, kernel, input):
    """max(), min(), the value over every element; ties share the gradient."""
    data = input._data
    if data.size == 0:
        raise RuntimeError(f"{op}: the tensor of shape {shape_str(data.shape)} is empty, so it "
                           f"has no {op}. Give a dim to reduce over one that is not empty.")
    out = _wrap(xp_of(data).asarray(kernel(_native(data)), dtype=data.dtype))
    if needs_grad(input):
        node = record(node_cls, (input,), out, saved=(input, out))
        node.axes, node.keepdim = tuple(range(data.ndim)), False
    return out


def _extreme_along(op, input, dim, keepdim):
    """max(dim) / min(dim): values and the index of the first one (NaN counts as extreme)."""
    data = input._data
    axis = _single_dim(op, dim, data.ndim)
    xp = xp_of(data)
    if axis is None:
        return _selection(op, MaxBackward0 if op == "max" else MinBackward0, input,
                          data.copy(), xp.zeros((), dtype="int64"), None, keepdim)
    _check_not_empty(op, data, (axis,))
    pick = xp.argmax if op == "max" else xp.argmin
    indices = xp.expand_dims(pick(_native(data), axis=axis), axis)
    values = xp.take_along_axis(data, indices, axis)
    if not keepdim:
        values = values.squeeze(axis)
    node_cls = MaxBackward0 if op == "max" else MinBackward0
    return _selection(op, node_cls, input, values, indices, axis, keepdim)


def max(input, dim=None, keepdim=False, *, other=None):  # noqa: A001 - PyTorch's name
    """max(): the largest value. max(dim, keepdim=False): (values, indices) along dim.
    max(other) with a tensor: the elementwise maximum."""
    if isinstance(dim, Tensor) or other is not None:
        from .arithmetic import maximum
        return maximum(input, other if other is not None else dim)
    if dim is None:
        return _full_reduction("max", MaxBackward1, lambda d: xp_of(d).max(d), input)
    return _extreme_along("max", input, dim, keepdim)


def min(input, dim=None, keepdim=False, *, other=None):  # noqa: A001 - PyTorch's name
    """min(): the smallest value. min(dim, keepdim=False): (values, indices) along dim.
    min(other) with a tensor: the elementwise minimum."""
    if isinstance(dim, Tensor) or other is not None:
        from .arithmetic import minimum
        return minimum(input, other if other is not None else dim)
    if dim is None:
        return _full_reduction("min", MinBackward1, lambda d: xp_of(d).min(d), input)
    return _extreme_along("min", input, dim, keepdim)


def _amax_op(op, node_cls, input, dim, keepdim):
    data = input._data
    axes = _axes(op, dim, data.ndim)
    _check_not_empty(op, data, axes)
    xp = xp_of(data)
    kernel = xp.max if op == "amax" else xp.min
    out = _wrap(xp.asarray(kernel(_native(data), axis=axes, keepdims=keepdim), dtype=data.dtype))
    if needs_grad(input):
        node = record(node_cls, (input,), out, saved=(input, out))
        node.axes, node.keepdim = axes, keepdim
    return out


def amax(input, dim=(), keepdim=False):
    """The largest values over `dim` (all dims by default); ties share the gradient."""
    return _amax_op("amax", AmaxBackward0, input, dim, keepdim)


def amin(input, dim=(), keepdim=False):
    """The smallest values over `dim` (all dims by default); ties share the gradient."""
    return _amax_op("amin", AminBackward0, input, dim, keepdim)


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over `dim` (all dims by default)."""
    data = input._data
    axes = _axes("aminmax", dim, data.ndim)
    _check_not_empty("aminmax", data, axes)
    xp = xp_of(data)
    native = _native(data)
    low = _wrap(xp.asarray(xp.min(native, axis=axes, keepdims=keepdim), dtype=data.dtype))
    high = _wrap(xp.asarray(xp.max(native, axis=axes, keepdims=keepdim), dtype=data.dtype))
    if needs_grad(input):
        node = record(AminmaxBackward0, (input,), (low, high), saved=(input, low, high))
        node.axes, node.keepdim = axes, keepdim
    return return_types.aminmax(low, high)


def _arg_extreme(op, input, dim, keepdim):
    data = input._data
    if data.dtype.kind == "b":
        raise RuntimeError(f"{op}: bool tensors are not supported; use input.int().{op}()")
    xp = xp_of(data)
    data = _native(data)
    pick = xp.argmax if op == "argmax" else xp.argmin
    if dim is None:
        _check_not_empty(op, data, tuple(range(data.ndim)))
        index = pick(data.reshape(-1))
        shape = (1,) * data.ndim if keepdim else ()
        return _wrap(xp.asarray(index, dtype="int64").reshape(shape))
    axis = _single_dim(op, dim, data.ndim)
    if axis is None:
        return _wrap(xp.zeros((), dtype="int64"))
    _check_not_empty(op, data, (axis,))
    index = pick(data, axis=axis)
    if keepdim:
        index = xp.expand_dims(index, axis)
    return _wrap(index.astype("int64", copy=False))


def argmax(input, dim=None, keepdim=False):
    """The index of the largest value (of the flattened tensor when dim is None); the first
    one among ties, and the first NaN if there is one."""
    return _arg_extreme("argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    """The index of the smallest value; the first among ties, and the first NaN if any."""
    return _arg_extreme("argmin", input, dim, keepdim)


# ------------------------------------------------------------------ sort, topk, median

def _argsort(data, axis, descending):
    """A stable argsort along axis; NaN sorts as the largest value, as in PyTorch."""
    xp = xp_of(data)
    data = _native(data)
    if not descending:
        return xp.argsort(data, axis=axis, kind="stable")
    # Sorting the reversed array and reversing the result keeps equal elements in their
    # original order, which negating the values would not (and cannot do for bools).
    order = xp.argsort(xp.flip(data, axis), axis=axis, kind="stable")
    return (data.shape[axis] - 1) - xp.flip(order, axis)


def sort(input, dim=-1, descending=False, *, stable=False):
    """(values, indices) sorted along `dim`. Always stable: equal values keep their order."""
    data = input._data
    axis = _single_dim("sort", dim, data.ndim)
    xp = xp_of(data)
    if axis is None:
        return _selection("sort", SortBackward0, input, data.copy(),
                          xp.zeros((), dtype="int64"), None, True)
    order = _argsort(data, axis, descending)
    values = xp.take_along_axis(data, order, axis)
    return _selection("sort", SortBackward0, input, values, order, axis, True)


def argsort(input, dim=-1, descending=False, *, stable=False):
    """The indices that sort `input` along `dim` (stable)."""
    return sort(input, dim, descending, stable=stable).indices


def topk(input, k, dim=None, largest=True, sorted=True):  # noqa: A002 - PyTorch's name
    """The k largest (or smallest) values along `dim` (the last by default) and their indices,
    largest first (smallest first with largest=False)."""
    data = input._data
    axis = _single_dim("topk", -1 if dim is None else dim, data.ndim)
    size = 1 if axis is None else data.shape[axis]
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: k={k} is out of range for dimension "
                           f"{-1 if dim is None else dim} of size {size} (tensor of shape "
                           f"{shape_str(data.shape)}); k must be in [0, {size}]")
    if axis is None:
        return sort(input)
    order = _topk_order(data, k, axis, largest)
    values = xp_of(data).take_along_axis(data, order, axis)
    return _selection("topk", TopkBackward0, input, values, order, axis, True)


def _topk_order(data, k, axis, largest):
    """Indices of the k largest (smallest) values along axis, best first."""
    xp = xp_of(data)
    n = data.shape[axis]
    if not 0 < k < n:
        return xp.take(_argsort(data, axis, largest), xp.arange(k), axis=axis)
    # Partitioning finds the k candidates in linear time; only they are then sorted. Sorting
    # the candidates' positions first makes ties come out in their original order.
    part = xp.argpartition(_native(data), n - k if largest else k - 1, axis=axis)
    keep = xp.arange(n - k, n) if largest else xp.arange(k)
    candidates = xp.sort(xp.take(part, keep, axis=axis), axis=axis)
    ranked = _argsort(xp.take_along_axis(data, candidates, axis), axis, largest)
    return xp.take_along_axis(candidates, ranked, axis)


def _median_positions(data, order, axis):
    """Where the median sits in the sorted order: the lower middle, or the first NaN."""
    xp = xp_of(data)
    n = data.shape[axis]
    middle = xp.full(data.shape[:axis] + (1,) + data.shape[axis + 1:], (n - 1) // 2,
                     dtype=order.dtype)
    if not _is_float(data):
        return middle
    nan_count = xp.sum(xp.isnan(_native(data)), axis=axis, keepdims=True)
    return xp.where(nan_count > 0, n - nan_count, middle)


def median(input, dim=None, keepdim=False):
    """median(): the lower median of all values (NaN if any is NaN).
    median(dim): (values, indices) of the lower median along dim."""
    data = input._data
    xp = xp_of(data)
    if dim is None:
        if data.size == 0:
            if not _is_float(data):
                raise RuntimeError(f"median: the integer tensor of shape "
                                   f"{shape_str(data.shape)} is empty, so it has no median")
            return _wrap(xp.full((), math.nan, dtype=data.dtype))
        flat = data.reshape(-1)
        order = _argsort(flat, 0, False)
        index = _median_positions(flat, order, 0)
        value = flat[order[index]].reshape(())
        out = _wrap(value)
        if needs_grad(input):
            node = record(MedianBackward0, (input,), out, saved=(input, out))
            node.axes, node.keepdim = tuple(range(data.ndim)), False
        return out
    axis = _single_dim("median", dim, data.ndim)
    if axis is None:
        return _selection("median", MedianBackward1, input, data.copy(),
                          xp.zeros((), dtype="int64"), None, keepdim)
    _check_not_empty("median", data, (axis,))
    order = _argsort(data, axis, False)
    indices = xp.take_along_axis(order, _median_positions(data, order, axis), axis)
    values = xp.take_along_axis(data, indices, axis)
    if not keepdim:
        values = values.squeeze(axis)
    return _selection("median", MedianBackward1, input, values, indices, axis, keepdim)


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
        raise RuntimeError(f"vector_norm: expected a floating point tensor, got {x.dtype}")
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
        from .comparison import where
        zero = out == 0
        scale = where(zero, 0.0, grad / where(zero, 1.0, out))
        return _expand_back(scale, x.shape, self.axes, self.keepdim) * x


def _two_norm(x, dim, keepdim):
    data = x._data
    xp = xp_of(data)
    axes = normalize_dims("vector_norm", dim, data.ndim)
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


METHODS = ("sum", "sum_to_size", "mean", "var", "std", "prod", "cumsum", "cumprod", "max",
           "min", "amax", "amin", "aminmax", "argmax", "argmin", "sort", "argsort", "topk",
           "median", "logsumexp", "softmax", "log_softmax", "all", "any", "count_nonzero",
           "norm")
FUNCTIONS = ("vector_norm", "var_mean", "std_mean", "return_types")
