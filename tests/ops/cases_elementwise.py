"""Op-table rows for elementwise ops: arithmetic, pointwise math, activations, selection."""
from __future__ import annotations

import numpy as np

from .op_cases import OpCase

B = ((3, 4), (4,))  # broadcasting shapes
B2 = ((2, 1, 3), (4, 1))


def _special(name):
    """scipy.special's function: the reference for erf and friends (skips without SciPy)."""
    import pytest
    special = pytest.importorskip("scipy.special", reason="the erf references need SciPy")
    return getattr(special, name)


CASES = [
    # arithmetic, broadcasting
    OpCase("add", lambda lib, a, b: a + b, B, ref=lambda np, a, b: a + b),
    OpCase("add_alpha", lambda lib, a, b: lib.add(a, b, alpha=2.5), B2),
    OpCase("add_scalar", lambda lib, a: 2.5 + a, ref=lambda np, a: 2.5 + a),
    OpCase("sub", lambda lib, a, b: a - b, B2, ref=lambda np, a, b: a - b),
    OpCase("rsub_scalar", lambda lib, a: 1.5 - a, ref=lambda np, a: 1.5 - a),
    OpCase("mul", lambda lib, a, b: a * b, B, ref=lambda np, a, b: a * b),
    OpCase("mul_scalar", lambda lib, a: a * 3.0),
    OpCase("div", lambda lib, a, b: a / b, B, domain="nonzero", ref=lambda np, a, b: a / b),
    OpCase("rdiv_scalar", lambda lib, a: 2.0 / a, domain="nonzero"),
    OpCase("div_floor", lambda lib, a, b: lib.div(a, b, rounding_mode="floor"), B,
           domain="nonzero", ref=lambda np, a, b: np.floor(a / b), gradgrad=False),
    OpCase("div_trunc", lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"), B,
           domain="nonzero", ref=lambda np, a, b: np.trunc(a / b), gradgrad=False),
    OpCase("remainder", lambda lib, a, b: lib.remainder(a, b), B, domain="nonzero",
           ref=lambda np, a, b: np.remainder(a, b)),
    OpCase("fmod", lambda lib, a, b: lib.fmod(a, b), B, domain="nonzero",
           ref=lambda np, a, b: np.fmod(a, b)),
    OpCase("pow", lambda lib, a, b: a ** b, B, domain="positive", ref=lambda np, a, b: a ** b),
    OpCase("pow_scalar", lambda lib, a: a ** 3, ref=lambda np, a: a ** 3),
    OpCase("pow_half", lambda lib, a: a ** 0.5, domain="positive"),
    OpCase("rpow", lambda lib, a: 2.0 ** a, ref=lambda np, a: 2.0 ** a),
    OpCase("atan2", lambda lib, a, b: lib.atan2(a, b), B, domain="nonzero",
           ref=lambda np, a, b: np.arctan2(a, b)),
    OpCase("maximum", lambda lib, a, b: lib.maximum(a, b), B, ref=lambda np, a, b: np.maximum(a, b)),
    OpCase("minimum", lambda lib, a, b: lib.minimum(a, b), B, ref=lambda np, a, b: np.minimum(a, b)),
    OpCase("lerp", lambda lib, a, b: lib.lerp(a, b, 0.3), B),
    OpCase("addcmul", lambda lib, a, b, c: a.addcmul(b, c, value=0.5), ((2, 3), (3,), (2, 1))),
    OpCase("addcdiv", lambda lib, a, b, c: lib.addcdiv(a, b, c.exp(), value=-2),
           ((2, 3), (2, 3), (3,))),
    OpCase("where", lambda lib, a, b: lib.where(a > 0, a, b), B,
           ref=lambda np, a, b: np.where(a > 0, a, b)),
    OpCase("where_scalar", lambda lib, a: lib.where(a > 0, a, 0.5)),
    OpCase("clamp", lambda lib, a: a.clamp(-0.5, 0.7), domain="away",
           ref=lambda np, a: np.clip(a, -0.5, 0.7)),
    OpCase("clamp_min", lambda lib, a: lib.clamp(a, min=0.1), domain="away"),
    OpCase("clamp_tensor", lambda lib, a, lo: lib.clamp(a, min=lo), B, domain="away"),
    OpCase("neg", lambda lib, a: -a, ref=lambda np, a: -a),
    OpCase("abs", lambda lib, a: a.abs(), domain="away", ref=lambda np, a: np.abs(a)),
    OpCase("sign", lambda lib, a: a.sign(), domain="away", ref=lambda np, a: np.sign(a)),
    OpCase("floor", lambda lib, a: a.floor(), domain="away", ref=lambda np, a: np.floor(a)),
    OpCase("ceil", lambda lib, a: a.ceil(), domain="away", ref=lambda np, a: np.ceil(a)),
    OpCase("round", lambda lib, a: a.round(), domain="away", ref=lambda np, a: np.round(a)),
    OpCase("round_decimals", lambda lib, a: lib.round(a, decimals=2), domain="away",
           grad=False),
    OpCase("trunc", lambda lib, a: a.trunc(), domain="away", ref=lambda np, a: np.trunc(a)),
    OpCase("frac", lambda lib, a: a.frac(), domain="away", ref=lambda np, a: a - np.trunc(a)),
    # exponentials and logarithms
    OpCase("exp", lambda lib, a: a.exp(), ref=lambda np, a: np.exp(a)),
    OpCase("exp2", lambda lib, a: lib.exp2(a), ref=lambda np, a: np.exp2(a)),
    OpCase("expm1", lambda lib, a: a.expm1(), ref=lambda np, a: np.expm1(a)),
    OpCase("log", lambda lib, a: a.log(), domain="positive", ref=lambda np, a: np.log(a)),
    OpCase("log2", lambda lib, a: a.log2(), domain="positive", ref=lambda np, a: np.log2(a)),
    OpCase("log10", lambda lib, a: a.log10(), domain="positive", ref=lambda np, a: np.log10(a)),
    OpCase("log1p", lambda lib, a: a.log1p(), domain="positive", ref=lambda np, a: np.log1p(a)),
    OpCase("sqrt", lambda lib, a: a.sqrt(), domain="positive", ref=lambda np, a: np.sqrt(a)),
    OpCase("rsqrt", lambda lib, a: a.rsqrt(), domain="positive", ref=lambda np, a: 1 / np.sqrt(a)),
    OpCase("square", lambda lib, a: a.square(), ref=lambda np, a: a * a),
    OpCase("reciprocal", lambda lib, a: a.reciprocal(), domain="nonzero", ref=lambda np, a: 1 / a),
    # trigonometry
    OpCase("sin", lambda lib, a: a.sin(), ref=lambda np, a: np.sin(a)),
    OpCase("cos", lambda lib, a: a.cos(), ref=lambda np, a: np.cos(a)),
    OpCase("tan", lambda lib, a: a.tan(), domain="unit", ref=lambda np, a: np.tan(a)),
    OpCase("asin", lambda lib, a: a.asin(), domain="unit", ref=lambda np, a: np.arcsin(a)),
    OpCase("acos", lambda lib, a: a.acos(), domain="unit", ref=lambda np, a: np.arccos(a)),
    OpCase("atan", lambda lib, a: a.atan(), ref=lambda np, a: np.arctan(a)),
    OpCase("sinh", lambda lib, a: a.sinh(), ref=lambda np, a: np.sinh(a)),
    OpCase("cosh", lambda lib, a: a.cosh(), ref=lambda np, a: np.cosh(a)),
    OpCase("tanh", lambda lib, a: a.tanh(), ref=lambda np, a: np.tanh(a)),
    OpCase("asinh", lambda lib, a: a.asinh(), ref=lambda np, a: np.arcsinh(a)),
    OpCase("acosh", lambda lib, a: (a + 1.5).acosh(), domain="positive"),
    OpCase("atanh", lambda lib, a: a.atanh(), domain="unit", ref=lambda np, a: np.arctanh(a)),
    # special functions
    OpCase("erf", lambda lib, a: a.erf(), ref=lambda np, a: _special("erf")(a)),
    OpCase("erfc", lambda lib, a: a.erfc(), ref=lambda np, a: _special("erfc")(a)),
    OpCase("erfinv", lambda lib, a: a.erfinv(), domain="unit",
           ref=lambda np, a: _special("erfinv")(a)),
    OpCase("sigmoid", lambda lib, a: a.sigmoid(), ref=lambda np, a: 1 / (1 + np.exp(-a))),
    OpCase("logit", lambda lib, a: a.sigmoid().logit(), ref=lambda np, a: a),
    OpCase("logit_eps", lambda lib, a: lib.logit((a * 0.45 + 0.5), eps=0.1), domain="unit"),
    OpCase("nan_to_num", lambda lib, a: lib.nan_to_num(a)),
    # activations
    OpCase("relu", lambda lib, a: lib.relu(a), domain="away", ref=lambda np, a: np.maximum(a, 0)),
    OpCase("relu6", lambda lib, a: lib.nn.functional.relu6(a * 4), domain="away"),
    OpCase("leaky_relu", lambda lib, a: lib.nn.functional.leaky_relu(a, 0.2), domain="away"),
    OpCase("elu", lambda lib, a: lib.nn.functional.elu(a, 0.7), domain="away"),
    OpCase("celu", lambda lib, a: lib.nn.functional.celu(a, 0.7), domain="away"),
    OpCase("selu", lambda lib, a: lib.nn.functional.selu(a), domain="away"),
    OpCase("gelu", lambda lib, a: lib.nn.functional.gelu(a)),
    OpCase("gelu_tanh", lambda lib, a: lib.nn.functional.gelu(a, approximate="tanh")),
    OpCase("silu", lambda lib, a: lib.nn.functional.silu(a)),
    OpCase("mish", lambda lib, a: lib.nn.functional.mish(a)),
    OpCase("softplus", lambda lib, a: lib.nn.functional.softplus(a * 3, beta=2.0, threshold=5.0)),
    OpCase("softsign", lambda lib, a: lib.nn.functional.softsign(a)),
    OpCase("hardtanh", lambda lib, a: lib.nn.functional.hardtanh(a * 2), domain="away"),
    OpCase("hardsigmoid", lambda lib, a: lib.nn.functional.hardsigmoid(a * 4), domain="away"),
    OpCase("hardswish", lambda lib, a: lib.nn.functional.hardswish(a * 4), domain="away"),
    OpCase("logsigmoid", lambda lib, a: lib.nn.functional.logsigmoid(a)),
    # composites
    OpCase("chain", lambda lib, a, b: ((a * b).tanh() + a.exp() / (b * b + 1)).sigmoid(), B),
]
