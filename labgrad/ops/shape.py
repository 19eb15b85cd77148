"""Shape ops. Those PyTorch documents as views share memory and the version counter with
their input (``_as_view_of``); the rest copy."""
from __future__ import annotations

import numpy as np

from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import needs_grad, record, shape_args, wrap_dim, xp_of

_wrap = Tensor._wrap


def _view(input, data, node_cls, **attrs):
    """A view of `input` holding `data`, recorded as `node_cls` when grad is needed."""
    out = _wrap(data)._as_view_of(input)
    if needs_grad(input):
        node = record(node_cls, (input,), out)
        node.__dict__.update(attrs)
    return out


def _infer_shape(op, shape, numel):
    """Resolve one -1 in `shape`, or explain why `shape` cannot hold `numel` elements."""
    shape = list(shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got {tuple(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"{op}: invalid shape dimension {s} in {tuple(shape)}")
            known *= s
    if unknown:
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape {tuple(shape)} is invalid for input of size {numel}")
        shape[unknown[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"{op}: shape {tuple(shape)} is invalid for input of size {numel}")
    return tuple(shape)


class ViewBackward0(Node):
    def backward(self, grad):
        return grad.reshape(self._input_meta[0][0])


class ReshapeAliasBackward0(ViewBackward0):
    pass


class UnsafeViewBackward0(ViewBackward0):
    pass


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
        return input.to(shape[0])  # view(dtype): reinterpretation is not supported; convert
    data = input._data
    shape = _infer_shape("view", shape_args("view", shape), data.size)
    try:
        viewed = _reshape_no_copy(data, shape)
    except ValueError:
        raise RuntimeError(
            f"view: shape {shape} is not compatible with the input's shape {data.shape} and "
            "strides (the input is not contiguous in the needed way). Use .reshape(...) "
            "instead.") from None
    return _view(input, viewed, ViewBackward0)


def _reshape_no_copy(data, shape):
    try:
        return xp_of(data).reshape(data, shape, copy=False)
    except TypeError:  # array modules without the copy argument
        out = data.view()
        out.shape = shape
        return out


def reshape(input, *shape):
    data = input._data
    shape = _infer_shape("reshape", shape_args("reshape", shape), data.size)
    if shape == data.shape:
        return _view(input, data.view(), ViewBackward0)
    try:
        return _view(input, _reshape_no_copy(data, shape), ViewBackward0)
    except (ValueError, AttributeError):
        out = _wrap(data.reshape(shape))  # a copy: not a view
        if needs_grad(input):
            record(UnsafeViewBackward0, (input,), out)
        return out


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


class ExpandBackward0(Node):
    def backward(self, grad):
        return grad.sum_to_size(self._input_meta[0][0])


def expand(input, *sizes):
    sizes = shape_args("expand", sizes)
    data = input._data
    if len(sizes) < data.ndim:
        raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least the "
                           f"tensor's number of dimensions ({data.ndim}), shape {data.shape}")
    lead = len(sizes) - data.ndim
    target = []
    for i, s in enumerate(sizes):
        current = data.shape[i - lead] if i >= lead else None
        if s == -1:
            if current is None:
                raise RuntimeError(f"expand: -1 is not allowed in a new leading dimension "
                                   f"(sizes {tuple(sizes)})")
            s = current
        elif current is not None and current != 1 and current != s:
            raise RuntimeError(
                f"expand: the expanded size {s} must match the existing size {current} at "
                f"dimension {i} (tensor of shape {data.shape} to {tuple(sizes)}); only "
                "dimensions of size 1 can be expanded")
        target.append(s)
    target = tuple(target)
    if target == data.shape:
        return _view(input, data.view(), ExpandBackward0)
    return _view(input, xp_of(data).broadcast_to(data, target), ExpandBackward0)


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, size):
    return expand(input, size)


class UnsqueezeBackward0(Node):
    def backward(self, grad):
        return grad.squeeze(self.dim)


def unsqueeze(input, dim):
    dim = wrap_dim("unsqueeze", dim, input._data.ndim + 1)
    return _view(input, xp_of(input._data).expand_dims(input._data, dim), UnsqueezeBackward0,
                 dim=dim)


class SqueezeBackward0(Node):
    def backward(self, grad):
        return grad.reshape(self._input_meta[0][0])


def squeeze(input, dim=None):
    data = input._data
    if dim is None:
        axes = tuple(i for i, s in enumerate(data.shape) if s == 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = tuple(a for a in (wrap_dim("squeeze", d, data.ndim) for d in dims)
                     if data.shape[a] == 1)
    return _view(input, xp_of(data).squeeze(data, axis=axes) if axes else data.view(),
                 SqueezeBackward0)


class PermuteBackward0(Node):
    def backward(self, grad):
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return grad.permute(inverse)


def permute(input, *dims):
    dims = shape_args("permute", dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise RuntimeError(f"permute: got {len(dims)} dims {tuple(dims)} for a tensor with "
                           f"{ndim} dimensions, shape {input._data.shape}")
    dims = tuple(wrap_dim("permute", d, ndim) for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError(f"permute: dims {tuple(dims)} repeat a dimension")
    return _view(input, input._data.transpose(dims), PermuteBackward0, dims=dims)


class TransposeBackward0(Node):
    def backward(self, grad):
        return grad.transpose(self.dim0, self.dim1)


def transpose(input, dim0, dim1):
    ndim = input._data.ndim
    if ndim == 0:
        return _view(input, input._data.view(), TransposeBackward0, dim0=0, dim1=0)
    d0, d1 = wrap_dim("transpose", dim0, ndim), wrap_dim("transpose", dim1, ndim)
    return _view(input, input._data.swapaxes(d0, d1), TransposeBackward0, dim0=d0, dim1=d1)


swapaxes = swapdims = transpose


def t(input):
    """Transpose a tensor of at most 2 dimensions."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, but got shape "
                           f"{input._data.shape}; use transpose(dim0, dim1) or .mT")
    return transpose(input, 0, -1) if input._data.ndim == 2 else input.view(input.shape)


def flatten(input, start_dim=0, end_dim=-1):
    shape = input._data.shape
    if not shape:
        return reshape(input, 1)
    start = wrap_dim("flatten", start_dim, len(shape))
    end = wrap_dim("flatten", end_dim, len(shape))
    if start > end:
        raise RuntimeError(f"flatten: start_dim {start_dim} cannot come after end_dim {end_dim}")
    middle = 1
    for s in shape[start:end + 1]:
        middle *= s
    return reshape(input, shape[:start] + (middle,) + shape[end + 1:])


def ravel(input):
    return reshape(input, -1)


METHODS = ("view", "reshape", "view_as", "reshape_as", "expand", "expand_as", "broadcast_to",
           "unsqueeze", "squeeze", "permute", "transpose", "swapaxes", "swapdims", "t",
           "flatten", "ravel")
