"""Tensor repr, character for character as PyTorch prints it:
``tensor([[ 0.1000, -2.0000]], requires_grad=True)``.

The rules (PyTorch's ``torch/_tensor_str.py``): one formatter per tensor picks a style from the
finite non-zero values (integers, fixed point with 4 decimals, or scientific) and a width that
every element is right-aligned to; tensors over 1000 elements show only 3 items at each edge of
each dimension; rows wrap at 80 columns.
"""
from __future__ import annotations

import math

import numpy as np

from . import dtypes as _dt


class _PrintOptions:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None  # None: choose per tensor


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """As torch.set_printoptions: a profile ('default', 'short', 'full') first, then the
    options given one by one. sci_mode=None lets each tensor choose."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; expected one of "
                             f"{sorted(_PROFILES)}")
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    return {name: getattr(PRINT_OPTS, name)
            for name in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


# ---------------------------------------------------------------- choosing a style

class _Formatter:
    """Formats every element of one tensor in a common style and width."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(str(value)))
        else:
            self._choose_float_style(flat)

    def _choose_float_style(self, flat: np.ndarray):
        shown = flat[np.isfinite(flat) & (flat != 0)]
        if shown.size == 0:
            return  # only zeros, nan and inf: "0.", "nan", "inf"
        magnitudes = np.abs(shown).astype(np.float64)
        smallest, largest = magnitudes.min(), magnitudes.max()
        precision = PRINT_OPTS.precision
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = bool(largest / smallest > 1000.0 or largest > 1.0e8
                                 or smallest < 1.0e-4)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        values = shown.tolist()
        if self.sci_mode:
            texts = [f"{v:.{precision}e}" for v in values]
        elif self.int_mode:
            # Integer-valued floats print as "3." (the dot shows the type): one column more.
            texts = [f"{v:.0f}." for v in values]
        else:
            texts = [f"{v:.{precision}f}" for v in values]
        self.max_width = max(self.max_width, max(len(t) for t in texts))

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{PRINT_OPTS.precision}f}"
        else:
            text = str(value)
        return text.rjust(self.max_width)


# ---------------------------------------------------------------- laying out the elements

def _summarized(array: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows: `edgeitems` at each end of each dimension."""
    edge = PRINT_OPTS.edgeitems
    if array.ndim == 0:
        return array
    if array.ndim == 1:
        if array.shape[0] > 2 * edge:
            return np.concatenate((array[:edge], array[-edge:]))
        return array
    if not edge:
        return array[(slice(0, 0),) * array.ndim]
    rows = range(array.shape[0])
    if array.shape[0] > 2 * edge:
        rows = list(range(edge)) + list(range(array.shape[0] - edge, array.shape[0]))
    return np.stack([_summarized(array[i]) for i in rows])


def _vector(array, indent, summarize, formatter) -> str:
    element_length = formatter.width() + 2  # with ", " between elements
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / element_length)))
    edge = PRINT_OPTS.edgeitems
    if summarize and not edge:
        items = ["..."]
    elif summarize and array.shape[0] > 2 * edge:
        items = ([formatter.format(v) for v in array[:edge].tolist()] + [" ..."]
                 + [formatter.format(v) for v in array[-edge:].tolist()])
    else:
        items = [formatter.format(v) for v in array.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(array, indent, summarize, formatter) -> str:
    if array.ndim == 0:
        return formatter.format(array.item())
    if array.ndim == 1:
        return _vector(array, indent, summarize, formatter)
    edge = PRINT_OPTS.edgeitems
    n = array.shape[0]
    if summarize and n > 2 * edge:
        parts = ([_nested(array[i], indent + 1, summarize, formatter) for i in range(edge)]
                 + ["..."]
                 + [_nested(array[i], indent + 1, summarize, formatter)
                    for i in range(n - edge, n)])
    else:
        parts = [_nested(array[i], indent + 1, summarize, formatter) for i in range(n)]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _body(array: np.ndarray, indent: int) -> str:
    if array.size == 0:
        return "[]"
    summarize = array.size > PRINT_OPTS.threshold
    if array.dtype.kind not in "biuf" or array.dtype == np.float16:
        array = array.astype(np.float32)  # bfloat16 and float16 print via float32
    formatter = _Formatter(_summarized(array) if summarize else array)
    return _nested(array, indent, summarize, formatter)


def _with_suffixes(text: str, suffixes, indent: int) -> str:
    """Append ", dtype=...", ", grad_fn=..." and the like, wrapping before one that would pass
    the line width. Widths are measured as PyTorch's text ("torch." is 2 characters shorter
    than "labgrad."), so both wrap at the same place and read the same."""
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        width = len(suffix.replace("labgrad.", "torch."))
        if last_line_len + width + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + width
        else:
            parts.append(", " + suffix)
            last_line_len += width + 2
    parts.append(")")
    return "".join(parts)


def tensor_repr(t) -> str:
    cls = type(t).__name__
    prefix = "tensor(" if cls in ("Tensor", "Parameter") else f"{cls}("
    indent = len(prefix)
    data = t._data if t.is_cpu else t._data.get()
    dtype = t.dtype
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if data.size == 0:
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if dtype is not _dt.get_default_dtype():
            suffixes.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if dtype not in (_dt.get_default_dtype(), _dt.int64, _dt.bool):
            suffixes.append(f"dtype={dtype!r}")
        body = _body(data, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)
