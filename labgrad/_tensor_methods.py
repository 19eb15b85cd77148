"""Bind the ops as Tensor methods and Python operators.

Each op module lists in METHODS the functions that are also methods (``x.exp()`` is
``exp(x)``) and in INPLACE those that also get an in-place ``name_`` form.
"""
from __future__ import annotations

from . import creation, random
from .ops import (activations, arithmetic, comparison, conversion, cumulative, einsum, extrema,
                  gather, index_ops, indexing, inplace, joining, linalg, pointwise, rearrange,
                  reductions, shape, softmax, sorting)
from .ops.inplace import inplace_method
from .tensor import Tensor

_MODULES = (arithmetic, comparison, conversion, pointwise, activations, reductions, extrema,
            sorting, cumulative, softmax, gather, shape, joining, rearrange, indexing, index_ops,
            linalg, einsum)


def _swap(fn):
    """fn with its operands swapped, for reflected operators (2 - x)."""
    def reflected(self, other):
        return fn(other, self)
    reflected.__name__ = f"r{fn.__name__}"
    return reflected


_COMMON_OPERANDS = frozenset((Tensor, int, float, bool))


def _operator(fn):
    """fn as a binary operator: NotImplemented for operands it does not know, so Python can
    try the other side."""
    def method(self, other):
        if type(other) not in _COMMON_OPERANDS and not (
                isinstance(other, (Tensor, int, float)) or hasattr(other, "dtype")):
            return NotImplemented
        return fn(self, other)
    method.__name__ = fn.__name__
    return method


def _bind():
    for module in _MODULES:
        for name in module.METHODS:
            setattr(Tensor, name, getattr(module, name))
        for name in getattr(module, "INPLACE", ()):
            setattr(Tensor, name + "_", inplace_method(getattr(module, name), name + "_"))

    for name in ("zero_", "fill_", "copy_"):
        setattr(Tensor, name, getattr(inplace, name))
    for name in ("new_tensor", "new_zeros", "new_ones", "new_empty", "new_full"):
        setattr(Tensor, name, getattr(creation, name))
    for name in ("uniform_", "normal_", "bernoulli_", "exponential_", "random_", "geometric_",
                 "log_normal_", "cauchy_"):
        setattr(Tensor, name, getattr(random, name))
    Tensor.bernoulli = random.bernoulli
    Tensor.multinomial = random.multinomial

    a, c = arithmetic, comparison
    binary = {
        "add": a.add, "sub": a.sub, "mul": a.mul, "truediv": a.div, "floordiv": a.floor_divide,
        "mod": a.remainder, "pow": a.pow, "matmul": linalg.matmul,
        "and": c.bitwise_and, "or": c.bitwise_or, "xor": c.bitwise_xor,
        "lshift": c.bitwise_left_shift, "rshift": c.bitwise_right_shift,
    }
    for name, fn in binary.items():
        setattr(Tensor, f"__{name}__", _operator(fn))
        setattr(Tensor, f"__r{name}__", _operator(_swap(fn)))
        inplace_fn = inplace_method(fn, f"__i{name}__")
        setattr(Tensor, f"__i{name}__", inplace_fn)
    for name, fn in {"eq": c.eq, "ne": c.ne, "lt": c.lt, "le": c.le, "gt": c.gt,
                     "ge": c.ge}.items():
        setattr(Tensor, f"__{name}__", _operator(fn))
    Tensor.__neg__ = pointwise.neg
    Tensor.__pos__ = lambda self: self
    Tensor.__abs__ = pointwise.abs
    Tensor.__invert__ = comparison.bitwise_not
    Tensor.__getitem__ = indexing.getitem
    Tensor.__setitem__ = indexing.setitem
    Tensor.T = property(linalg.numpy_T)
    Tensor.mT = property(linalg.matrix_T)
    Tensor.H = Tensor.T
    Tensor.mH = Tensor.mT


_bind()
