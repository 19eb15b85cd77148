"""Elementwise binary arithmetic (add through pow, atan2, maximum and minimum), broadcasting,
with their gradients. Comparisons, logical and bitwise ops are in `comparison`.

Backward formulas are written with labgrad ops, so they are differentiable themselves
(``create_graph=True``). The engine sums each gradient down to its input's broadcast shape.
"""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes as _dt
from ..autograd import grad_mode
from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import (array_shape, binary_operands, broadcast_error, record, result_kind,
                    xp_of_operands)
from .comparison import where
from .pointwise import log

_wrap = Tensor._wrap
_state = grad_mode.state


def _kept(value, needed):
    """Save `value` for backward only when some gradient will need it."""
    return value if needed else None


def _rg(t):
    return t is not None and t._rg


def _compute(op, kernel, ad, bd):
    try:
        return kernel(ad, bd)
    except ValueError:
        raise broadcast_error(op, array_shape(ad), array_shape(bd)) from None
    except OverflowError:  # a Python int outside the tensor's integer range: wrap like PyTorch
        return kernel(*(_wrapped_int(x, bd if x is ad else ad) for x in (ad, bd)))


def _wrapped_int(value, array):
    """A Python int as a NumPy scalar of `array`'s dtype, wrapped around its range (a scalar,
    not a 0-d array: CuPy takes NumPy scalars as operands but refuses NumPy arrays)."""
    if not isinstance(value, int):
        return value
    return np.array(value, dtype=np.int64).astype(array.dtype)[()]


# ------------------------------------------------------------------ add, sub

class AddBackward0(Node):
    def backward(self, grad):
        return grad, grad


def add(input, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    ad, bd, a, b = binary_operands("add", input, other)
    out = _wrap(_compute("add", operator.add, ad, bd))
    if _state.grad_enabled and (_rg(a) or _rg(b)):
        record(AddBackward0, (a, b), out)
    return out


class SubBackward0(Node):
    def backward(self, grad):
        return grad, -grad


def sub(input, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha)
    ad, bd, a, b = binary_operands("sub", input, other)
    if getattr(ad, "dtype", None) == np.bool_ and getattr(bd, "dtype", None) == np.bool_:
        raise RuntimeError("sub: subtraction of two bool tensors is not supported; use "
                           "logical_xor() or ~ instead")
    out = _wrap(_compute("sub", operator.sub, ad, bd))
    if _state.grad_enabled and (_rg(a) or _rg(b)):
        record(SubBackward0, (a, b), out)
    return out


def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    return sub(other, input, alpha=alpha)


# ------------------------------------------------------------------ mul, div

class MulBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        return (grad * b if b is not None else None), (grad * a if a is not None else None)


def mul(input, other):
    ad, bd, a, b = binary_operands("mul", input, other)
    out = _wrap(_compute("mul", operator.mul, ad, bd))
    if _state.grad_enabled and (_rg(a) or _rg(b)):
        record(MulBackward0, (a, b), out, saved=(_kept(input, _rg(b)), _kept(other, _rg(a))))
    return out


class DivBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        grad_a = grad / b if self.next_functions[0][0] is not None else None
        grad_b = -grad * a / (b * b) if a is not None else None
        return grad_a, grad_b


class DivBackward1(Node):
    """Division with rounding: piecewise constant, so its gradient is zero."""

    def backward(self, grad):
        zero = grad * 0
        return zero, zero


def _integral(value):
    if isinstance(value, (int, float)):
        return isinstance(value, int)
    return value.dtype.kind in "biu"


def _as_default_float(value):
    if isinstance(value, int):
        return float(value)
    return value.astype(_dt.get_default_dtype().np)


def _true_divide(ad, bd):
    return xp_of_operands(ad, bd).true_divide(ad, bd)


def _floor_divide(ad, bd):
    xp = xp_of_operands(ad, bd)
    if result_kind(ad, bd) in "iub":
        return xp.floor_divide(ad, bd)
    return xp.floor(xp.true_divide(ad, bd))


def _trunc_divide(ad, bd):
    xp = xp_of_operands(ad, bd)
    if result_kind(ad, bd) in "iub":
        quotient = xp.floor_divide(ad, bd)
        # floor and trunc differ where the signs differ and the division is inexact
        fix = (quotient < 0) & (quotient * bd != ad)
        return quotient + fix
    return xp.trunc(xp.true_divide(ad, bd))


def div(input, other, *, rounding_mode=None):
    """input / other; rounding_mode None (true division), 'trunc' or 'floor'."""
    if rounding_mode is None:
        ad, bd, a, b = binary_operands("div", input, other)
        if _integral(ad) and _integral(bd):  # int / int is a default-float result
            ad, bd = _as_default_float(ad), _as_default_float(bd)
        out = _wrap(_compute("div", _true_divide, ad, bd))
        if _state.grad_enabled and (_rg(a) or _rg(b)):
            record(DivBackward0, (a, b), out, saved=(_kept(input, _rg(b)), other))
        return out
    kernels = {"trunc": _trunc_divide, "floor": _floor_divide}
    if rounding_mode not in kernels:
        raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', not "
                         f"{rounding_mode!r}")
    ad, bd, a, b = binary_operands("div", input, other)
    out = _wrap(_compute("div", kernels[rounding_mode], ad, bd))
    if _state.grad_enabled and (_rg(a) or _rg(b)):
        record(DivBackward1, (a, b), out)
    return out


def true_divide(input, other):
    return div(input, other)


def floor_divide(input, other):
    return div(input, other, rounding_mode="floor")


class RemainderBackward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        grad_b = -grad * div(a, b, rounding_mode=self.rounding) if a is not None else None
        return grad, grad_b


def _modulo(op, ufunc, rounding, input, other):
    ad, bd, a, b = binary_operands(op, input, other)
    out = _wrap(_compute(op, getattr(xp_of_operands(ad, bd), ufunc), ad, bd))
    if _state.grad_enabled and (_rg(a) or _rg(b)):
        node = record(RemainderBackward0, (a, b), out,
                      saved=(_kept(input, _rg(b)), _kept(other, _rg(b))))
        node.rounding = rounding
    return out


def remainder(input, other):
    """Python's modulus: the result takes the sign of the divisor."""
    return _modulo("remainder", "remainder", "floor", input, other)


def fmod(input, other):
    """C's fmod: the result takes the sign of the dividend."""
    return _modulo("fmod", "fmod", "trunc", input, other)


# ------------------------------------------------------------------ pow, atan2

class PowBackward0(Node):
    def backward(self, grad):
        a, b, out = self.saved_tensors
        grad_a = grad_b = None
        if self.next_functions[0][0] is not None:
            if isinstance(b, Tensor):
                # b * a**(b - 1) is 0 * inf = nan where a == 0 and b == 0; the gradient is 0
                grad_a = where(b == 0, 0.0, grad * b * pow(a, b - 1))
            elif b == 0:
                grad_a = grad * 0
            else:
                grad_a = grad * b * pow(a, b - 1)
        if self.next_functions[1][0] is not None:
            # d(a**b)/db = a**b * log(a); where a == 0 and b >= 0 the limit is 0.
            safe = (a == 0) & (b >= 0) if isinstance(a, Tensor) else None
            log_a = log(a) if isinstance(a, Tensor) else float(np.log(a))
            grad_b = grad * out * log_a
            if safe is not None:
                grad_b = where(safe, 0.0, grad_b)
        return grad_a, grad_b


def _power(ad, bd):
    if result_kind(ad, bd) in "iu" and (bd < 0 if isinstance(bd, int) else bool((bd < 0).any())):
        raise RuntimeError("pow: integers to negative integer powers are not allowed")
    return xp_of_operands(ad, bd).power(ad, bd)


def pow(input, exponent):  # noqa: A001 - PyTorch's name
    ad, bd, a, b = binary_operands("pow", input, exponent)
    out = _wrap(_compute("pow", _power, ad, bd))
    if _state.grad_enabled and (_rg(a) or _rg(b)):
        record(PowBackward0, (a, b), out, saved=(input, exponent, _kept(out, _rg(b))))
    return out


def float_power(input, exponent):
    cast = [x.double() if isinstance(x, Tensor) else x for x in (input, exponent)]
    result = pow(*cast)
    return result if result.dtype is _dt.float64 else result.double()


class Atan2Backward0(Node):
    def backward(self, grad):
        a, b = self.saved_tensors
        scale = grad / (a * a + b * b)
        return scale * b, -scale * a


def atan2(input, other):
    ad, bd, a, b = binary_operands("atan2", input, other)
    xp = xp_of_operands(ad, bd)
    if result_kind(ad, bd) not in "fV":  # integers and bools: the default float, as PyTorch
        ad, bd = _as_default_float(ad), _as_default_float(bd)
    out = _wrap(_compute("atan2", xp.arctan2, ad, bd))
    if _state.grad_enabled and (_rg(a) or _rg(b)):
        record(Atan2Backward0, (a, b), out, saved=(input, other))
    return out


arctan2 = atan2


# ------------------------------------------------------------------ maximum, minimum

class MaximumBackward0(Node):
    """Ties split the gradient in half between the two inputs, as PyTorch does."""

    def backward(self, grad):
        a, b = self.saved_tensors
        first_wins = self._first_wins(a, b).to(grad.dtype)
        share = first_wins + (a == b).to(grad.dtype) * 0.5
        return grad * share, grad * (1 - share)

    @staticmethod
    def _first_wins(a, b):
        return a > b


class MinimumBackward0(MaximumBackward0):
    @staticmethod
    def _first_wins(a, b):
        return a < b


def _extremum(op, kernel, node_cls, input, other):
    if not isinstance(other, Tensor) or not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected two tensors, got {type(input).__name__} and "
                        f"{type(other).__name__} (use clamp() for a number)")
    ad, bd, a, b = binary_operands(op, input, other)
    out = _wrap(_compute(op, getattr(xp_of_operands(ad, bd), kernel), ad, bd))
    if _state.grad_enabled and (_rg(a) or _rg(b)):
        record(node_cls, (a, b), out, saved=(a, b))
    return out


def maximum(input, other):
    return _extremum("maximum", "maximum", MaximumBackward0, input, other)


def minimum(input, other):
    return _extremum("minimum", "minimum", MinimumBackward0, input, other)


def fmax(input, other):
    return where_nan(input, other, maximum(input, other))


def fmin(input, other):
    return where_nan(input, other, minimum(input, other))


def where_nan(input, other, result):
    """fmax/fmin: where one side is NaN, take the other."""
    result = where(input.isnan(), other, result)
    return where(other.isnan(), input, result)


METHODS = ("add", "sub", "rsub", "mul", "div", "true_divide", "floor_divide", "remainder",
           "fmod", "pow", "float_power", "atan2", "arctan2", "maximum", "minimum", "fmax",
           "fmin")
INPLACE = ("add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "fmod",
           "pow", "atan2")
# PyTorch's aliases
multiply, subtract, divide = mul, sub, div
METHODS += ("multiply", "subtract", "divide")
INPLACE += ("multiply", "subtract", "divide")


def lerp(input, end, weight):
    """input + weight * (end - input)."""
    return add(input, mul(weight, sub(end, input)))


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2."""
    return add(input, mul(tensor1, tensor2), alpha=value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2."""
    return add(input, div(tensor1, tensor2), alpha=value)


METHODS += ("lerp", "addcmul", "addcdiv")
INPLACE += ("lerp", "addcmul", "addcdiv")
