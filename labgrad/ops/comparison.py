"""Comparisons, logical and bitwise ops (bool or integer results, no gradient), plus the
selection ops built on a condition: where and clamp."""
from __future__ import annotations

import operator

import numpy as np

from .. import dtypes as _dt
from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import (array_shape, binary_operands, broadcast_error, check_same_device, describe,
                    needs_grad, record, xp_of, xp_of_operands)

_wrap = Tensor._wrap
_ndarray = np.ndarray


def _comparison(name, kernel):
    def op(input, other):
        ad, bd, _, _ = binary_operands(name, input, other)
        try:
            return _wrap(kernel(ad, bd))
        except ValueError:
            raise broadcast_error(name, array_shape(ad), array_shape(bd)) from None
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise {name}, broadcasting; a bool tensor."
    return op


eq = _comparison("eq", operator.eq)
ne = _comparison("ne", operator.ne)
lt = _comparison("lt", operator.lt)
le = _comparison("le", operator.le)
gt = _comparison("gt", operator.gt)
ge = _comparison("ge", operator.ge)
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge


def _as_bool(data):
    return data if data.dtype == np.bool_ else data != 0


def _logical(name):
    def op(input, other):
        ad, bd, _, _ = binary_operands(name, input, other)
        return _wrap(getattr(xp_of_operands(ad, bd), name)(ad, bd))
    op.__name__ = op.__qualname__ = name
    return op


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")


def logical_not(input):
    return _wrap(xp_of(input._data).logical_not(input._data))


_KIND_OF_NUMBER = {bool: "b", int: "i", float: "f"}


def _bitwise(name, np_name):
    def op(input, other):
        ad, bd, _, _ = binary_operands(name, input, other)
        for data in (ad, bd):
            kind = _KIND_OF_NUMBER.get(type(data)) or data.dtype.kind
            if kind not in "biu":
                raise RuntimeError(f"{name}: only integer and bool tensors are supported, got "
                                   f"{describe(input)} and {describe(other)}")
        return _wrap(getattr(xp_of_operands(ad, bd), np_name)(ad, bd))
    op.__name__ = op.__qualname__ = name
    return op


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")
bitwise_left_shift = _bitwise("bitwise_left_shift", "left_shift")
bitwise_right_shift = _bitwise("bitwise_right_shift", "right_shift")


def bitwise_not(input):
    if input._data.dtype.kind not in "biu":
        raise RuntimeError(f"bitwise_not: only integer and bool tensors are supported, got "
                           f"{describe(input)}")
    return _wrap(xp_of(input._data).invert(input._data))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    ad, bd, _, _ = binary_operands("isclose", input, other)
    return _wrap(xp_of_operands(ad, bd).isclose(ad, bd, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other) -> bool:
    """True when both have the same shape and the same values."""
    return input.shape == other.shape and bool((input == other).all())


# ------------------------------------------------------------------ where

class WhereBackward0(Node):
    def backward(self, grad):
        (condition,) = self.saved_tensors
        zero = grad * 0
        return None, where(condition, grad, zero), where(condition, zero, grad)


def where(condition, input=None, other=None):
    """Pick from input where condition is true, else from other (each may be a number).

    With only a condition, the indices of its non-zero elements (like nonzero(as_tuple=True)).
    """
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError(f"where: condition must be a bool tensor, got {describe(condition)}")
    cond = _as_bool(condition._data)
    ad, bd, a, b = binary_operands("where", input, other)
    values = ad if a is not None else bd  # binary_operands checked a and b share a device
    if type(values) is not type(cond) or (type(cond) is not _ndarray
                                          and values.device != cond.device):
        check_same_device("where", condition, a if a is not None else b)
    try:
        out = xp_of(cond).where(cond, ad, bd)
    except ValueError:
        raise broadcast_error("where", cond.shape, array_shape(ad), array_shape(bd)) from None
    out = _wrap(out)
    if needs_grad(a, b):
        record(WhereBackward0, (None, a, b), out, saved=(condition,))
    return out


# ------------------------------------------------------------------ clamp

class ClampBackward1(Node):
    def backward(self, grad):
        (x,) = self.saved_tensors
        inside = None
        if self.low is not None:
            inside = x >= self.low
        if self.high is not None:
            inside = x <= self.high if inside is None else inside & (x <= self.high)
        return where(inside, grad, grad * 0)


def clamp(input, min=None, max=None):  # noqa: A002 - PyTorch's names
    """Limit values to [min, max]; either bound may be a number or a tensor."""
    if min is None and max is None:
        raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        result = input
        if min is not None:
            result = where(result < min, min, result)
        if max is not None:
            result = where(result > max, max, result)
        return result
    data = input._data
    dtype = data.dtype
    if dtype.kind in "biu" and any(isinstance(v, float) for v in (min, max)):
        data = data.astype(_dt.get_default_dtype().np)
        dtype = data.dtype
    out = xp_of(data).clip(data, min, max)
    out = _wrap(out.astype(dtype, copy=False))
    if needs_grad(input):
        node = record(ClampBackward1, (input,), out, saved=(input,))
        node.low, node.high = min, max
    return out


clip = clamp


def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return clamp(input, max=max)


METHODS = ("eq", "ne", "lt", "le", "gt", "ge", "not_equal", "less", "less_equal", "greater",
           "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
           "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
           "bitwise_right_shift", "isclose", "allclose", "equal", "where", "clamp", "clip",
           "clamp_min", "clamp_max")
INPLACE = ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
           "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "clamp",
           "clip", "clamp_min", "clamp_max")
