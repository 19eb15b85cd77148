"""The one place that knows about NumPy and CuPy.

Every op asks here for the array module (``xp``) of its operands' device, so ops never import
numpy or cupy for computing. CuPy is imported only when a CUDA device is first used. The few
kernels whose spelling differs between the two libraries live in `kernels`.
"""
from __future__ import annotations

import numpy as np

from ..device import CPU, as_device, device

_cupy = None  # the cupy module once a CUDA device has been used
_cupy_failure = None  # why importing it failed, for the error message

# Array types labgrad tensors may hold; CuPy's joins once it is imported.
ARRAY_TYPES: tuple = (np.ndarray,)
_MODULE_OF_TYPE = {np.ndarray: np}


def cupy():
    """Import CuPy on first use; raise a clear error where it is missing."""
    global _cupy, _cupy_failure, ARRAY_TYPES
    if _cupy is None:
        if _cupy_failure is not None:
            raise RuntimeError(_cupy_failure)
        try:
            import cupy as cp
        except ImportError as error:
            _cupy_failure = ("CUDA tensors need CuPy, which is not installed "
                             f"({error}); install labgrad[cuda] on a machine with an NVIDIA GPU")
            raise RuntimeError(_cupy_failure) from None
        _cupy = cp
        ARRAY_TYPES = (np.ndarray, cp.ndarray)
        _MODULE_OF_TYPE[cp.ndarray] = cp
    return _cupy


def xp_for(dev: device):
    """The array module that computes on `dev`."""
    if dev.type == "cpu":
        return np
    return cupy()


def xp_of(array):
    """The array module that owns `array`."""
    return _MODULE_OF_TYPE.get(type(array), np)


def device_of(array) -> device:
    if type(array) is np.ndarray:
        return CPU
    return device("cuda", array.device.id)


def is_array(value) -> bool:
    return isinstance(value, ARRAY_TYPES)


def to_device(array, dev: device, copy=False):
    """Move `array` to `dev` (a copy when it crosses devices, or when copy=True)."""
    dev = as_device(dev)
    if dev.type == "cpu":
        if type(array) is np.ndarray:
            return array.copy() if copy else array
        return array.get()
    cp = cupy()
    with cp.cuda.Device(dev.index or 0):
        if isinstance(array, cp.ndarray) and array.device.id == (dev.index or 0) and not copy:
            return array
        return cp.array(array, copy=True)


def use_device(dev: device):
    """A context that makes `dev` current for allocation (a no-op on the cpu)."""
    if dev.type == "cpu":
        return _NULL_CONTEXT
    return cupy().cuda.Device(dev.index or 0)


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NULL_CONTEXT = _NullContext()
