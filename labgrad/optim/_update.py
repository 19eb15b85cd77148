"""In-place array arithmetic for optimizer steps, rounded as PyTorch's CPU kernels round it.

Each helper is one PyTorch in-place op (``add_(x, alpha=)``, ``addcmul_``, ``addcdiv_``,
``lerp_``) on NumPy or CuPy arrays, computed in the arrays' dtype with the Python-float
option cast to that dtype, in PyTorch's order of operations, so that a labgrad update follows
PyTorch's single-tensor update to within rounding (PyTorch's vectorized kernels fuse some
multiply-adds, which NumPy rounds twice). `tmp` is a scratch array of the target's shape;
nothing else is allocated.
"""
from __future__ import annotations

from ..backend import xp_of


def add_scaled_(target, x, alpha, tmp):
    """target += alpha * x (PyTorch's ``target.add_(x, alpha=alpha)``)."""
    if alpha == 1:
        target += x
        return target
    xp_of(target).multiply(x, alpha, out=tmp)
    target += tmp
    return target


def addcmul_(target, a, b, value, tmp):
    """target += value * a * b, multiplied left to right."""
    xp = xp_of(target)
    if value == 1:
        xp.multiply(a, b, out=tmp)
    else:
        xp.multiply(a, value, out=tmp)
        tmp *= b
    target += tmp
    return target


def addcdiv_(target, a, b, value, tmp):
    """target += value * a / b, left to right."""
    xp = xp_of(target)
    if value == 1:
        xp.divide(a, b, out=tmp)
    else:
        xp.multiply(a, value, out=tmp)
        tmp /= b
    target += tmp
    return target


def lerp_(start, end, weight, tmp):
    """start += weight * (end - start); for weight >= 0.5 PyTorch computes
    end - (end - start) * (1 - weight) instead, and so does this."""
    xp = xp_of(start)
    xp.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
        return start
    kind = start.dtype.type
    tmp *= kind(1) - kind(weight)  # 1 - weight rounded in the array's dtype, as PyTorch does
    return xp.subtract(end, tmp, out=start)
