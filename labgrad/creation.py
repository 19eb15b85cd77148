"""Making tensors: from data, filled with a value, and ranges.

The API, dtypes, shapes and errors follow PyTorch: the dtype a nested list infers, the length
of a float ``arange``, the checks on sizes and bounds. ``arange``/``linspace``/``logspace``
values are computed in double precision and rounded once to the dtype, so they can differ
from PyTorch's in the last bits (see "ranges"). A range made on a GPU gets the same values,
computed on the host and copied.
"""
from __future__ import annotations

import builtins
import functools
import inspect
import math
import operator

import numpy as np

from . import backend
from . import dtypes as _dt
from .autograd import grad_mode
from .device import as_device
from .ops._util import shape_args
from .tensor import Size, Tensor

_wrap = Tensor._wrap
_PY_NUMBERS = (builtins.bool, builtins.int, builtins.float)
_INT64_MAX = 2 ** 63 - 1


def _finish(data, requires_grad=False):
    out = _wrap(data)
    if requires_grad:
        out.requires_grad = True
    return out


def _resolve(op, dtype, device, default=None):
    """The dtype and device a creation function makes its tensor with."""
    dt = _dt.to_dtype(dtype) if dtype is not None else (default or _dt.get_default_dtype())
    return dt, _checked_device(op, device, None)


# ---------------------------------------------------------------- out=

def with_out(fn):
    """Give `fn`, a function that makes a new tensor, PyTorch's ``out=`` argument.

    With out given, the result is made with out's dtype and device (unless dtype or device is
    given too), written into out as ``out.copy_(result)`` would (converted to out's dtype) and
    out is returned. The shapes must match: labgrad does not resize out. As in PyTorch, out=
    takes no part in autograd: it is refused when out or an input requires grad.
    """
    op = fn.__name__
    signature = inspect.signature(fn)
    takes = [name for name in ("dtype", "device") if name in signature.parameters]

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(f"{op}(): argument 'out' must be Tensor, not {type(out).__name__}")
        for name in takes:
            if kwargs.get(name) is None:
                kwargs[name] = getattr(out, name)
        return _write_out(op, out, fn(*args, **kwargs))

    params = list(signature.parameters.values())
    at = next((i for i, p in enumerate(params) if p.kind in (p.KEYWORD_ONLY, p.VAR_KEYWORD)),
              len(params))
    params.insert(at, inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None))
    wrapper.__signature__ = signature.replace(parameters=params)
    return wrapper


def _write_out(op, out, result):
    if out.shape != result.shape:
        raise RuntimeError(f"{op}: the result has shape {tuple(result.shape)}, but out= has "
                           f"shape {tuple(out.shape)} (labgrad does not resize out=; pass a "
                           "tensor of the result's shape)")
    if grad_mode.state.grad_enabled and (out._rg or result.grad_fn is not None):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    with grad_mode.no_grad():
        out.copy_(result)
    if result.requires_grad and not out.requires_grad:
        out.requires_grad = True  # requires_grad=True given with out=, as PyTorch sets it
    return out


# ---------------------------------------------------------------- sizes

def _size(op, size, size_kw=None):
    """Accept f(2, 3), f((2, 3)), f([2, 3]), f(Size) and f(size=...) alike, as ints >= 0."""
    if size_kw is not None:
        if size:
            raise TypeError(f"{op}() got multiple values for argument 'size'")
        size = (size_kw,)
    if not size:
        raise TypeError(f'{op}() missing 1 required positional arguments: "size"')
    dims = shape_args(op, size)
    if any(d < 0 for d in dims):
        raise RuntimeError(f"{op}: Trying to create tensor with negative dimension "
                           f"{min(dims)}: {dims}")
    return tuple(dims)


# ---------------------------------------------------------------- tensor() and its dtype rules

def _leaf_dtype(value):
    """The dtype one element of a nested list brings to inference (None: not an element)."""
    if isinstance(value, (np.generic, np.ndarray)) or backend.is_array(value):
        return _dt.from_numpy_dtype(value.dtype)  # before float: np.float64 is a float
    if isinstance(value, builtins.bool):
        return _dt.bool
    if isinstance(value, builtins.int):
        return _dt.int64
    if isinstance(value, builtins.float):
        return _dt.get_default_dtype()
    if isinstance(value, Tensor):
        return value.dtype
    return None


def _scan(data, depth=0):
    """(shape, dtype) of nested sequences, as PyTorch infers them: every element's dtype
    (Python bool/int/float: bool/int64/default float; NumPy values and tensors: their own)
    promoted together. Ragged nesting is an error."""
    dtype = _leaf_dtype(data)
    if dtype is not None:
        return tuple(data.shape) if hasattr(data, "shape") else (), dtype
    if isinstance(data, str) or not isinstance(data, (list, tuple, builtins.range)):
        if data is None:
            raise RuntimeError("tensor: Could not infer dtype of NoneType")
        raise TypeError(f"tensor: new(): invalid data type '{type(data).__name__}'")
    if len(data) == 0:
        return (0,), None
    types = set(map(type, data))
    if types <= {builtins.float, builtins.int, builtins.bool}:  # a row of Python numbers
        kinds = [_dt.bool, _dt.int64, _dt.get_default_dtype()]
        found = [t in types for t in (builtins.bool, builtins.int, builtins.float)]
        dtype = None
        for present, kind in zip(found, kinds):
            if present:
                dtype = kind if dtype is None else _dt.promote_types(dtype, kind)
        return (len(data),), dtype
    first_shape, dtype = _scan(data[0], depth + 1)
    for item in data[1:]:
        shape, item_dtype = _scan(item, depth + 1)
        if shape != first_shape:
            _raise_ragged(first_shape, shape, depth + 1)
        if item_dtype is not None:
            dtype = item_dtype if dtype is None else _dt.promote_types(dtype, item_dtype)
    return (len(data),) + first_shape, dtype


def _raise_ragged(expected, got, depth):
    if len(expected) != len(got):
        raise ValueError(f"tensor: expected a sequence of {len(expected)} dimension(s) at dim "
                         f"{depth}, like the first element, got one of {len(got)} "
                         f"(shapes {expected} and {got})")
    axis = next(i for i, (a, b) in enumerate(zip(expected, got)) if a != b)
    raise ValueError(f"tensor: expected sequence of length {expected[axis]} at dim "
                     f"{depth + axis} (got {got[axis]})")


def _host_tree(data):
    """Nested sequences with tensors replaced by host NumPy arrays (bfloat16 as float32)."""
    if isinstance(data, Tensor):
        data = data._data
    if backend.is_array(data) or isinstance(data, np.ndarray):
        array = data if isinstance(data, np.ndarray) else data.get()
        return array.astype(np.float32) if array.dtype.kind == "V" else array
    if isinstance(data, (list, tuple)):
        return [_host_tree(x) for x in data]
    return data


def cast_array(array, target: _dt.dtype, checked: builtins.bool = False):
    """`array` as `target`, rounding as PyTorch does; `checked` (data from Python numbers)
    refuses integers the target cannot hold, as PyTorch refuses them. Floats too large for
    the target become inf, silently, as in PyTorch."""
    source = array.dtype
    if source == target.np:
        return array
    if checked and target.category == _dt._INT:
        _check_int_range(array, target)
    with np.errstate(over="ignore", invalid="ignore"):
        if target.is_floating_point and target.itemsize == 2 and source == np.float64:
            array = array.astype(np.float32)  # PyTorch rounds a double to half via float
        return array.astype(target.np)


def _check_int_range(array, target):
    if array.size == 0:
        return
    info = np.iinfo(target.np)
    # Unsigned targets take negative values down to -max (they wrap), as c10 allows.
    low = info.min if target.is_signed else -builtins.int(info.max)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = array[~np.isfinite(array)][0]
    else:
        lo, hi = array.min(), array.max()
        bad = lo if lo < low else hi if hi > info.max else None
    if bad is not None:
        raise RuntimeError(f"tensor: value {bad} cannot be converted to type {target.name} "
                           "without overflow")


def _from_python(data, target=None):
    """A NumPy array from Python numbers/NumPy values/tensors, nested; returns it with the
    dtype PyTorch would infer."""
    shape, inferred = _scan(data)
    if inferred is None:  # only empty sequences
        inferred = _dt.get_default_dtype()
    # Build in the widest type of the inferred kind, then cast once (as PyTorch stores each
    # Python number into the target type directly).
    build = {_dt._BOOL: np.bool_, _dt._INT: np.int64, _dt._FLOAT: np.float64}[inferred.category]
    if inferred is _dt.uint64:
        build = np.uint64
    try:
        array = np.array(_host_tree(data), dtype=build)
    except OverflowError:
        raise ValueError("tensor: Overflow when unpacking long long: an int does not fit in "
                         "int64") from None
    if array.shape != shape:  # NumPy treats 0-d arrays in lists as numbers: same shape
        array = array.reshape(shape)
    target = target or inferred
    return cast_array(array, target, checked=True), target


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor that copies `data` (a number, nested sequences, an array or a tensor)."""
    target = _dt.to_dtype(dtype) if dtype is not None else None
    if isinstance(data, np.generic) or _is_array_like(data):
        data = np.asarray(data)
    if isinstance(data, Tensor) or backend.is_array(data):
        array = data._data if isinstance(data, Tensor) else data
        source_dev = backend.device_of(array)
        target = target or _dt.from_numpy_dtype(array.dtype)
        dev = _checked_device("tensor", device, source_dev)
        array = cast_array(backend.to_device(array, dev, copy=True), target)
    else:
        if isinstance(data, complex):
            raise TypeError("tensor: labgrad has no complex dtypes")
        dev = _checked_device("tensor", device, None)
        array, target = _from_python(data, target)
        array = backend.to_device(array, dev)
    return _finish(array, requires_grad)


def _is_array_like(data) -> builtins.bool:
    """Objects NumPy can read (such as PyTorch tensors), other than the ones handled here."""
    return hasattr(data, "__array__") and not isinstance(
        data, (Tensor, list, tuple, builtins.range)) and not backend.is_array(data)


def _checked_device(op, device, default):
    """The device asked for (else `default`, else the cpu), checked to be usable."""
    dev = as_device(device if device is not None else default)
    if dev.type == "cuda":
        from . import cuda
        cuda.check_device(dev, op)
    return dev


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like tensor(), but shares memory with `data` (a tensor, or a NumPy/CuPy array) when the
    dtype and device already match; a tensor is then returned as it is."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
    if backend.is_array(data):
        target = _dt.to_dtype(dtype) if dtype is not None else _dt.from_numpy_dtype(data.dtype)
        dev = _checked_device("as_tensor", device, backend.device_of(data))
        array = backend.to_device(data, dev)
        return _wrap(array if array.dtype == target.np else cast_array(array, target))
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False) -> Tensor:
    """As torch.asarray: share memory with `obj` when possible (copy=None), always copy
    (copy=True), or refuse to copy (copy=False: a ValueError when a copy is needed)."""
    target = _dt.to_dtype(dtype) if dtype is not None else None
    dev = as_device(device) if device is not None else None
    if not isinstance(obj, Tensor) and not backend.is_array(obj):
        if hasattr(obj, "__dlpack__") and hasattr(obj, "__dlpack_device__"):
            obj = from_dlpack(obj)
        elif hasattr(obj, "__array_interface__") or isinstance(obj, memoryview):
            obj = np.asarray(obj)
    if isinstance(obj, Tensor) or backend.is_array(obj):
        source = obj if isinstance(obj, Tensor) else _wrap(obj)
        needs_copy = (target is not None and target.np != source._data.dtype) or (
            dev is not None and dev != source.device)
        if copy is False and needs_copy:
            raise ValueError(f"asarray: can't alias a {source.dtype.name} tensor on "
                             f"{source.device} into {target or source.dtype} on "
                             f"{dev or source.device} without a copy (copy=False)")
        out = source.to(device=dev, dtype=target, copy=builtins.bool(copy))
    else:
        if copy is False:
            raise ValueError("asarray: can't alias an arbitrary sequence into a tensor "
                             "(copy=False)")
        out = tensor(obj, dtype=target, device=dev)
    if requires_grad:
        out.requires_grad = True
    return out


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array: writes to either show in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    try:
        _dt.from_numpy_dtype(array.dtype)
    except TypeError:
        raise TypeError(f"from_numpy: can't convert np.ndarray of type {array.dtype}. The only "
                        "supported types are: " + ", ".join(d.name for d in _dt.ALL)) from None
    return _wrap(array)


def from_dlpack(ext) -> Tensor:
    """A tensor sharing memory with any DLPack-capable array (NumPy, CuPy, PyTorch...)."""
    if isinstance(ext, Tensor):
        return _wrap(ext._data)._as_view_of(ext)
    if not hasattr(ext, "__dlpack__") or not hasattr(ext, "__dlpack_device__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ and "
                        f"__dlpack_device__ (a NumPy, CuPy or PyTorch array), got "
                        f"{type(ext).__name__}")
    device_type, _ = ext.__dlpack_device__()
    if builtins.int(device_type) == 1:  # kDLCPU
        array = np.from_dlpack(ext)
    elif builtins.int(device_type) in (2, 3):  # kDLCUDA, kDLCUDAHost
        array = backend.cupy().from_dlpack(ext)
    else:
        raise RuntimeError(f"from_dlpack: unsupported DLPack device type {device_type}; "
                           "labgrad takes cpu and CUDA arrays")
    _dt.from_numpy_dtype(array.dtype)
    return _wrap(array)


def legacy_new(args, device=None) -> Tensor:
    """torch.Tensor(...): sizes give uninitialized memory, data is copied as the default float
    type, a tensor is aliased as it is."""
    default = _dt.get_default_dtype()
    if not args:
        return empty(0, dtype=default, device=device)
    if len(args) == 1:
        arg = args[0]
        if isinstance(arg, Tensor):
            return _wrap(arg._data)._as_view_of(arg)
        if isinstance(arg, Size):
            return empty(arg, dtype=default, device=device)
        if isinstance(arg, (list, tuple, builtins.range)) or hasattr(arg, "__array__") or \
                backend.is_array(arg):
            return tensor(arg, dtype=default, device=device)
        if isinstance(arg, builtins.float):
            raise TypeError("Tensor(): data must be a sequence (got float)")
    return empty(*args, dtype=default, device=device)


# ---------------------------------------------------------------- filled tensors

def _filled(op, fill, size, dtype, device, requires_grad, size_kw=None):
    shape = _size(op, size, size_kw)
    dt, dev = _resolve(op, dtype, device)
    with backend.use_device(dev):
        return _finish(fill(backend.xp_for(dev), shape, dt.np), requires_grad)


@with_out
def zeros(*size, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, **kwargs) -> Tensor:
    return _filled("zeros", lambda xp, s, d: xp.zeros(s, d), size, dtype, device, requires_grad,
                   _size_kw("zeros", kwargs))


@with_out
def ones(*size, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **kwargs) -> Tensor:
    return _filled("ones", lambda xp, s, d: xp.ones(s, d), size, dtype, device, requires_grad,
                   _size_kw("ones", kwargs))


@with_out
def empty(*size, dtype=None, layout=None, device=None, requires_grad=False,
          memory_format=None, pin_memory=False, **kwargs) -> Tensor:
    return _filled("empty", lambda xp, s, d: xp.empty(s, d), size, dtype, device, requires_grad,
                   _size_kw("empty", kwargs))


def _size_kw(op, kwargs):
    size = kwargs.pop("size", None)
    if kwargs:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(kwargs)}")
    return size


def _fill_number(op, value):
    """A fill value as a Python number (0-d tensors and NumPy scalars are unwrapped)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"{op}: fill_value must be a number or a one-element tensor, got "
                               f"shape {tuple(value.shape)}")
        return value.item()
    if isinstance(value, np.generic):
        return value.item() if not isinstance(value, np.bool_) else builtins.float(value)
    if not isinstance(value, _PY_NUMBERS):
        raise TypeError(f"{op}: fill_value must be a number, got {type(value).__name__}")
    return value


def _filled_with(value, target: _dt.dtype, shape, xp):
    """A `shape` array of `value` in `target`, rounded and range-checked as PyTorch does."""
    scalar = cast_array(np.array(value), target, checked=True)[()]
    return xp.full(shape, scalar, dtype=target.np)


@with_out
def full(size, fill_value, *, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False) -> Tensor:
    """A tensor of `size` (a sequence) filled with `fill_value`; its dtype is that of the
    number (bool, int64 or the default float) unless given."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"full(): argument 'size' must be a tuple of ints, not "
                        f"{type(size).__name__}")
    value = _fill_number("full", fill_value)
    shape = _size("full", (size,))
    dt, dev = _resolve("full", dtype, device, default=_dt.scalar_dtype(value))
    with backend.use_device(dev):
        return _finish(_filled_with(value, dt, shape, backend.xp_for(dev)), requires_grad)


def scalar_tensor(value, *, dtype=None, device=None, requires_grad=False, **kwargs):
    return full((), value, dtype=dtype or _dt.get_default_dtype(), device=device,
                requires_grad=requires_grad)


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
    return full(tuple(input.shape), fill_value, dtype=dtype, device=device,
                requires_grad=requires_grad)


@with_out
def eye(n, m=None, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The n x m identity (m defaults to n)."""
    for name, value in (("n", n), ("m", m)):
        if value is None:
            continue
        if isinstance(value, builtins.bool) or not hasattr(value, "__index__"):
            raise TypeError(f"eye(): argument '{name}' must be int, not {type(value).__name__}")
        if value < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {value}")
    dt, dev = _resolve("eye", dtype, device)
    m = None if m is None else operator.index(m)
    with backend.use_device(dev):
        return _finish(backend.xp_for(dev).eye(operator.index(n), m, dtype=dt.np),
                       requires_grad)


# ---------------------------------------------------------------- ranges
#
# Values are computed in double precision and rounded once to the dtype. PyTorch's kernels
# round differently in places (fused multiply-adds, per-thread SIMD blocks that depend on the
# CPU), so a value can differ from PyTorch's in its last bits; lengths, dtypes
# and errors are PyTorch's exactly.

def _number(v):
    """A range bound as a Python number (0-d tensors and NumPy scalars are unwrapped)."""
    if isinstance(v, Tensor):
        return v.item()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _to_scalar(value, dt: _dt.dtype):
    """A Python number converted to the kernel's type, as c10's Scalar.to<T>() does."""
    if dt.is_floating_point:
        return cast_array(np.array(builtins.float(value)), dt)[()]
    if isinstance(value, builtins.float):
        if not math.isfinite(value):
            raise RuntimeError(f"value {value} cannot be converted to type {dt.name} without "
                               "overflow")
        value = builtins.int(value)  # truncates toward zero, as C++ does
    return cast_array(np.array(value), dt, checked=True)[()]


def _trunc_div(a: builtins.int, b: builtins.int) -> builtins.int:
    """C++ integer division (rounds toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


@with_out
def arange(start, end=None, step=1, *, dtype=None, layout=None, device=None,
           requires_grad=False) -> Tensor:
    """Values from start (default 0) up to, not including, end, `step` apart. The dtype is
    int64 when start, end and step are all ints, else the default float."""
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v) for v in (start, end, step))
    for value in (start, end, step):
        if not isinstance(value, _PY_NUMBERS):
            raise TypeError(f"arange: expected numbers, got {type(value).__name__} {value!r}")
    if dtype is None:
        floats = any(isinstance(v, builtins.float) for v in (start, end, step))
        dtype = _dt.get_default_dtype() if floats else _dt.int64
    dt, dev = _resolve("arange", dtype, device)
    if dt is _dt.bool:
        raise NotImplementedError("arange: \"arange_cpu\" not implemented for 'Bool'")
    n, first, delta = _arange_size(start, end, step, dt)
    values = _arange_values(n, first, delta, dt)
    return _finish(backend.to_device(values, dev), requires_grad)


def _arange_size(start, end, step, dt):
    """The element count, and start and step in the kernel's accumulation type, with
    PyTorch's checks: the bounds in double, then (for int64) the count in truncated ints."""
    d_start, d_end, d_step = (builtins.float(v) for v in (start, end, step))
    if d_step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if not (math.isfinite(d_start) and math.isfinite(d_end)):
        raise RuntimeError(f"arange: unsupported range: {d_start} -> {d_end}")
    if not ((d_step > 0 and d_end >= d_start) or (d_step < 0 and d_end <= d_start)):
        raise RuntimeError("arange: upper bound and lower bound inconsistent with step sign")
    if dt.is_floating_point:
        first, last, delta = d_start, d_end, d_step
    else:  # C++ truncates each toward zero
        first, last, delta = (builtins.int(v) for v in (start, end, step))
    if dt is _dt.int64:
        if delta == 0:
            raise ValueError("arange: step must be nonzero (it truncates to 0 as an int64)")
        sign = 1 if delta > 0 else -1
        n = _trunc_div(last - first + delta - sign, delta)
    else:
        n = math.ceil((d_end - d_start) / d_step)
    if not 0 <= n <= _INT64_MAX:
        raise RuntimeError(f"arange: invalid size {n}, possible overflow?")
    return builtins.int(n), first, delta


def _arange_values(n, first, delta, dt):
    """first + i * delta for i < n, in double (integers in int64), rounded once to dt."""
    index = np.arange(n, dtype=np.int64)
    if not dt.is_floating_point:
        return (first + delta * index).astype(dt.np)
    return cast_array(first + delta * index.astype(np.float64), dt)


@with_out
def range(start=0, end=None, step=1, *, dtype=None, layout=None, device=None,  # noqa: A001
          requires_grad=False) -> Tensor:
    """Deprecated in PyTorch: like arange, but includes `end`, and floats by default."""
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v) for v in (start, end, step))
    dt, dev = _resolve("range", dtype, device)
    _, first, delta = _arange_size(start, end, step, dt)  # the same checks
    last = builtins.float(end) if dt.is_floating_point else builtins.int(end)
    n = builtins.int((last - first) / delta + 1)
    values = _arange_values(n, first, delta, dt)
    return _finish(backend.to_device(values, dev), requires_grad)


def _steps(op, steps) -> builtins.int:
    if isinstance(steps, builtins.bool) or not hasattr(steps, "__index__"):
        raise TypeError(f"{op}(): argument 'steps' must be int, not {type(steps).__name__}")
    steps = operator.index(steps)
    if steps < 0:
        raise RuntimeError(f"{op}: number of steps must be non-negative")
    return steps


def _spaced(first, last, steps):
    """`steps` evenly spaced doubles from first to last, as PyTorch spaces them: the first
    half counted up from the start, the second half down from the end (so both ends are
    exact)."""
    first, last = builtins.float(first), builtins.float(last)
    step = (last - first) / (steps - 1)
    index = np.arange(steps, dtype=np.float64)
    from_start = first + step * index
    from_end = last - step * (steps - 1 - index)
    return np.where(index < steps // 2, from_start, from_end)


@with_out
def linspace(start, end, steps, *, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """`steps` values evenly spaced from start to end, both included."""
    start, end = _number(start), _number(end)
    steps = _steps("linspace", steps)
    dt, dev = _resolve("linspace", dtype, device)
    first, last = _to_scalar(start, dt), _to_scalar(end, dt)
    if steps == 0:
        values = np.empty(0, dt.np)
    elif steps == 1:
        values = np.array([first], dtype=dt.np)
    elif dt.is_floating_point:
        values = cast_array(_spaced(first, last, steps), dt)
    else:  # C++ truncates the spaced doubles
        values = np.trunc(_spaced(builtins.int(first), builtins.int(last), steps))
        values = values.astype(np.int64).astype(dt.np)
    return _finish(backend.to_device(values, dev), requires_grad)


@with_out
def logspace(start, end, steps, base=10.0, *, dtype=None, layout=None, device=None,
             requires_grad=False) -> Tensor:
    """`steps` powers of `base`, with exponents evenly spaced from start to end."""
    start, end = _number(start), _number(end)
    steps = _steps("logspace", steps)
    base = builtins.float(base)
    dt, dev = _resolve("logspace", dtype, device)
    if steps == 0:
        values = np.empty(0, dt.np)
    elif steps == 1:
        values = cast_array(np.array([base ** builtins.float(start)]), dt)
    else:  # the exponents spaced as linspace spaces them (from start and end in the dtype)
        first, last = _to_scalar(start, dt), _to_scalar(end, dt)
        if not dt.is_floating_point:
            first, last = builtins.int(first), builtins.int(last)
        powers = np.power(base, _spaced(first, last, steps))
        if dt.is_floating_point:
            values = cast_array(powers, dt)
        else:
            values = np.trunc(powers).astype(np.int64).astype(dt.np)
    return _finish(backend.to_device(values, dev), requires_grad)


# ---------------------------------------------------------------- Tensor.new_*: same dtype
# and device as the tensor unless given.

def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(self, dtype, device)
    return tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
    dtype, device = _like(self, dtype, device)
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
    dtype, device = _like(self, dtype, device)
    return ones(*size, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False, **kwargs):
    dtype, device = _like(self, dtype, device)
    return empty(*size, dtype=dtype, device=device, requires_grad=requires_grad, **kwargs)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    dtype, device = _like(self, dtype, device)
    return full(size, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)
