"""Running sums and products along a dim: cumsum, cumprod.

Integers and bools accumulate in int64, as in sum and prod. The gradient of cumsum is a
reverse cumulative sum; that of cumprod is too where the input has no zeros, and takes more
care where it has. The differentiable helper `_product_of_others` also gives reductions.prod
its gradient.
"""
from __future__ import annotations

from ..autograd import grad_mode
from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import needs_grad, record, xp_of
from .comparison import where
from .rearrange import flip
from .reductions import _accumulation_data, _single_dim, sum  # noqa: A004

_wrap = Tensor._wrap


# ------------------------------------------------------------------ exclusive products

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
    return flip(cumsum(flip(x, axis), axis), axis)


def _exclusive_cumprod(x, axis):
    """out[i] = product of x[j] for j < i along axis (1 at i = 0)."""
    xp = xp_of(x._data)
    n = x.shape[axis]
    steps = xp.arange(n)
    previous = _take(x, axis, xp.maximum(steps - 1, 0))
    first = _wrap(_along(steps == 0, axis, x.ndim))
    return cumprod(where(first, 1.0, previous), axis)


def _product_of_others(x, axis):
    """out[i] = product of x[j] for j != i along axis, without dividing (zeros are fine)."""
    left = _exclusive_cumprod(x, axis)
    right = flip(_exclusive_cumprod(flip(x, axis), axis), axis)
    return left * right


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


METHODS = ("cumsum", "cumprod")
