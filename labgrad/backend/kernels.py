"""Kernels whose spelling differs between NumPy and CuPy, or that NumPy lacks."""
from __future__ import annotations

import math

import numpy as np

from . import xp_of


def scatter_add(target, index, values):
    """target[index] += values, accumulating repeated indices (in place)."""
    xp_of(target).add.at(target, index, values)
    return target


_SPECIAL = {}  # array module -> its scipy.special (None where SciPy is not installed)


def _special(array):
    """scipy.special or cupyx.scipy.special for `array`, or None where it is not installed;
    imported once per array module."""
    xp = xp_of(array)
    try:
        return _SPECIAL[xp]
    except KeyError:
        pass
    if xp is np:
        try:
            import scipy.special as special
        except ImportError:
            special = None
    else:
        import cupyx.scipy.special as special
    _SPECIAL[xp] = special
    return special


def erf(x):
    special = _special(x)
    if special is not None:
        return special.erf(x)
    return _erf_fallback(x)


def _erf_fallback(x):
    """math.erf elementwise: exact to double precision, slower than SciPy's."""
    flat = np.fromiter(map(math.erf, x.astype(np.float64).ravel().tolist()), np.float64, x.size)
    return flat.reshape(x.shape).astype(x.dtype, copy=False)


def erfinv(y):
    special = _special(y)
    if special is not None:
        return special.erfinv(y)
    return _erfinv_fallback(y)


def _erfinv_fallback(y):
    """Newton's method on erf from a closed-form first guess; ±1 gives ±inf like SciPy."""
    y64 = y.astype(np.float64)
    inside = np.abs(y64) < 1
    yc = np.where(inside, y64, 0.0)
    # Winitzki's approximation as the starting point, then Newton steps on erf(x) - y.
    a = 0.147
    ln = np.log1p(-yc * yc)
    t = 2 / (np.pi * a) + ln / 2
    x = np.sign(yc) * np.sqrt(np.sqrt(t * t - ln / a) - t)
    for _ in range(4):
        x = x - (_erf_fallback(x) - yc) / (2 / math.sqrt(math.pi) * np.exp(-x * x))
    x = np.where(inside, x, np.where(np.abs(y64) == 1, np.sign(y64) * np.inf, np.nan))
    return x.astype(y.dtype, copy=False)
