"""Making tensors: from data, filled with a value, and ranges."""
from __future__ import annotations

import builtins
import math

import numpy as np

from . import backend
from . import dtypes as _dt
from .device import as_device
from .tensor import Tensor

_wrap = Tensor._wrap


def _finish(data, requires_grad=False):
    out = _wrap(data)
    if requires_grad:
        out.requires_grad = True
    return out


def _size(op, size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    try:
        return tuple(int(s) for s in size)
    except TypeError:
        raise TypeError(f"{op}: expected a size of ints, got {size!r}") from None


def _infer_dtype(array: np.ndarray, data) -> _dt.dtype:
    """PyTorch's inference: Python floats are the default dtype, ints int64, bools bool;
    NumPy arrays keep their own dtype."""
    if isinstance(data, (np.ndarray, np.generic)) or backend.is_array(data):
        return _dt.from_numpy_dtype(array.dtype)
    kind = array.dtype.kind
    if kind == "f":
        return _dt.get_default_dtype()
    if kind in "iu":
        return _dt.int64
    if kind == "b":
        return _dt.bool
    return _dt.from_numpy_dtype(array.dtype)


def _host_array(data):
    """Nested sequences (possibly holding tensors) as a NumPy array."""
    if isinstance(data, Tensor):
        return data._data if data.is_cpu else data._data.get()
    if isinstance(data, (list, tuple)) and any(isinstance(x, (Tensor, list, tuple)) for x in data):
        return np.array([_host_array(x) for x in data])
    try:
        return np.asarray(data)
    except (ValueError, TypeError) as error:
        raise TypeError(f"tensor: could not make a tensor from {type(data).__name__}: "
                        f"{error}") from None


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor that copies `data` (a number, nested sequences, an array or a tensor)."""
    if isinstance(data, Tensor):
        array = data._data
        inferred = data.dtype
    elif backend.is_array(data):
        array = data
        inferred = _dt.from_numpy_dtype(data.dtype)
    else:
        array = _host_array(data)
        if array.dtype == object:
            raise TypeError(f"tensor: could not infer a dtype from {type(data).__name__} data")
        inferred = _infer_dtype(array, data)
    target = _dt.to_dtype(dtype) if dtype is not None else inferred
    dev = as_device(device) if device is not None else (
        data.device if isinstance(data, Tensor) else backend.device_of(array)
        if backend.is_array(array) else None)
    array = backend.to_device(array, as_device(dev), copy=True).astype(target.np, copy=False)
    return _finish(array, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like tensor(), but shares memory with `data` when dtype and device allow."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
    if backend.is_array(data) and (device is None or as_device(device) == backend.device_of(data)):
        target = _dt.to_dtype(dtype) if dtype is not None else _dt.from_numpy_dtype(data.dtype)
        return _wrap(data if data.dtype == target.np else data.astype(target.np))
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    _dt.from_numpy_dtype(array.dtype)  # raises for unsupported dtypes
    return _wrap(array)


def from_dlpack(ext) -> Tensor:
    """A tensor sharing memory with any DLPack-capable array (NumPy, CuPy, PyTorch...)."""
    device_type, _ = ext.__dlpack_device__()
    if device_type == 1:  # kDLCPU
        return _wrap(np.from_dlpack(ext))
    return _wrap(backend.cupy().from_dlpack(ext))


def _resolve(dtype, device, default=None):
    dt = _dt.to_dtype(dtype) if dtype is not None else (default or _dt.get_default_dtype())
    dev = as_device(device)
    return dt, dev, backend.xp_for(dev)


def _filled(op, fill, size, dtype, device, requires_grad):
    dt, dev, xp = _resolve(dtype, device)
    with backend.use_device(dev):
        return _finish(fill(xp, _size(op, size), dt.np), requires_grad)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    return _filled("zeros", lambda xp, s, d: xp.zeros(s, d), size, dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False) -> Tensor:
    return _filled("ones", lambda xp, s, d: xp.ones(s, d), size, dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          memory_format=None, pin_memory=False) -> Tensor:
    return _filled("empty", lambda xp, s, d: xp.empty(s, d), size, dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = _dt.scalar_dtype(fill_value)
    return _filled("full", lambda xp, s, d: xp.full(s, fill_value, d), (size,), dtype, device,
                   requires_grad)


def _like(input, dtype, device):
    return (dtype if dtype is not None else input.dtype,
            device if device is not None else input.device)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    dtype, device = _like(input, dtype, device)
    return zeros(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    dtype, device = _like(input, dtype, device)
    return ones(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    dtype, device = _like(input, dtype, device)
    return empty(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    dtype, device = _like(input, dtype, device)
    return full(input.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """Values from start (default 0) up to, not including, end."""
    if end is None:
        start, end = 0, start
    values = [_number(v) for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        dtype = _dt.get_default_dtype() if any(isinstance(v, float) for v in values) else _dt.int64
    dt, dev, xp = _resolve(dtype, device)
    start, end, step = values
    count = builtins.max(0, math.ceil((end - start) / step))
    with backend.use_device(dev):
        # start + i * step in float64, as PyTorch computes, then cast: no drift over long ranges
        data = (start + xp.arange(count, dtype=np.float64) * step) if dt.is_floating_point else \
            xp.arange(start, start + count * step, step, dtype=np.int64)[:count]
    return _finish(data.astype(dt.np, copy=False), requires_grad)


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):  # noqa: A001
    """Deprecated in PyTorch: like arange, but includes `end`."""
    return arange(start, end + step / 2 if end is not None else start, step, dtype=dtype or
                  _dt.get_default_dtype(), device=device, requires_grad=requires_grad)


def _number(v):
    return v.item() if isinstance(v, Tensor) else v


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    dt, dev, xp = _resolve(dtype, device)
    with backend.use_device(dev):
        data = xp.linspace(_number(start), _number(end), int(steps), dtype=np.float64)
    return _finish(data.astype(dt.np, copy=False), requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    dt, dev, xp = _resolve(dtype, device)
    with backend.use_device(dev):
        data = xp.logspace(_number(start), _number(end), int(steps), base=base, dtype=np.float64)
    return _finish(data.astype(dt.np, copy=False), requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    dt, dev, xp = _resolve(dtype, device)
    with backend.use_device(dev):
        return _finish(xp.eye(n, m, dtype=dt.np), requires_grad)


def scalar_tensor(value, *, dtype=None, device=None, requires_grad=False):
    return full((), value, dtype=dtype or _dt.get_default_dtype(), device=device,
                requires_grad=requires_grad)


# Tensor.new_* : same dtype and device as the tensor unless given.

def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(self, dtype, device)
    return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(self, dtype, device)
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(self, dtype, device)
    return ones(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(self, dtype, device)
    return empty(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(self, dtype, device)
    return full(size, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)
