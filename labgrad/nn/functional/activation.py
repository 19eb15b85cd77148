"""Activation functions and softmax, as torch.nn.functional has them.

The elementwise kernels live in labgrad.ops (activations, pointwise, softmax); this file gives
them PyTorch's functional signatures (``inplace=``, the ``*_`` in-place variants) and adds the
ones built from other ops: glu, threshold, softmin, prelu, rrelu, hardshrink, softshrink and
gumbel_softmax.
"""
from __future__ import annotations

from ... import dtypes as _dt
from ...ops import activations as _act
from ...ops.activations import (celu, elu, gelu, hardtanh, leaky_relu, logsigmoid,  # noqa: F401
                                softplus, softsign, tanhshrink)
from ...ops.comparison import where
from ...ops.pointwise import sigmoid, tanh, unary_op  # noqa: F401
from ...ops.softmax import log_softmax, softmax  # noqa: F401
from ...ops._util import describe, shape_str, xp_of
from ...random import _generator_for
from ...tensor import Tensor

__all__ = ["celu", "elu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "leaky_relu",
           "logsigmoid", "mish", "relu", "relu6", "selu", "silu", "softplus", "softsign",
           "tanhshrink", "sigmoid", "tanh", "log_softmax", "softmax",
           "relu_", "elu_", "celu_", "selu_", "leaky_relu_", "hardtanh_", "threshold",
           "threshold_", "rrelu", "rrelu_", "glu", "softmin", "prelu", "hardshrink",
           "softshrink", "gumbel_softmax"]

_maybe_inplace = _act._maybe_inplace


def relu(input, inplace=False):
    return input.relu_() if inplace else _act.relu(input)


def relu6(input, inplace=False):
    return _maybe_inplace(_act.relu6, input, inplace)


def selu(input, inplace=False):
    return _maybe_inplace(_act.selu, input, inplace)


def silu(input, inplace=False):
    return _maybe_inplace(_act.silu, input, inplace)


def mish(input, inplace=False):
    return _maybe_inplace(_act.mish, input, inplace)


def hardswish(input, inplace=False):
    return _maybe_inplace(_act.hardswish, input, inplace)


def hardsigmoid(input, inplace=False):
    return _maybe_inplace(_act.hardsigmoid, input, inplace)


def relu_(input):
    return input.relu_()


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


# ------------------------------------------------------------------ thresholds and shrinks

_threshold = unary_op(
    "threshold", lambda xp, a, th, value: xp.where(a > th, a, a.dtype.type(value)),
    lambda g, x, y, th, value: where(x > th, g, 0.0), floating=False)
_hardshrink = unary_op(
    "hardshrink", lambda xp, a, lambd: xp.where(xp.abs(a) > lambd, a, a.dtype.type(0)),
    lambda g, x, y, lambd: where(x.abs() > lambd, g, 0.0))
_softshrink = unary_op(
    "softshrink",
    lambda xp, a, lambd: xp.where(a > lambd, a - lambd,
                                  xp.where(a < -lambd, a + lambd, a.dtype.type(0))),
    lambda g, x, y, lambd: where(x.abs() > lambd, g, 0.0))


def threshold(input, threshold, value, inplace=False):
    """input where input > threshold, else value."""
    return _maybe_inplace(_threshold, input, inplace, threshold, value)


def threshold_(input, threshold, value):
    return _maybe_inplace(_threshold, input, True, threshold, value)


def hardshrink(input, lambd=0.5):
    """input where |input| > lambd, else 0."""
    return _hardshrink(input, lambd)


def softshrink(input, lambd=0.5):
    """input shrunk towards 0 by lambd (0 inside [-lambd, lambd])."""
    if lambd < 0:
        raise RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to be "
                           f"{lambd}.")
    return _softshrink(input, lambd)


# ------------------------------------------------------------------ parametrized slopes

def prelu(input, weight):
    """max(0, x) + weight * min(0, x), weight having 1 or C (= input.shape[1]) values."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"prelu: input and weight must be tensors, got {describe(input)} and "
                        f"{describe(weight)}")
    if weight.dtype != input.dtype:
        raise RuntimeError(f"prelu: weight ({describe(weight)}) must have the input's dtype "
                           f"{input.dtype.name}; convert it with .to({input.dtype.name})")
    count = weight.numel()
    if count != 1:
        channels = input.shape[1] if input.ndim >= 2 else (input.shape[0] if input.ndim else 1)
        if weight.ndim != 1 or count != channels:
            raise RuntimeError(
                f"prelu: weight of shape {shape_str(weight.shape)} must have 1 value or one "
                f"per channel ({channels} for input of shape {shape_str(input.shape)})")
        if input.ndim >= 2:
            weight = weight.reshape((count,) + (1,) * (input.ndim - 2))
    return where(input > 0, input, weight * input)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU whose negative slope is drawn per element from U(lower, upper) in training,
    and is (lower + upper) / 2 otherwise."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"rrelu: expected a floating point input, got {describe(input)}")
    data = input._data
    rng = _generator_for(input.device, None).rng
    slopes = rng.uniform(lower, upper, data.shape).astype(data.dtype)
    factors = Tensor._wrap(xp_of(data).where(data >= 0, data.dtype.type(1), slopes))
    if inplace:
        return input.mul_(factors)
    return input * factors


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


# ------------------------------------------------------------------ gating and softmax kin

def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of input along dim."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"glu: Halving dimension must be even, but dimension {dim} is size "
                           f"{size}")
    a, b = input.chunk(2, dim)
    return a * sigmoid(b)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-input) along dim."""
    if dtype is not None:
        input = input.to(_dt.to_dtype(dtype))
    return softmax(-input, dim, _stacklevel + 1)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """A sample from the Gumbel-softmax distribution: softmax((logits + g) / tau) with g
    Gumbel noise; with hard=True a one-hot of its argmax, whose gradient is the soft
    sample's (the straight-through estimator)."""
    gumbels = -logits.detach().new_empty(tuple(logits.shape)).exponential_().log()
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    index = soft.detach().argmax(dim, keepdim=True)
    one_hot = soft.detach().new_zeros(tuple(soft.shape)).scatter(dim, index, 1.0)
    return one_hot - soft.detach() + soft
