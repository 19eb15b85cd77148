"""Normalization, as torch.nn.functional: batch_norm, layer_norm, group_norm, instance_norm,
rms_norm and local_response_norm.

batch, layer and instance norm share one op: standardize the input over some axes (subtract
the mean, divide by sqrt(biased variance + eps)), then scale and shift by weight and bias
broadcast along the other axes. It is one node with a hand-written backward rather than a
chain of mean/var/arithmetic nodes: on a (2048, 256) layer norm the composite forward and
backward took ~9x PyTorch's time, the fused node ~2-3x. The backward is written with labgrad
ops, and recomputes the statistics with differentiable ops when create_graph=True, so
higher-order gradients work.
"""
from __future__ import annotations

import math
import numbers

from ...autograd import grad_mode
from ...autograd.graph import Node, record
from ...backend import xp_of
from ...tensor import Tensor
from ...ops._util import check_same_device, describe, shape_str

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm",
           "local_response_norm"]

_wrap = Tensor._wrap
_state = grad_mode.state


# ------------------------------------------------------------------ the shared op

class _StandardizeBackward(Node):
    """Gradients of y = xhat * weight + bias, xhat = (x - mean) * rstd over `axes`.

    Set on the node: axes (reduced for the statistics), view (the shape weight and bias are
    broadcast in), eps. Saved: input, weight, and the mean and rstd arrays of the forward.
    A plain backward computes on arrays, in place where it can (the fused kernel PyTorch has
    is out of NumPy's reach; this halves the time of the same formula as labgrad ops); with
    create_graph the formula runs as labgrad ops on statistics recomputed from x.
    """

    def backward(self, grad):
        x, weight, mean, rstd = self.saved_tensors
        if not _state.grad_enabled:
            return self._array_grads(grad._data, x._data, weight, mean, rstd)
        axes, view = self.axes, self.view
        need_x, need_weight, need_bias = self.needs_input_grad
        mean = x.mean(axes, keepdim=True)
        centered = x - mean
        rstd = ((centered * centered).mean(axes, keepdim=True) + self.eps).rsqrt()
        xhat = centered * rstd
        grad_x = grad_weight = grad_bias = None
        if need_weight:
            grad_weight = _sum_to(grad * xhat, view).reshape(weight.shape)
        if need_bias:
            grad_bias = _sum_to(grad, view).reshape(self._input_meta[2][0])
        if need_x:
            g = grad if weight is None else grad * weight.reshape(view)
            grad_x = rstd * (g - g.mean(axes, keepdim=True)
                             - xhat * (g * xhat).mean(axes, keepdim=True))
        return grad_x, grad_weight, grad_bias

    def _array_grads(self, grad, x, weight, mean, rstd):
        """The same gradients as backward's labgrad-op formula, on arrays."""
        axes, view = self.axes, self.view
        need_x, need_weight, need_bias = self.needs_input_grad
        xp = xp_of(x)
        xhat = x - mean
        xhat *= rstd
        grad_x = grad_weight = grad_bias = None
        if need_weight:
            grad_weight = _wrap(_array_sum_to(xp, grad, xhat, view).reshape(weight.shape))
        if need_bias:
            grad_bias = _wrap(_array_sum_to(xp, grad, None, view)
                              .reshape(self._input_meta[2][0]))
        if need_x:
            g = grad if weight is None else grad * weight._data.reshape(view)
            a = g.mean(axis=axes, keepdims=True)
            b = _mean_of_products(xp, g, xhat, axes)
            out = g - a
            xhat *= b
            out -= xhat
            out *= rstd
            grad_x = _wrap(out)
        return grad_x, grad_weight, grad_bias


def _array_sum_to(xp, a, b, view):
    """a (times b, when given) summed over every axis where `view` was broadcast (kept)."""
    lead = a.ndim - len(view)
    if a.shape[lead:] == tuple(view):  # layer norm: only the leading axes are reduced
        rows_a = a.reshape(-1, math.prod(view))
        if b is None:
            return rows_a.sum(axis=0)
        return xp.einsum("ij,ij->j", rows_a, b.reshape(rows_a.shape))
    product = a if b is None else a * b
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(view) if n == 1)
    return product.sum(axis=axes, keepdims=True)


class NativeLayerNormBackward0(_StandardizeBackward):
    pass


class NativeBatchNormBackward0(_StandardizeBackward):
    pass


def _sum_to(t, view):
    """t summed over every axis where a tensor of shape `view` was broadcast."""
    lead = t.ndim - len(view)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(view) if n == 1
                                      and t.shape[lead + i] != 1)
    return t.sum(axes, keepdim=True) if axes else t


def _standardize(node_cls, input, axes, weight, bias, view, eps, mean=None, var=None):
    """(x - mean) / sqrt(var + eps) * weight + bias, with weight and bias reshaped to `view`.

    mean and var (arrays with the reduced axes kept) are computed over `axes` unless given.
    Returns the output and the batch statistics (mean, biased var) as arrays.
    """
    x = input._data
    xp = xp_of(x)
    if mean is None:
        mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    if var is None:
        var = _mean_of_squares(xp, centered, axes)
    rstd = 1.0 / xp.sqrt(var + eps)
    y = centered
    y *= rstd
    if weight is not None:
        y *= weight._data.reshape(view)
    if bias is not None:
        y += bias._data.reshape(view)
    out = _wrap(y)
    if _state.grad_enabled and (input._rg or _rg(weight) or _rg(bias)):
        node = record(node_cls, (input, weight, bias), out, saved=(input, weight, mean, rstd))
        node.axes, node.view, node.eps = axes, view, eps
    return out, mean, var


def _mean_of_squares(xp, centered, axes):
    return _mean_of_products(xp, centered, centered, axes)


def _mean_of_products(xp, a, b, axes):
    """The mean of a * b over `axes` (kept); where those are the trailing axes (layer norm)
    an einsum row dot product, which makes no full-size temporary."""
    nd, k = a.ndim, len(axes)
    if axes != tuple(range(nd - k, nd)):
        return (a * b).mean(axis=axes, keepdims=True)
    size = math.prod(a.shape[nd - k:])
    dots = xp.einsum("ij,ij->i", a.reshape(-1, size), b.reshape(-1, size))
    return (dots / a.dtype.type(size)).reshape(a.shape[:nd - k] + (1,) * k)


def _rg(t):
    return t is not None and t._rg


def _check_tensors(op, input, **named):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a tensor, got {describe(input)}")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, got {describe(input)}; "
                           "convert it with .float()")
    for name, t in named.items():
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a tensor or None, got {describe(t)}")
        if t is not None and t.dtype != input.dtype:
            raise RuntimeError(f"{op}: {name} ({describe(t)}) must have the input's dtype "
                               f"{input.dtype.name}")
    check_same_device(op, input, *named.values())


def _check_param(op, name, t, shape):
    if t is not None and t.numel() != math.prod(shape):
        raise RuntimeError(f"{op}: expected {name} with {math.prod(shape)} elements "
                           f"(shape {shape_str(shape)}), got shape {shape_str(t.shape)}")


# ------------------------------------------------------------------ layer norm

def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Standardize over the last len(normalized_shape) dims, then scale and shift."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(n) for n in normalized_shape)
    _check_tensors("layer_norm", input, weight=weight, bias=bias)
    k = len(normalized_shape)
    if k == 0 or tuple(input.shape[input.ndim - k:]) != normalized_shape or input.ndim < k:
        raise RuntimeError(
            f"layer_norm: input of shape {shape_str(input.shape)} does not end with "
            f"normalized_shape {shape_str(normalized_shape)}; the last {k} dimension(s) of "
            "the input must equal normalized_shape")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(f"layer_norm: {name} of shape {shape_str(t.shape)} must have "
                               f"normalized_shape {shape_str(normalized_shape)}")
    axes = tuple(range(input.ndim - k, input.ndim))
    return _standardize(NativeLayerNormBackward0, input, axes, weight, bias, normalized_shape,
                        eps)[0]


# ------------------------------------------------------------------ batch norm

def _channel_view(input):
    """The shape per-channel parameters take to broadcast over (N, C, *): (C, 1, ..., 1)."""
    return (input.shape[1],) + (1,) * (input.ndim - 2)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) of (N, C, *) input.

    training=True uses the batch's statistics and, where running_mean/running_var are
    given, updates them in place: running = (1 - momentum) * running + momentum * batch,
    with the unbiased variance for running_var. training=False uses the running statistics.
    """
    _check_tensors("batch_norm", input, weight=weight, bias=bias)
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, *) with at least 2 "
                         f"dimensions, got {shape_str(input.shape)}")
    channels = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        _check_param("batch_norm", name, t, (channels,))
    view = _channel_view(input)
    axes = (0,) + tuple(range(2, input.ndim))
    if training:
        count = input.numel() // max(channels, 1)
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when "
                             f"training, got input size {shape_str(input.shape)}")
        out, mean, var = _standardize(NativeBatchNormBackward0, input, axes, weight, bias,
                                      view, eps)
        _update_running(running_mean, running_var, mean, var, count, momentum)
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be given when "
                           "training=False (or pass training=True to use batch statistics)")
    return _affine_with_stats(input, running_mean, running_var, weight, bias, view, eps)


def _update_running(running_mean, running_var, mean, var, count, momentum):
    """running = (1 - momentum) * running + momentum * batch statistic, in place and
    without recording (the unbiased variance for running_var, as PyTorch)."""
    if running_mean is not None:
        batch = mean.reshape(running_mean.shape).astype(running_mean._data.dtype, copy=False)
        running_mean._data *= 1 - momentum
        running_mean._data += momentum * batch
        running_mean._bump_version()
    if running_var is not None:
        unbiased = var.reshape(running_var.shape) * (count / max(count - 1, 1))
        running_var._data *= 1 - momentum
        running_var._data += momentum * unbiased.astype(running_var._data.dtype, copy=False)
        running_var._bump_version()


def _affine_with_stats(input, mean, var, weight, bias, view, eps):
    """(x - mean) * rsqrt(var + eps) * weight + bias with fixed statistics: one scale and one
    shift per channel, so the input is touched twice (differentiable in input, weight and
    bias through labgrad ops)."""
    scale = (var.detach() + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -mean.detach() * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(view) + shift.reshape(view)


# ------------------------------------------------------------------ instance and group norm

def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalize each channel of each sample of (N, C, *) input over its spatial dims.

    With use_input_stats, running_mean/running_var (per channel) are updated with the
    instances' statistics averaged over the batch; otherwise they are used instead.
    """
    _check_tensors("instance_norm", input, weight=weight, bias=bias)
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, L, ...) with at "
                         f"least 3 dimensions, got {shape_str(input.shape)}")
    channels = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        _check_param("instance_norm", name, t, (channels,))
    view = _channel_view(input)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("instance_norm: running_mean and running_var must be given "
                               "when use_input_stats=False")
        return _affine_with_stats(input, running_mean, running_var, weight, bias, view, eps)
    spatial = math.prod(input.shape[2:])
    if spatial <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when "
                         f"training, got input size {shape_str(input.shape)}")
    axes = tuple(range(2, input.ndim))
    out, mean, var = _standardize(NativeBatchNormBackward0, input, axes, weight, bias, view,
                                  eps)
    if running_mean is not None or running_var is not None:
        _update_running(running_mean, running_var, mean.mean(axis=0), var.mean(axis=0),
                        spatial, momentum)
    return out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the C channels of (N, C, *) input into num_groups groups and standardize each
    group of each sample; then scale and shift per channel."""
    _check_tensors("group_norm", input, weight=weight, bias=bias)
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: expected an input of shape (N, C, *), got "
                           f"{shape_str(input.shape)}")
    n, channels = input.shape[0], input.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise RuntimeError(f"group_norm: the {channels} channels of input "
                           f"{shape_str(input.shape)} cannot be split into {num_groups} groups; "
                           "num_groups must divide the number of channels")
    for name, t in (("weight", weight), ("bias", bias)):
        _check_param("group_norm", name, t, (channels,))
    grouped = input.reshape(n, num_groups, -1)
    out = _standardize(NativeBatchNormBackward0, grouped, (2,), None, None, (1,), eps)[0]
    out = out.reshape(input.shape)
    view = _channel_view(input)
    if weight is not None:
        out = out * weight.reshape(view)
    if bias is not None:
        out = out + bias.reshape(view)
    return out


# ------------------------------------------------------------------ rms norm, lrn

def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x**2) + eps) * weight over the last len(normalized_shape) dims;
    eps=None means the input dtype's machine epsilon."""
    if isinstance(normalized_shape, numbers.Integral):
        normalized_shape = (normalized_shape,)
    normalized_shape = tuple(int(n) for n in normalized_shape)
    _check_tensors("rms_norm", input, weight=weight)
    k = len(normalized_shape)
    if tuple(input.shape[input.ndim - k:]) != normalized_shape or input.ndim < k:
        raise RuntimeError(
            f"rms_norm: input of shape {shape_str(input.shape)} does not end with "
            f"normalized_shape {shape_str(normalized_shape)}")
    if weight is not None and tuple(weight.shape) != normalized_shape:
        raise RuntimeError(f"rms_norm: weight of shape {shape_str(weight.shape)} must have "
                           f"normalized_shape {shape_str(normalized_shape)}")
    if eps is None:
        eps = float(xp_of(input._data).finfo(input._data.dtype).eps)
    axes = tuple(range(input.ndim - k, input.ndim))
    out = input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt()
    return out if weight is None else out * weight


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divide each element by (k + alpha/size * sum of squares over `size` neighbouring
    channels) ** beta, over dim 1 of (N, C, *) input."""
    if not isinstance(input, Tensor):
        raise TypeError(f"local_response_norm: input must be a tensor, got {describe(input)}")
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected 3D or higher dimensionality input "
                         f"(got {input.ndim} dimensions)")
    if input.numel() == 0:
        return input
    from ...ops.joining import cat
    squares = input * input
    channels = input.shape[1]
    # zero-pad the channel axis by size//2 before and (size-1)//2 after, as PyTorch does
    pad_shape = list(input.shape)
    front, back = size // 2, (size - 1) // 2
    parts = []
    if front:
        pad_shape[1] = front
        parts.append(squares.new_zeros(tuple(pad_shape)))
    parts.append(squares)
    if back:
        pad_shape[1] = back
        parts.append(squares.new_zeros(tuple(pad_shape)))
    padded = cat(parts, 1) if len(parts) > 1 else squares
    total = padded.narrow(1, 0, channels)
    for offset in range(1, size):
        total = total + padded.narrow(1, offset, channels)
    div = (total * (alpha / size) + k) ** beta
    return input / div
