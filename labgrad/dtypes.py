"""labgrad's dtype objects and PyTorch's type-promotion rules.

A `dtype` names a NumPy/CuPy dtype (bfloat16 comes from ml_dtypes, when it is installed).
Promotion follows PyTorch, not NumPy: operands are ranked dimensioned tensors > zero-dim
tensors > Python scalars, and a lower rank only changes the result when it brings a higher
category (bool < integer < floating).
"""
from __future__ import annotations

import builtins

import numpy as np

try:  # bfloat16 is optional: NumPy alone has no such type.
    import ml_dtypes as _ml_dtypes
except ImportError:  # pragma: no cover - exercised where ml_dtypes is absent
    _ml_dtypes = None

_BOOL, _INT, _FLOAT = 0, 1, 2


class dtype:
    """A tensor element type, e.g. ``labgrad.float32``."""

    __slots__ = ("name", "np", "itemsize", "category", "is_signed")

    def __init__(self, name, np_dtype, category, is_signed):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.category = category
        self.is_signed = is_signed

    @property
    def is_floating_point(self):
        return self.category == _FLOAT

    @property
    def is_complex(self):
        return False

    def __repr__(self):
        return f"labgrad.{self.name}"

    def __reduce__(self):  # copy/deepcopy keep the singleton
        return (_by_name, (self.name,))


bool = dtype("bool", np.bool_, _BOOL, False)  # noqa: A001 - PyTorch's name
uint8 = dtype("uint8", np.uint8, _INT, False)
int8 = dtype("int8", np.int8, _INT, True)
int16 = dtype("int16", np.int16, _INT, True)
int32 = dtype("int32", np.int32, _INT, True)
int64 = dtype("int64", np.int64, _INT, True)
float16 = dtype("float16", np.float16, _FLOAT, True)
float32 = dtype("float32", np.float32, _FLOAT, True)
float64 = dtype("float64", np.float64, _FLOAT, True)
bfloat16 = dtype("bfloat16", _ml_dtypes.bfloat16, _FLOAT, True) if _ml_dtypes else None

# PyTorch's aliases.
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

ALL = [d for d in (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64) if d]
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}


def _by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    """The labgrad dtype of a NumPy dtype; raises TypeError for types labgrad lacks."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        pass
    np_dtype = np.dtype(np_dtype)
    if np_dtype in _BY_NP:
        return _BY_NP[np_dtype]
    if np_dtype.kind in "ui":  # uint16/32/64: PyTorch keeps them rare; widen like it does
        return int64
    raise TypeError(f"labgrad has no dtype for NumPy's {np_dtype}; supported: "
                    + ", ".join(d.name for d in ALL))


def to_dtype(value) -> dtype:
    """Accept a labgrad dtype, a NumPy dtype, a Python type or a name like 'float32'."""
    if isinstance(value, dtype):
        return value
    if value is builtins.float:
        return get_default_dtype()
    if isinstance(value, str):
        if value in _BY_NAME:
            return _BY_NAME[value]
        value = value.replace("torch.", "").replace("labgrad.", "")
        if value in _BY_NAME:
            return _BY_NAME[value]
        if value in _ALIASES:
            return _ALIASES[value]
    if value is builtins.int:
        return int64
    if value is builtins.bool:
        return bool
    return from_numpy_dtype(value)


_ALIASES = {"half": float16, "float": float32, "double": float64, "short": int16,
            "int": int32, "long": int64}

# ---------------------------------------------------------------- default dtype

_default = [float32]


def get_default_dtype() -> dtype:
    return _default[0]


def set_default_dtype(d) -> None:
    d = to_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point types can be the default, not {d}")
    _default[0] = d


# ---------------------------------------------------------------- promotion

def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both convert to safely, as torch.promote_types."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == _FLOAT and {a, b} == {float16, bfloat16}:
        return float32
    return from_numpy_dtype(np.promote_types(a.np, b.np))


def _combine(higher, lower):
    """PyTorch's rule for letting a lower-priority operand group affect the result."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == _FLOAT:
        return higher
    if higher is bool or lower.category == _FLOAT:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value) -> dtype:
    """The dtype a Python scalar takes part in promotion with."""
    if isinstance(value, builtins.bool):
        return bool
    if isinstance(value, builtins.int):
        return int64
    if isinstance(value, builtins.float):
        return get_default_dtype()
    if isinstance(value, np.generic):
        return from_numpy_dtype(value.dtype)
    raise TypeError(f"expected a number, got {type(value).__name__}")


def result_type(*operands) -> dtype:
    """torch.result_type over tensors and Python scalars."""
    dim = zero = scalar = None
    for x in operands:
        if hasattr(x, "_data"):  # a Tensor (dtypes must not import the tensor module)
            d = from_numpy_dtype(x._data.dtype)
            if x._data.ndim:
                dim = d if dim is None else promote_types(dim, d)
            else:
                zero = d if zero is None else promote_types(zero, d)
        else:
            d = scalar_dtype(x)
            scalar = d if scalar is None else promote_types(scalar, d)
    return _combine(dim, _combine(zero, scalar))


def can_cast(from_: dtype, to: dtype) -> builtins.bool:
    """torch.can_cast: casting never lowers the category (float -> int is refused)."""
    return from_.category <= to.category
