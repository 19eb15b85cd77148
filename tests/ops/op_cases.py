"""The op table: one OpCase row per op drives every op test.

A row's `fn(lib, *inputs)` is written once and run with lib = labgrad and lib = torch, so the
same line checks labgrad against PyTorch. Inputs are made from NumPy arrays: floating arrays
become tensors that require grad, integer and bool arrays become plain tensors.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class OpCase:
    name: str
    fn: Callable  # fn(lib, *inputs) -> tensor or tuple of tensors
    shapes: tuple = ((3, 4),)  # shapes of random normal inputs (ignored when `make` is given)
    make: Callable | None = None  # make(rng) -> list of NumPy arrays, for special inputs
    domain: str = "real"  # "real", "positive", "unit" (-0.9..0.9), "nonzero", "away" (|x|>0.2)
    ref: Callable | None = None  # ref(np, *arrays) -> array: a NumPy reference for the forward
    grad: bool = True  # differentiable: gradcheck and gradient comparison with PyTorch
    gradgrad: bool = True  # also check second derivatives
    torch: bool = True  # compare with PyTorch where it is installed
    atol: float = 1e-5
    rtol: float = 1e-4
    id: str = field(default="")

    def __post_init__(self):
        self.id = self.id or self.name

    def arrays(self, seed=0):
        rng = np.random.default_rng(seed)
        if self.make is not None:
            return [np.asarray(a) for a in self.make(rng)]
        return [_draw(rng, shape, self.domain) for shape in self.shapes]


def _draw(rng, shape, domain):
    x = rng.standard_normal(shape)
    if domain == "positive":
        return np.abs(x) + 0.5
    if domain == "unit":
        return np.tanh(x) * 0.9
    if domain == "nonzero":
        return np.where(np.abs(x) < 0.3, 0.3 + np.abs(x), x)
    if domain == "away":  # keep clear of kinks at 0 and of integer points for rounding ops
        return np.sign(x) * (np.abs(x) + 0.2) + 0.01
    return x


def to_lib(lib, arrays, dtype_name="float64", requires_grad=True):
    """Tensors of `lib` (labgrad or torch) from arrays; floats in `dtype_name`."""
    dtype = getattr(lib, dtype_name)
    out = []
    for a in arrays:
        if a.dtype.kind == "f":
            out.append(lib.tensor(a, dtype=dtype, requires_grad=requires_grad))
        else:
            out.append(lib.tensor(a))
    return out


def as_tuple(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)
