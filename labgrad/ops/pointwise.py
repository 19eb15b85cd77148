"""Elementwise functions of one tensor, each defined by its kernel and its derivative.

`unary_op` turns a table row into a differentiable function: the kernel computes on the
backend array; the derivative rule maps (grad, x, y) to the input's gradient with labgrad
ops, where x is the input and y the output (only what the row saves is passed; the rest is
None).
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import grad_mode
from ..autograd.graph import Node
from ..backend import kernels
from ..tensor import Tensor
from .comparison import where as _where
from ._util import float_data, needs_grad, record, xp_of

_wrap = Tensor._wrap
_ndarray = np.ndarray
_state = grad_mode.state


class UnaryBackward(Node):
    """Backward of an elementwise op; `rule` and `params` come from its definition."""

    rule = None

    def backward(self, grad):
        x, y = self.saved_tensors
        return type(self).rule(grad, x, y, *self.params)


def _node_name(name):
    return "".join(part[:1].upper() + part[1:] for part in name.split("_")) + "Backward0"


def unary_op(name, kernel, rule=None, saves="x", floating=True):
    """Define the elementwise op `name`.

    kernel(xp, array, *params) -> array; rule(grad, x, y, *params) -> grad of x, or None for
    an op that is not differentiable (its output never requires grad). `saves` names what the
    rule reads: "x", "y", "xy" or "". With floating=True integer inputs are computed as the
    default float dtype, as PyTorch does for exp, sin, sqrt and the like.
    """
    node_cls = None
    if rule is not None:
        node_cls = type(_node_name(name), (UnaryBackward,), {"rule": staticmethod(rule)})
    save_x, save_y = "x" in saves, "y" in saves

    def op(input, *params):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a tensor, got {type(input).__name__}")
        data = input._data
        if floating and data.dtype.kind in "biu":
            data = float_data(input)
        out = _wrap(kernel(np if type(data) is _ndarray else xp_of(data), data, *params))
        # needs_grad(input), inlined: this wrapper runs for every elementwise op
        if node_cls is not None and input._rg and _state.grad_enabled:
            node = record(node_cls, (input,), out,
                          saved=(input if save_x else None, out if save_y else None))
            node.params = params
        return out

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}."
    op.node_class = node_cls
    return op


def _zero_grad(g, x, y, *params):
    return g * 0


# ------------------------------------------------------------------ sign, abs, rounding

def _neg(xp, a):
    if a.dtype == np.bool_:
        raise RuntimeError("neg: negation, the `-` operator, on a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return -a


neg = unary_op("neg", _neg, lambda g, x, y: -g, saves="", floating=False)
negative = neg
abs = unary_op("abs", lambda xp, a: xp.abs(a), lambda g, x, y: g * x.sign(), floating=False)  # noqa: A001
absolute = abs
sign = unary_op("sign", lambda xp, a: xp.sign(a) if a.dtype != np.bool_ else a.copy(),
                _zero_grad, saves="", floating=False)
sgn = sign
floor = unary_op("floor", lambda xp, a: xp.floor(a) if a.dtype.kind not in "biu" else a.copy(),
                 _zero_grad, saves="", floating=False)
ceil = unary_op("ceil", lambda xp, a: xp.ceil(a) if a.dtype.kind not in "biu" else a.copy(),
                _zero_grad, saves="", floating=False)
trunc = unary_op("trunc", lambda xp, a: xp.trunc(a) if a.dtype.kind not in "biu" else a.copy(),
                 _zero_grad, saves="", floating=False)
fix = trunc
frac = unary_op("frac", lambda xp, a: a - xp.trunc(a), lambda g, x, y: g, saves="",
                floating=False)


def _round(xp, a, decimals=0):
    if a.dtype.kind in "biu":
        return a.copy()
    return xp.round(a, decimals)  # halves to even, as PyTorch


_round_op = unary_op("round", _round, _zero_grad, saves="", floating=False)


def round(input, *, decimals=0):  # noqa: A001 - PyTorch's name
    return _round_op(input, decimals)


# ------------------------------------------------------------------ powers and logs

exp = unary_op("exp", lambda xp, a: xp.exp(a), lambda g, x, y: g * y, saves="y")
exp2 = unary_op("exp2", lambda xp, a: xp.exp2(a), lambda g, x, y: g * y * math.log(2), saves="y")
expm1 = unary_op("expm1", lambda xp, a: xp.expm1(a), lambda g, x, y: g * (y + 1), saves="y")
log = unary_op("log", lambda xp, a: xp.log(a), lambda g, x, y: g / x)
log2 = unary_op("log2", lambda xp, a: xp.log2(a), lambda g, x, y: g / (x * math.log(2)))
log10 = unary_op("log10", lambda xp, a: xp.log10(a), lambda g, x, y: g / (x * math.log(10)))
log1p = unary_op("log1p", lambda xp, a: xp.log1p(a), lambda g, x, y: g / (x + 1))
sqrt = unary_op("sqrt", lambda xp, a: xp.sqrt(a), lambda g, x, y: g / (2 * y), saves="y")
rsqrt = unary_op("rsqrt", lambda xp, a: 1 / xp.sqrt(a), lambda g, x, y: g * -0.5 * y * y * y,
                 saves="y")
square = unary_op("square", lambda xp, a: a * a, lambda g, x, y: g * 2 * x, floating=False)
reciprocal = unary_op("reciprocal", lambda xp, a: 1 / a, lambda g, x, y: -g * y * y, saves="y")

# ------------------------------------------------------------------ trigonometry

sin = unary_op("sin", lambda xp, a: xp.sin(a), lambda g, x, y: g * x.cos())
cos = unary_op("cos", lambda xp, a: xp.cos(a), lambda g, x, y: -g * x.sin())
tan = unary_op("tan", lambda xp, a: xp.tan(a), lambda g, x, y: g * (1 + y * y), saves="y")
asin = unary_op("asin", lambda xp, a: xp.arcsin(a), lambda g, x, y: g * (1 - x * x).rsqrt())
acos = unary_op("acos", lambda xp, a: xp.arccos(a), lambda g, x, y: -g * (1 - x * x).rsqrt())
atan = unary_op("atan", lambda xp, a: xp.arctan(a), lambda g, x, y: g / (1 + x * x))
sinh = unary_op("sinh", lambda xp, a: xp.sinh(a), lambda g, x, y: g * x.cosh())
cosh = unary_op("cosh", lambda xp, a: xp.cosh(a), lambda g, x, y: g * x.sinh())
tanh = unary_op("tanh", lambda xp, a: xp.tanh(a), lambda g, x, y: g * (1 - y * y), saves="y")
asinh = unary_op("asinh", lambda xp, a: xp.arcsinh(a), lambda g, x, y: g * (x * x + 1).rsqrt())
acosh = unary_op("acosh", lambda xp, a: xp.arccosh(a), lambda g, x, y: g * (x * x - 1).rsqrt())
atanh = unary_op("atanh", lambda xp, a: xp.arctanh(a), lambda g, x, y: g / (1 - x * x))
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh

# ------------------------------------------------------------------ special functions

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)

erf = unary_op("erf", lambda xp, a: kernels.erf(a),
               lambda g, x, y: g * _TWO_OVER_SQRT_PI * (-(x * x)).exp())
erfc = unary_op("erfc", lambda xp, a: 1 - kernels.erf(a),
                lambda g, x, y: -g * _TWO_OVER_SQRT_PI * (-(x * x)).exp())
erfinv = unary_op("erfinv", lambda xp, a: kernels.erfinv(a),
                  lambda g, x, y: g * (math.sqrt(math.pi) / 2) * (y * y).exp(), saves="y")


def _sigmoid(xp, a):
    # exp of a negative number only, so large |a| never overflows
    e = xp.exp(-xp.abs(a))
    return xp.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


sigmoid = unary_op("sigmoid", _sigmoid, lambda g, x, y: g * y * (1 - y), saves="y")
expit = sigmoid


def _logit(xp, a, eps=None):
    if eps is not None:
        a = xp.clip(a, eps, 1 - eps)
    return xp.log(a / (1 - a))


def _logit_rule(g, x, y, eps=None):
    grad = g / (x * (1 - x))
    if eps is not None:
        grad = _where((x < eps) | (x > 1 - eps), 0.0, grad)
    return grad


_logit_op = unary_op("logit", _logit, _logit_rule)


def logit(input, eps=None):
    return _logit_op(input, eps)


# ------------------------------------------------------------------ tests on values

isnan = unary_op("isnan", lambda xp, a: xp.isnan(a), floating=False)
isinf = unary_op("isinf", lambda xp, a: xp.isinf(a), floating=False)
isfinite = unary_op("isfinite", lambda xp, a: xp.isfinite(a), floating=False)
isposinf = unary_op("isposinf", lambda xp, a: xp.isposinf(a), floating=False)
isneginf = unary_op("isneginf", lambda xp, a: xp.isneginf(a), floating=False)
signbit = unary_op("signbit", lambda xp, a: xp.signbit(a), floating=False)


def _nan_to_num(xp, a, nan, posinf, neginf):
    if a.dtype.kind in "biu":
        return a.copy()
    return xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)


_nan_to_num_op = unary_op("nan_to_num", _nan_to_num,
                          lambda g, x, y, *params: _where(x.isfinite(), g, 0.0), floating=False)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    return _nan_to_num_op(input, nan, posinf, neginf)


METHODS = ("neg", "negative", "abs", "absolute", "sign", "sgn", "floor", "ceil", "trunc", "fix",
           "frac", "round", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt",
           "rsqrt", "square", "reciprocal", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
           "cosh", "tanh", "asinh", "acosh", "atanh", "arcsin", "arccos", "arctan", "arcsinh",
           "arccosh", "arctanh", "erf", "erfc", "erfinv", "sigmoid", "logit", "isnan", "isinf",
           "isfinite", "isposinf", "isneginf", "signbit", "nan_to_num")
INPLACE = tuple(name for name in METHODS if not name.startswith("is") and name != "signbit")
