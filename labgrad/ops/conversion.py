"""Changing a tensor's dtype or device, and copying it; gradients flow back across both."""
from __future__ import annotations

from .. import backend
from ..creation import cast_array
from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import needs_grad, record

_wrap = Tensor._wrap


class ToCopyBackward0(Node):
    def backward(self, grad):
        return convert(grad, self.dtype, self.device, False)


def convert(input: Tensor, dtype=None, device=None, copy=False) -> Tensor:
    """`input` as `dtype` on `device` (either None to keep it); the same tensor when nothing
    changes and copy is False."""
    data = input._data
    moves = device is not None and device != input.device
    recasts = dtype is not None and dtype.np != data.dtype
    if not moves and not recasts:
        if not copy:
            return input
        out = _wrap(input._data.copy())
        if needs_grad(input):  # PyTorch records a copying .to() as ToCopyBackward0
            node = record(ToCopyBackward0, (input,), out)
            node.dtype, node.device = None, None
        return out
    old_dtype, old_device = input.dtype, input.device
    if moves:
        data = backend.to_device(data, device)
    if recasts:
        data = cast_array(data, dtype)
    out = _wrap(data)
    if needs_grad(input) and out.dtype.is_floating_point:
        node = record(ToCopyBackward0, (input,), out)
        node.dtype, node.device = old_dtype, old_device
    return out


class CloneBackward0(Node):
    def backward(self, grad):
        return grad


def clone(input: Tensor, *, memory_format=None) -> Tensor:
    out = _wrap(input._data.copy())
    if needs_grad(input):
        record(CloneBackward0, (input,), out)
    return out


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    if input._data.flags.c_contiguous:
        return input
    return clone(input)


METHODS = ("clone", "contiguous")
