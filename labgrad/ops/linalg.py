"""Matrix products: matmul with all of PyTorch's shape cases, and its relatives."""
from __future__ import annotations

from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import check_same_device, needs_grad, record, shape_str

_wrap = Tensor._wrap


class MmBackward0(Node):
    """Backward of matmul for any ranks; 1-D operands are treated as a row / a column."""

    def backward(self, grad):
        a, b = self.saved_tensors
        a_vec, b_vec = self.vectors
        g = grad
        if a_vec:
            g = g.unsqueeze(-2)
        if b_vec:
            g = g.unsqueeze(-1)
        grad_a = grad_b = None
        if self.next_functions[0][0] is not None:
            grad_a = matmul(g, (b.unsqueeze(-1) if b_vec else b).mT)
            if a_vec:
                grad_a = grad_a.squeeze(-2)
        if self.next_functions[1][0] is not None:
            grad_b = matmul((a.unsqueeze(0) if a_vec else a).mT, g)
            if b_vec:
                grad_b = grad_b.squeeze(-1)
        return grad_a, grad_b


def matmul(input, other):
    """Matrix product with PyTorch's (and NumPy's) rules for 1-D and batched operands."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"matmul: expected two tensors, got {type(input).__name__} and "
                        f"{type(other).__name__}")
    ad, bd = input._data, other._data
    if ad.ndim == 0 or bd.ndim == 0:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{shape_str(ad.shape)} and {shape_str(bd.shape)}")
    if type(ad) is not type(bd):
        check_same_device("matmul", input, other)
    if ad.dtype != bd.dtype:
        raise RuntimeError(f"matmul: expected both operands to have the same dtype, got "
                           f"{input.dtype.name} and {other.dtype.name}")
    inner_a = ad.shape[-1]
    inner_b = bd.shape[-2] if bd.ndim > 1 else bd.shape[0]
    if inner_a != inner_b:
        raise RuntimeError(f"matmul: {shape_str(ad.shape)} @ {shape_str(bd.shape)}: inner "
                           f"dimensions {inner_a} and {inner_b} differ")
    try:
        out = _wrap(ad @ bd)
    except ValueError:
        raise RuntimeError(f"matmul: {shape_str(ad.shape)} @ {shape_str(bd.shape)}: the batch "
                           "dimensions cannot be broadcast") from None
    if needs_grad(input, other):
        node = record(MmBackward0, (input, other), out, saved=(
            input if other._rg else None, other if input._rg else None))
        node.vectors = (ad.ndim == 1, bd.ndim == 1)
    return out


def numpy_T(input):
    """``t.T``: all dimensions reversed."""
    return input.permute(tuple(range(input.ndim - 1, -1, -1)))


def matrix_T(input):
    """``t.mT``: the last two dimensions swapped."""
    if input.ndim < 2:
        raise RuntimeError(f"mT: expected a tensor with at least 2 dimensions, got shape "
                           f"{shape_str(input.shape)}")
    return input.transpose(-2, -1)


METHODS = ("matmul",)
