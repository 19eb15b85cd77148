"""Tensor repr in PyTorch's style: ``tensor([[ 0.1000, -2.0000]], requires_grad=True)``."""
from __future__ import annotations

import numpy as np

from . import dtypes as _dt

_THRESHOLD = 1000  # more elements than this are summarized with "..."
_EDGE_ITEMS = 3
_LINE_WIDTH = 80


def _float_format(values: np.ndarray):
    """Choose PyTorch's float style from the finite non-zero magnitudes."""
    finite = np.abs(values[np.isfinite(values)])
    nonzero = finite[finite != 0]
    if nonzero.size == 0:
        return lambda x: _special(x) or f"{x:.0f}."
    lo, hi = float(nonzero.min()), float(nonzero.max())
    if np.all(nonzero == np.floor(nonzero)):
        if hi > 1e8:
            return lambda x: _special(x) or f"{x:.4e}"
        return lambda x: _special(x) or f"{x:.0f}."
    if hi / lo > 1000 or hi > 1e8 or lo < 1e-4:
        return lambda x: _special(x) or f"{x:.4e}"
    return lambda x: _special(x) or f"{x:.4f}"


def _special(x):
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    return None


def _body(array: np.ndarray, prefix: str) -> str:
    summarize = array.size > _THRESHOLD
    if array.dtype.kind == "b":
        formatter = {"bool": lambda x: "True" if x else "False"}
    elif array.dtype.kind in "iu":
        formatter = {"int": str}
    else:
        shown = _summary_values(array) if summarize else array
        fmt = _float_format(shown.astype(np.float64))
        formatter = {"float_kind": lambda x: fmt(float(x))}
    return np.array2string(array, separator=", ", prefix=prefix, formatter=formatter,
                           threshold=_THRESHOLD, edgeitems=_EDGE_ITEMS,
                           max_line_width=_LINE_WIDTH)


def _summary_values(array):
    """The elements that a summarized print shows (the edges of each dimension)."""
    index = tuple(np.r_[0:min(n, _EDGE_ITEMS), max(n - _EDGE_ITEMS, 0):n] for n in array.shape)
    return array[np.ix_(*index)] if array.ndim else array


def tensor_repr(t) -> str:
    data = t._data if t.is_cpu else t._data.get()
    dtype = t.dtype
    if data.dtype.kind not in "biuf":  # bfloat16 and other extension types
        data = data.astype(np.float32)
    prefix = "tensor("
    suffixes = []
    if data.size == 0 and data.shape != (0,):
        body = "[]"
        suffixes.append(f"size={tuple(data.shape)}")
    else:
        body = _body(data, prefix)
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if dtype not in (_dt.get_default_dtype(), _dt.int64, _dt.bool):
        suffixes.append(f"dtype={dtype!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffixes) + ")"
