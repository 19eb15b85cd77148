"""What every op needs: operands as arrays, the grad-recording check, dims and error text."""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..autograd import grad_mode
from ..autograd.graph import record  # noqa: F401 - re-exported for the op modules
from ..backend import _MODULE_OF_TYPE, xp_of
from ..tensor import Tensor, _wrap_dim

_state = grad_mode.state
_ndarray = np.ndarray
_NUMBER_TYPES = (int, float, bool, np.number, np.bool_)


def needs_grad(*tensors) -> bool:
    """True when grad recording is on and some operand (None for a scalar) requires grad."""
    if not _state.grad_enabled:
        return False
    for t in tensors:
        if t is not None and t._rg:
            return True
    return False


def shape_str(shape) -> str:
    return str(tuple(shape))


def describe(value) -> str:
    """An operand in error messages: 'tensor of shape (2, 3) (float32, cpu)'."""
    if isinstance(value, Tensor):
        return (f"tensor of shape {shape_str(value._data.shape)} ({value.dtype.name}, "
                f"{value.device})")
    return f"{type(value).__name__} {value!r}"


def check_same_device(op, *tensors):
    devices = [t.device for t in tensors if isinstance(t, Tensor)]
    if any(d != devices[0] for d in devices):
        listed = ", ".join(f"{describe(t)}" for t in tensors if isinstance(t, Tensor))
        raise RuntimeError(f"{op}: expected all tensors on the same device, got {listed}. "
                           "Move them with .to(device) first.")


def broadcast_error(op, *shapes) -> RuntimeError:
    """Explain which dimensions of `shapes` cannot be broadcast together."""
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    for axis in range(ndim):
        sizes = {p[axis] for p in padded} - {1}
        if len(sizes) > 1:
            listed = " and ".join(str(p[axis]) for p in padded)
            return RuntimeError(
                f"{op}: shapes {' and '.join(shape_str(s) for s in shapes)} cannot be broadcast: "
                f"dimension {axis - ndim} has sizes {listed} (each must match or be 1)")
    return RuntimeError(f"{op}: shapes {' and '.join(shape_str(s) for s in shapes)} cannot be "
                        "broadcast")


def xp_of_operands(ad, bd):
    """The array module of a binary op's operands: of whichever is an array (the other may be
    a number, or a NumPy scalar standing for one)."""
    xp = _MODULE_OF_TYPE.get(type(ad))
    return xp if xp is not None else xp_of(bd)


def result_kind(ad, bd) -> str:
    """The dtype kind ('b', 'i', 'u', 'f', 'V' for bfloat16) of a binary op on operands from
    `binary_operands`: those give the array the result's dtype already, so it is the array's."""
    dtype = getattr(ad, "dtype", None)
    return (dtype if dtype is not None else bd.dtype).kind


def array_shape(value):
    """The shape of an array operand, () for a number (for error messages)."""
    return getattr(value, "shape", ())


def scalar_value(value):
    """A NumPy scalar or single-element array as a plain Python number."""
    return value.item() if isinstance(value, (np.generic, np.ndarray)) else value


def binary_operands(op, input, other):
    """Arrays for an elementwise binary op, promoted as PyTorch promotes.

    Either side may be a Python number (at least one is a tensor). Returns the two arrays (or
    number) and the two tensors (None for a number).
    """
    ta = input if isinstance(input, Tensor) else None
    tb = other if isinstance(other, Tensor) else None
    if ta is not None and tb is not None:
        ad, bd = ta._data, tb._data
        if ad.dtype != bd.dtype:
            common = _dt.result_type(ta, tb).np
            ad = ad if ad.dtype == common else ad.astype(common)
            bd = bd if bd.dtype == common else bd.astype(common)
        if type(ad) is not type(bd) or (type(ad) is not _ndarray and ad.device != bd.device):
            check_same_device(op, ta, tb)
        return ad, bd, ta, tb
    if ta is None and tb is None:
        raise TypeError(f"{op}: expected at least one tensor, got {describe(input)} and "
                        f"{describe(other)}")
    tensor, number = (ta, other) if ta is not None else (tb, input)
    kind_of_number = type(number)
    if kind_of_number is not float and kind_of_number is not int:
        if not isinstance(number, _NUMBER_TYPES):
            raise TypeError(f"{op}: unsupported operand {describe(number)} with "
                            f"{describe(tensor)}")
        # np.bool_ promotes as a float, as in PyTorch (a Python bool does not)
        number = float(number) if isinstance(number, np.bool_) else scalar_value(number)
        kind_of_number = type(number)
    data = tensor._data
    # A Python number only changes the tensor's dtype across kinds: a float with an integer or
    # bool tensor gives the default float, an int with a bool tensor gives int64.
    if kind_of_number is float:
        kind = data.dtype.kind
        if kind == "V":  # bfloat16: a bare float would promote it to float32
            number = data.dtype.type(number)
        elif kind != "f":
            data = data.astype(_dt.result_type(tensor, number).np)
    elif kind_of_number is int and data.dtype.kind == "b":
        data = data.astype(_dt.result_type(tensor, number).np)
    if ta is not None:
        return data, number, ta, None
    return number, data, None, tb


def normalize_dims(op, dim, ndim):
    """`dim` (None, an int or a sequence) as a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        return (_wrap_dim(op, int(dim), ndim),)
    axes = tuple(sorted(_wrap_dim(op, int(d), ndim) for d in dim))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"{op}: dim {tuple(dim)} names a dimension more than once")
    return axes


wrap_dim = _wrap_dim


def float_data(t: Tensor):
    """The tensor's array, as the default float type when it is integer or bool."""
    data = t._data
    if data.dtype.kind in "biu":
        return data.astype(_dt.get_default_dtype().np)
    return data


def shape_args(op, size):
    """Sizes given as f(2, 3), f((2, 3)), f([2, 3]) or f(Size), as a tuple of ints.

    Strict, as PyTorch: each entry must be an integer (anything with __index__: NumPy ints,
    one-element integer tensors); floats and bools are refused with a TypeError. Negative
    entries are left to the caller (-1 is legal in reshape, not in zeros).
    """
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    dims = []
    for s in size:
        if type(s) is not int:  # bools (an int subclass) and everything else are checked
            index = None
            if not isinstance(s, (bool, np.bool_)) and hasattr(s, "__index__"):
                try:
                    index = s.__index__()
                except TypeError:  # a float tensor, say
                    pass
            if index is None:
                raise TypeError(f"{op}(): expected a tuple of ints as the size, but found an "
                                f"element of type {type(s).__name__} ({s!r})")
            s = index
        dims.append(s)
    return tuple(dims)
