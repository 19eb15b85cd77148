"""Activation functions (also exported by labgrad.nn.functional), as elementwise table rows:
forward kernel and derivative side by side."""
from __future__ import annotations

import math

from ..backend import kernels
from ..tensor import Tensor
from .pointwise import _where, unary_op, sigmoid, tanh
from .inplace import assign, check_inplace_allowed

_SQRT_2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


_ZEROS = {}  # a zero of each dtype: maximum(a, zero) skips converting the Python int 0


def _relu(xp, a):
    zero = _ZEROS.get(a.dtype)
    if zero is None:
        zero = _ZEROS[a.dtype] = a.dtype.type(0)
    return xp.maximum(a, zero)


def _positive_mask(x):
    """1 where x > 0, else 0, in x's dtype: a constant, so no graph is recorded for it."""
    return Tensor._wrap((x._data > 0).astype(x._data.dtype))


# The rule reads the input, not the output as PyTorch's does: saving an input costs less.
relu = unary_op("relu", _relu, lambda g, x, y: g * _positive_mask(x), floating=False)
relu6 = unary_op("relu6", lambda xp, a: xp.clip(a, 0, 6),
                 lambda g, x, y: g * ((x > 0) & (x < 6)).to(g.dtype), floating=False)
_leaky_relu = unary_op("leaky_relu", lambda xp, a, slope: xp.where(a > 0, a, a * slope),
                       lambda g, x, y, slope: _where(x > 0, g, g * slope))
_elu = unary_op("elu", lambda xp, a, alpha: xp.where(a > 0, a, alpha * xp.expm1(a)),
                lambda g, x, y, alpha: _where(x > 0, g, g * (y + alpha)), saves="xy")
_celu = unary_op("celu", lambda xp, a, alpha: xp.where(a > 0, a, alpha * xp.expm1(a / alpha)),
                 lambda g, x, y, alpha: _where(x > 0, g, g * (y / alpha + 1)), saves="xy")
selu = unary_op(
    "selu", lambda xp, a: SELU_SCALE * xp.where(a > 0, a, SELU_ALPHA * xp.expm1(a)),
    lambda g, x, y: _where(x > 0, g * SELU_SCALE, g * (y + SELU_SCALE * SELU_ALPHA)), saves="xy")


def _gelu_kernel(xp, a, approximate):
    if approximate == "tanh":
        return 0.5 * a * (1 + xp.tanh(_SQRT_2_OVER_PI * (a + 0.044715 * a * a * a)))
    return 0.5 * a * (1 + kernels.erf(a / _SQRT_2))


def _gelu_rule(g, x, y, approximate):
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)
        t = tanh(inner)
        d_inner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * d_inner)
    cdf = 0.5 * (1 + (x / _SQRT_2).erf())
    pdf = (-0.5 * x * x).exp() * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


_gelu = unary_op("gelu", _gelu_kernel, _gelu_rule)


def _silu_rule(g, x, y):
    s = sigmoid(x)
    return g * s * (1 + x * (1 - s))


def _softplus_kernel(xp, a, beta, threshold):
    scaled = a * beta
    # log1p(exp(z)) computed as max(z, 0) + log1p(exp(-|z|)): no overflow for large z
    soft = (xp.maximum(scaled, 0) + xp.log1p(xp.exp(-xp.abs(scaled)))) / beta
    return xp.where(scaled > threshold, a, soft).astype(a.dtype, copy=False)


def _softplus_rule(g, x, y, beta, threshold):
    return _where(x * beta > threshold, g, g * sigmoid(x * beta))


def _mish_rule(g, x, y):
    sp = softplus(x)
    t = tanh(sp)
    return g * (t + x * (1 - t * t) * sigmoid(x))


silu = unary_op("silu", lambda xp, a: a / (1 + xp.exp(-a)), _silu_rule)
_softplus = unary_op("softplus", _softplus_kernel, _softplus_rule)
mish = unary_op("mish", lambda xp, a: a * xp.tanh(_softplus_kernel(xp, a, 1.0, 20.0)),
                _mish_rule)
softsign = unary_op("softsign", lambda xp, a: a / (1 + xp.abs(a)),
                    lambda g, x, y: g / ((1 + x.abs()) * (1 + x.abs())))
_hardtanh = unary_op("hardtanh", lambda xp, a, low, high: xp.clip(a, low, high),
                     lambda g, x, y, low, high: _where((x > low) & (x < high), g, g * 0),
                     floating=False)
hardsigmoid = unary_op("hardsigmoid", lambda xp, a: xp.clip(a / 6 + 0.5, 0, 1),
                       lambda g, x, y: _where((x > -3) & (x < 3), g / 6, g * 0))
hardswish = unary_op(
    "hardswish", lambda xp, a: a * xp.clip(a + 3, 0, 6) / 6,
    lambda g, x, y: _where(x < -3, g * 0, _where(x <= 3, g * (x / 3 + 0.5), g)))
logsigmoid = unary_op("logsigmoid", lambda xp, a: -_softplus_kernel(xp, -a, 1.0, 20.0),
                      lambda g, x, y: g * sigmoid(-x))
tanhshrink = unary_op("tanhshrink", lambda xp, a: a - xp.tanh(a),
                      lambda g, x, y: g * tanh(x) * tanh(x))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _maybe_inplace(_leaky_relu, input, inplace, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(_elu, input, inplace, alpha)


def celu(input, alpha=1.0, inplace=False):
    return _maybe_inplace(_celu, input, inplace, alpha)


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', not {approximate!r}")
    return _gelu(input, approximate)


def softplus(input, beta=1.0, threshold=20.0):
    return _softplus(input, beta, threshold)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    return _maybe_inplace(_hardtanh, input, inplace, min_val, max_val)


def _maybe_inplace(op, input, inplace, *params):
    if not inplace:
        return op(input, *params)
    check_inplace_allowed(op.__name__ + "_", input)
    return assign(op.__name__ + "_", input, op(input, *params))


METHODS = ("relu", "relu6", "leaky_relu", "elu", "celu", "selu", "gelu", "silu", "mish",
           "softplus", "softsign", "hardtanh", "hardsigmoid", "hardswish", "logsigmoid")
INPLACE = ("relu", "relu6", "leaky_relu", "elu", "celu", "selu", "silu", "hardtanh",
           "hardsigmoid", "hardswish", "mish")
