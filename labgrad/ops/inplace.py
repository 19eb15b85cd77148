"""In-place ops: compute out of place, write the values back, and take over the result's graph.

One mechanism serves every `op_` method: the tensor's memory (and so every view of it) gets
the new values, its version counter goes up (so backward notices saved tensors that changed),
and its history becomes the history of the new values.
"""
from __future__ import annotations

import functools

from .. import dtypes as _dt
from ..autograd import grad_mode
from ..tensor import Tensor
from ._util import describe, shape_str


def check_inplace_allowed(op, self):
    if grad_mode.state.grad_enabled and self._rg and self.grad_fn is None:
        raise RuntimeError(
            f"{op}: a leaf tensor that requires grad ({describe(self)}) is being used in an "
            "in-place operation. Wrap the update in `with labgrad.no_grad():`, or work on a "
            "clone().")


def assign(op, self: Tensor, result: Tensor) -> Tensor:
    """Write `result` into `self` in place and make `self` carry result's autograd history."""
    target = self._data
    if result._data.shape != target.shape:
        raise RuntimeError(
            f"{op}: the result has shape {shape_str(result._data.shape)}, which does not match "
            f"the tensor's shape {shape_str(target.shape)}: an in-place op cannot change the "
            "shape of the tensor it modifies")
    if result._data.dtype != target.dtype:
        if not _dt.can_cast(result.dtype, self.dtype):
            raise RuntimeError(f"{op}: result type {result.dtype.name} can't be cast to the "
                               f"tensor's type {self.dtype.name} in place")
    if result._rg and grad_mode.state.grad_enabled and self._base is not None:
        raise RuntimeError(
            f"{op}: in-place ops that record a gradient on a view ({describe(self)}) are not "
            "supported yet: they would change the viewed tensor behind its graph. Apply the op "
            "out of place, or clone() the view first.")
    try:
        target[...] = result._data
    except ValueError:
        raise RuntimeError(
            f"{op}: cannot write into {describe(self)}: several of its elements share one memory "
            "location (it was made by expand). Call .clone() first.") from None
    self._bump_version()
    if grad_mode.state.grad_enabled:
        if result._rg:
            self.grad_fn, self._output_nr, self._rg = result.grad_fn, result._output_nr, True
        elif self._rg:  # the new values depend on nothing that requires grad
            self.grad_fn, self._output_nr, self._rg = None, 0, False
    return self


def inplace_method(fn, name):
    """The `name_` method: fn(self, ...) computed, then assigned into self."""
    @functools.wraps(fn)
    def method(self, *args, **kwargs):
        check_inplace_allowed(name, self)
        return assign(name, self, fn(self, *args, **kwargs))
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place form of {fn.__name__}."
    return method


def zero_(self):
    check_inplace_allowed("zero_", self)
    self._data[...] = 0
    self._bump_version()
    return self


def fill_(self, value):
    check_inplace_allowed("fill_", self)
    if isinstance(value, Tensor):
        if value._rg and grad_mode.state.grad_enabled:
            return assign("fill_", self, value.expand(self.shape).to(self.dtype))
        value = value.item()
    self._data[...] = value
    self._bump_version()
    return self


def copy_(self, src, non_blocking=False):
    """Copy src's values (broadcast, converted) into self; gradients flow to src."""
    check_inplace_allowed("copy_", self)
    if not isinstance(src, Tensor):
        from ..creation import tensor
        src = tensor(src)
    try:
        values = src.to(dtype=self.dtype, device=self.device).expand(self.shape)
    except RuntimeError:
        raise RuntimeError(f"copy_: source of shape {shape_str(src._data.shape)} cannot be "
                           f"broadcast to the tensor's shape {shape_str(self._data.shape)}") from None
    return assign("copy_", self, values)
