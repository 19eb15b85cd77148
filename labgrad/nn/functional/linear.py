"""Affine maps, as torch.nn.functional: linear (x W^T + b) and bilinear (x1^T A x2 + b).

linear is on the hot path of every model, so it is one op with its own node rather than a
transpose, a matmul and an add: the forward is a single matrix product over the flattened
leading dims plus an in-place bias add, and the backward is two matrix products and a sum,
written with labgrad ops so that create_graph=True gives higher-order gradients.
"""
from __future__ import annotations

import math

from ...autograd import grad_mode
from ...autograd.graph import Node, record
from ...ops.einsum import einsum
from ...ops.linalg import matmul
from ...tensor import Tensor
from ...ops._util import check_same_device, describe, shape_str

__all__ = ["linear", "bilinear"]

_wrap = Tensor._wrap
_state = grad_mode.state


class LinearBackward0(Node):
    """Gradients of y = x W^T + b, with x flattened to rows (n, in) and y to (n, out)."""

    def backward(self, grad):
        input, weight = self.saved_tensors
        need_input, need_weight, need_bias = self.needs_input_grad
        out_features, in_features = weight.shape
        rows = grad.reshape(-1, out_features)
        grad_input = grad_weight = grad_bias = None
        if need_input:
            grad_input = matmul(rows, weight).reshape(input.shape)
        if need_weight:
            grad_weight = matmul(rows.t(), input.reshape(-1, in_features))
        if need_bias:
            grad_bias = rows.sum(0)
        return grad_input, grad_weight, grad_bias


def _check(op, input, weight, bias):
    """Raise, naming `op` and the shapes, unless the operands fit y = x W^T + b."""
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a tensor, got {describe(t)}")
    if input.ndim == 0:
        raise RuntimeError(f"{op}: input must have at least 1 dimension (the features), got "
                           "a 0-d tensor")
    if weight.ndim != 2:
        raise RuntimeError(f"{op}: weight must be 2-D (out_features, in_features), got shape "
                           f"{shape_str(weight.shape)}")
    if input.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"{op}: input of shape {shape_str(input.shape)} has {input.shape[-1]} features in "
            f"its last dimension, but weight of shape {shape_str(weight.shape)} expects "
            f"{weight.shape[1]} (in_features); reshape the input or fix the layer's in_features")
    if bias is not None and tuple(bias.shape) not in ((weight.shape[0],), (), (1,)):
        raise RuntimeError(f"{op}: bias of shape {shape_str(bias.shape)} does not match "
                           f"out_features={weight.shape[0]} of weight {shape_str(weight.shape)}")
    dtypes = {t.dtype for t in (input, weight, bias) if t is not None}
    if len(dtypes) > 1:
        listed = ", ".join(describe(t) for t in (input, weight, bias) if t is not None)
        raise RuntimeError(f"{op}: input, weight and bias must have the same dtype, got "
                           f"{listed}; convert the input with .to(weight.dtype)")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected floating point tensors, got {describe(input)}")
    check_same_device(op, input, weight, bias)


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias over the last dim of input (any number of leading dims).

    input (*, in_features), weight (out_features, in_features), bias (out_features,).
    """
    return _linear(input, weight, bias, "linear")


def _linear(input, weight, bias, op):
    """linear, with errors that name `op` (a name, or the layer calling it)."""
    x, w = getattr(input, "_data", None), getattr(weight, "_data", None)
    if not _fits(x, w, bias):
        if not isinstance(op, str):
            op = f"{type(op).__name__}({op.extra_repr()})"
        _check(op, input, weight, bias)
    lead = x.shape[:-1]
    rows = x.reshape(math.prod(lead), x.shape[-1]) if x.ndim != 2 else x
    y = rows @ w.T
    if bias is not None:
        y += bias._data
    out = _wrap(y.reshape(lead + (w.shape[0],)) if x.ndim != 2 else y)
    if _state.grad_enabled and (input._rg or weight._rg or (bias is not None and bias._rg)):
        record(LinearBackward0, (input, weight, bias), out, saved=(input, weight))
    return out


def _fits(x, w, bias):
    """True when the arrays of input, weight and bias are ready for the product as they are
    (the common case, tested cheaply before the full checks that name what is wrong)."""
    if x is None or w is None or x.ndim == 0 or w.ndim != 2 or x.shape[-1] != w.shape[1]:
        return False
    if x.dtype != w.dtype or type(x) is not type(w) or x.dtype.kind != "f":
        return False
    if bias is None:
        return True
    b = getattr(bias, "_data", None)
    return b is not None and b.dtype == w.dtype and type(b) is type(w) \
        and b.shape == (w.shape[0],)


def bilinear(input1, input2, weight, bias=None):
    """y_k = input1^T weight[k] input2 + bias[k] over the last dims.

    input1 (*, in1_features), input2 (*, in2_features) with the same leading dims,
    weight (out_features, in1_features, in2_features), bias (out_features,).
    """
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"bilinear: {name} must be a tensor, got {describe(t)}")
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear: weight must be 3-D (out_features, in1_features, "
                           f"in2_features), got shape {shape_str(weight.shape)}")
    if input1.ndim == 0 or input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear: input1 {shape_str(input1.shape)} and input2 "
                           f"{shape_str(input2.shape)} must have the same leading dimensions")
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(
            f"bilinear: input1 {shape_str(input1.shape)} and input2 {shape_str(input2.shape)} "
            f"do not fit weight {shape_str(weight.shape)}: expected last dimensions "
            f"{weight.shape[1]} and {weight.shape[2]}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(f"bilinear: bias of shape {shape_str(bias.shape)} does not match "
                           f"out_features={weight.shape[0]}")
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias
