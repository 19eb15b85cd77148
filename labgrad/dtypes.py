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

    __slots__ = ("name", "np", "itemsize", "category", "is_signed", "_limited")

    def __init__(self, name, np_dtype, category, is_signed, limited=False):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.category = category
        self.is_signed = is_signed
        # uint16/32/64: PyTorch stores them but promotes them with no other integer type.
        self._limited = limited

    @property
    def is_floating_point(self) -> builtins.bool:
        return self.category == _FLOAT

    @property
    def is_complex(self) -> builtins.bool:
        return False

    def to_real(self) -> dtype:
        return self

    def __repr__(self):
        return f"labgrad.{self.name}"

    def __reduce__(self):  # copy/deepcopy/pickle keep the singleton
        return (_by_name, (self.name,))


bool = dtype("bool", np.bool_, _BOOL, False)  # noqa: A001 - PyTorch's name
uint8 = dtype("uint8", np.uint8, _INT, False)
int8 = dtype("int8", np.int8, _INT, True)
int16 = dtype("int16", np.int16, _INT, True)
int32 = dtype("int32", np.int32, _INT, True)
int64 = dtype("int64", np.int64, _INT, True)
uint16 = dtype("uint16", np.uint16, _INT, False, limited=True)
uint32 = dtype("uint32", np.uint32, _INT, False, limited=True)
uint64 = dtype("uint64", np.uint64, _INT, False, limited=True)
float16 = dtype("float16", np.float16, _FLOAT, True)
float32 = dtype("float32", np.float32, _FLOAT, True)
float64 = dtype("float64", np.float64, _FLOAT, True)
bfloat16 = dtype("bfloat16", _ml_dtypes.bfloat16, _FLOAT, True) if _ml_dtypes else None

# PyTorch's aliases.
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

ALL = [d for d in (bool, uint8, int8, int16, int32, int64, uint16, uint32, uint64, float16,
                   bfloat16, float32, float64) if d is not None]
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_ALIASES = {"half": float16, "float": float32, "double": float64, "short": int16,
            "int": int32, "long": int64}


def _by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype) -> dtype:
    """The labgrad dtype of a NumPy dtype; raises TypeError for types labgrad lacks."""
    found = _BY_NP.get(np_dtype)
    if found is not None:
        return found
    try:
        found = _BY_NP.get(np.dtype(np_dtype))
    except TypeError:
        found = None
    if found is None:
        raise TypeError(f"labgrad has no dtype for NumPy's {np_dtype}; supported: "
                        + ", ".join(d.name for d in ALL))
    return found


def to_dtype(value) -> dtype:
    """A labgrad dtype from a dtype, a NumPy dtype, a name like 'float32', or a Python type
    (float is float64, int is int64, bool is bool, as in PyTorch)."""
    if isinstance(value, dtype):
        return value
    if value is builtins.float:
        return float64
    if value is builtins.int:
        return int64
    if value is builtins.bool:
        return bool
    if isinstance(value, str):
        name = value.replace("torch.", "").replace("labgrad.", "")
        found = _BY_NAME.get(name) or _ALIASES.get(name)
        if found is None:
            raise TypeError(f"unknown dtype name {value!r}; known: "
                            + ", ".join(d.name for d in ALL))
        return found
    return from_numpy_dtype(value)


# ---------------------------------------------------------------- default dtype

_default = [float32]


def get_default_dtype() -> dtype:
    return _default[0]


def set_default_dtype(d) -> None:
    """Make `d` (a floating dtype) the type of Python floats in new tensors."""
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the "
                        f"default type, not {d!r}")
    _default[0] = d


# ---------------------------------------------------------------- promotion

def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both convert to safely, as torch.promote_types."""
    if a is b:
        return a
    if a.category != b.category and (a.category == _FLOAT or b.category == _FLOAT):
        return a if a.category > b.category else b
    if a._limited or b._limited:
        raise RuntimeError(f"promote_types: promotion for uint16, uint32, uint64 types is not "
                           f"supported, attempted to promote {a.name} and {b.name}")
    if a.category != b.category:
        return a if a.category > b.category else b
    if {a, b} == {float16, bfloat16}:
        return float32
    return from_numpy_dtype(np.promote_types(a.np, b.np))


def _combine(higher, lower):
    """PyTorch's rule for letting a lower-priority operand group affect the result: only when
    it brings a higher category (bool < integer < floating)."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if lower.category > higher.category:
        return promote_types(higher, lower)
    return higher


def scalar_dtype(value) -> dtype:
    """The dtype a Python number takes part in promotion with: bool, int64, or the default
    float. NumPy scalars count as Python numbers of their kind (np.bool_ counts as a float,
    as in PyTorch)."""
    if isinstance(value, builtins.bool):
        return bool
    if isinstance(value, (builtins.int, np.integer)):
        return int64
    if isinstance(value, (builtins.float, np.floating, np.bool_)):
        return get_default_dtype()
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
