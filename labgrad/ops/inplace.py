"""In-place ops: compute out of place, write the values back, and take over the result's graph.

One mechanism serves every `op_` method: the tensor's memory (and so every view of it) gets
the new values, its version counter goes up (so backward notices saved tensors that changed),
and its history becomes the history of the new values.

Three details make this agree with PyTorch:

- An op whose backward needs the old values of the tensor it overwrites (``a.mul_(b)`` needs
  ``a`` for the gradient of ``b``) saved that tensor; it gets a copy of the old values instead,
  taken just before they are overwritten (PyTorch's "original self").
- New values that depend on nothing requiring grad (``zero_()``, ``fill_(0)``) still get a node,
  whose gradient for the old values is zero, so ``requires_grad`` stays True.
- On a view, the viewed (base) tensor changes too: the base's history becomes "the old base
  with these elements replaced" (PyTorch's CopySlices), and the view's history becomes "these
  elements of the new base".
"""
from __future__ import annotations

import functools

import numpy as np

from .. import dtypes as _dt
from ..autograd import grad_mode
from ..autograd.graph import (Node, _is_one_of, mark_inplace_with_grad, record,
                              take_sequence_number)
from ..tensor import Tensor, address_of
from ._util import describe, needs_grad, shape_str, xp_of


def check_inplace_allowed(op, self):
    if grad_mode.state.grad_enabled and self._rg and self.grad_fn is None:
        raise RuntimeError(
            f"{op}: a leaf tensor that requires grad ({describe(self)}) is being used in an "
            "in-place operation. Wrap the update in `with labgrad.no_grad():`, or work on a "
            "clone().")


def assign(op, self: Tensor, result: Tensor, since=None) -> Tensor:
    """Write `result` into `self` in place and make `self` carry result's autograd history.

    `since` is a sequence number taken before `result` was computed: nodes made after it that
    saved `self` get a copy of its old values (without it, only result's own node and the
    nodes made after it are checked).
    """
    target = self._data
    if result._data.shape != target.shape:
        raise RuntimeError(
            f"{op}: the result has shape {shape_str(result._data.shape)}, which does not match "
            f"the tensor's shape {shape_str(target.shape)}: an in-place op cannot change the "
            "shape of the tensor it modifies")
    if result._data.dtype != target.dtype:
        if not _dt.can_cast(result.dtype, self.dtype):
            raise RuntimeError(f"{op}: result type {result.dtype.name} can't be cast to the "
                               f"desired output type {self.dtype.name} (the tensor modified in "
                               "place keeps its dtype)")
    recording = grad_mode.state.grad_enabled and (result._rg or self._rg)
    base = self._base
    if recording:
        if since is None:
            first = result.grad_fn
            since = first._seq - 1 if first is not None else take_sequence_number()
        if base is not None and self.grad_fn is None and base._rg:
            # Made outside autograd (detach(), or a view taken under no_grad): as in PyTorch
            # it shares the version counter but is no view; the base's history stays as it is.
            self._base = base = None
        if base is not None and base._rg and base.grad_fn is None:
            raise RuntimeError(
                f"{op}: a view of a leaf tensor that requires grad ({describe(self)}) is being "
                "used in an in-place operation. Modify the leaf under `with labgrad.no_grad():`, "
                "or work on a clone().")
        if result._rg:
            _keep_old_values(self, result, since)
        else:  # the new values are constants: the old ones get a zero gradient
            record(_CONSTANT_NODES.get(op, OverwriteBackward0), (self,), result)
    try:
        target[...] = result._data
    except ValueError:
        raise RuntimeError(
            f"{op}: cannot write into {describe(self)}: several of its elements share one memory "
            "location (it was made by expand), or it is read-only. Call .clone() first.") from None
    self._bump_version()
    if recording:
        # Views of this memory whose grad_fn is older than this op get theirs remade.
        mark_inplace_with_grad(self, since)
        if base is not None:
            _rebase_view(self, base, result)
        else:
            self.grad_fn, self._output_nr, self._rg = result.grad_fn, result._output_nr, True
    return self


def inplace_method(fn, name):
    """The `name_` method: fn(self, ...) computed, then assigned into self."""
    @functools.wraps(fn)
    def method(self, *args, **kwargs):
        check_inplace_allowed(name, self)
        since = take_sequence_number()
        return assign(name, self, fn(self, *args, **kwargs), since)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"In-place form of {fn.__name__}."
    return method


# ------------------------------------------------------------------ old values that were saved

def _keep_old_values(self, result, since):
    """Give nodes made for `result` (those after `since`) that saved `self` a copy of self's
    values and history, so that overwriting self does not change what their backward reads."""
    snapshot = None
    stack = [result.grad_fn] if result.grad_fn is not None else []
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        saved = node._saved
        if saved and _is_one_of(self, saved):
            if snapshot is None:
                snapshot = _snapshot(self)
            node._saved = tuple(snapshot if item is self else item for item in saved)
        for child, _ in node.next_functions:
            if child is not None and child._seq > since:
                stack.append(child)


def _snapshot(t):
    """A copy of t's values with t's history, and a version counter of its own."""
    copy = Tensor._wrap(t._data.copy())
    copy.grad_fn, copy._output_nr, copy._rg = t.grad_fn, t._output_nr, t._rg
    copy._vc = [t._version]  # the version the node recorded, never bumped again
    return copy


# ------------------------------------------------------------------ constant new values

class OverwriteBackward0(Node):
    """New values that do not depend on the old ones: the old ones get a zero gradient."""

    def backward(self, grad):
        return Tensor._wrap(xp_of(grad._data).zeros_like(grad._data))


class ZeroBackward0(OverwriteBackward0):
    pass


class FillBackward0(OverwriteBackward0):
    pass


class CopyBackwards(OverwriteBackward0):
    pass


_CONSTANT_NODES = {"zero_": ZeroBackward0, "fill_": FillBackward0, "copy_": CopyBackwards}


# ------------------------------------------------------------------ views

class CopySlices(Node):
    """The base of a view after an in-place op on the view: the old base, with the view's
    elements replaced by the op's result. Positions are flat indices into the base."""

    def backward(self, grad):
        return _zero_at(grad, self.positions), _gather(grad, self.positions)


class AsStridedBackward0(Node):
    """A view, re-expressed as elements of its base after the base changed in place."""

    def backward(self, grad):
        return _scatter(grad, self._input_meta[0][0], self.positions)


# Three differentiable helpers on flat positions (each the other's gradient), so that
# create_graph works through in-place ops on views.

class _GatherBackward(Node):
    def backward(self, grad):
        return _scatter(grad, self._input_meta[0][0], self.positions)


class _ScatterBackward(Node):
    def backward(self, grad):
        return _gather(grad, self.positions)


class _ZeroAtBackward(Node):
    def backward(self, grad):
        return _zero_at(grad, self.positions)


def _gather(source, positions):
    """The elements of `source` at flat `positions` (shaped like positions)."""
    out = Tensor._wrap(source._data.reshape(-1)[positions])
    if needs_grad(source):
        record(_GatherBackward, (source,), out).positions = positions
    return out


def _scatter(values, shape, positions):
    """zeros(shape) with `values` at flat `positions`."""
    data = xp_of(values._data).zeros(shape, dtype=values._data.dtype)
    data.reshape(-1)[positions] = values._data
    out = Tensor._wrap(data)
    if needs_grad(values):
        record(_ScatterBackward, (values,), out).positions = positions
    return out


def _zero_at(source, positions):
    """A copy of `source` with zeros at flat `positions`."""
    data = source._data.copy()
    data.reshape(-1)[positions] = 0
    out = Tensor._wrap(data)
    if needs_grad(source):
        record(_ZeroAtBackward, (source,), out).positions = positions
    return out


def _rebase_view(view, base, result):
    """After result's values were written into `view`: base = old base with the view's
    elements replaced; view = those elements of the new base."""
    positions = view_positions(view._data, base._data)
    node = record(CopySlices, (base, result), base)  # edges to base's history before the write
    node.positions = positions
    base._output_nr = 0
    node = record(AsStridedBackward0, (base,), view)
    node.positions = positions
    view._output_nr = 0


def regenerate_view(view):
    """Make `view`'s grad_fn "these elements of the base, as the base is now"; returns it."""
    base = view._base
    node = record(AsStridedBackward0, (base,), view)
    node.positions = view_positions(view._data, base._data)
    view._output_nr = 0
    return node


def view_positions(view, base):
    """For each element of the array `view`, its flat (C-order) position in the array `base`
    whose memory it shares."""
    xp = xp_of(base)
    view_offsets = _byte_offsets(xp, view) + (address_of(view) - address_of(base))
    if base.flags.c_contiguous:
        return view_offsets // base.itemsize
    base_offsets = _byte_offsets(xp, base).reshape(-1)
    order = xp.argsort(base_offsets)
    return order[xp.searchsorted(base_offsets[order], view_offsets)]


def _byte_offsets(xp, array):
    """The byte offset of every element from the array's first element."""
    offsets = xp.zeros(array.shape, dtype=np.int64)
    for axis, (size, stride) in enumerate(zip(array.shape, array.strides)):
        shape = [1] * array.ndim
        shape[axis] = size
        offsets = offsets + (xp.arange(size, dtype=np.int64) * stride).reshape(shape)
    return offsets


# ------------------------------------------------------------------ zero_, fill_, copy_

def zero_(self):
    check_inplace_allowed("zero_", self)
    if grad_mode.state.grad_enabled and self._rg:
        return assign("zero_", self, Tensor._wrap(xp_of(self._data).zeros_like(self._data)))
    self._data[...] = 0
    self._bump_version()
    return self


def fill_(self, value):
    check_inplace_allowed("fill_", self)
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_: only supports a 0-dimension value tensor, but got "
                               f"{describe(value)}")
        if value._rg and grad_mode.state.grad_enabled:
            return assign("fill_", self, value.expand(self.shape).to(self.dtype))
        value = value.item()
    if grad_mode.state.grad_enabled and self._rg:
        return assign("fill_", self, Tensor._wrap(xp_of(self._data).full_like(self._data, value)))
    self._data[...] = value
    self._bump_version()
    return self


def copy_(self, src, non_blocking=False):
    """Copy src's values (broadcast, converted) into self; gradients flow to src."""
    check_inplace_allowed("copy_", self)
    if not isinstance(src, Tensor):
        from ..creation import tensor
        src = tensor(src)
    values = src.to(dtype=self.dtype, device=self.device)  # its own errors, unreworded
    try:
        values = values.expand(self.shape)
    except RuntimeError:
        raise RuntimeError(
            f"copy_: source of shape {shape_str(src._data.shape)} cannot be broadcast to the "
            f"tensor's shape {shape_str(self._data.shape)}") from None
    return assign("copy_", self, values)
