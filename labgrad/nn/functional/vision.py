"""Vision ops, as torch.nn.functional: pad, interpolate, pixel_shuffle, pixel_unshuffle,
affine_grid.

All are built from differentiable labgrad ops (slicing, index_select, reshape/permute,
arithmetic) plus one dedicated op, the constant pad, whose gradient is a slice of the
incoming gradient; so every one has gradients of every order.

- pad: 'constant' pads (or crops, for negative amounts); 'reflect', 'replicate' and
  'circular' read the input at computed positions, one index_select per padded dim.
- interpolate: separable, one spatial dim at a time, with PyTorch's source-index rules
  (in the input's float precision): nearest and nearest-exact select, linear modes blend
  the two neighbours, area is an adaptive average pool.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.graph import Node, record
from ...backend import xp_of
from ...ops._util import describe, needs_grad, shape_str
from ...tensor import Tensor
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "pixel_shuffle", "pixel_unshuffle", "affine_grid"]

_wrap = Tensor._wrap


# ------------------------------------------------------------------ pad

class ConstantPadBackward0(Node):
    def backward(self, grad):
        return grad[self.inner]


def _constant_pad(x, pairs, value):
    """x with (before, after) >= 0 elements of `value` around each of its last dims."""
    data = x._data
    lead = data.ndim - len(pairs)
    shape = data.shape[:lead] + tuple(n + lo + hi for n, (lo, hi)
                                      in zip(data.shape[lead:], pairs))
    out_data = xp_of(data).full(shape, value, dtype=data.dtype)
    inner = (slice(None),) * lead + tuple(slice(lo, lo + n) for n, (lo, _)
                                          in zip(data.shape[lead:], pairs))
    out_data[inner] = data
    out = _wrap(out_data)
    if needs_grad(x):
        record(ConstantPadBackward0, (x,), out).inner = inner
    return out


def _pad_pairs(op, pad, ndim):
    """PyTorch's flat pad tuple (last dim first) as (before, after) pairs for the last dims,
    in dim order."""
    try:
        amounts = [int(p) for p in pad]
    except TypeError:
        raise TypeError(f"{op}: pad must be a tuple of ints, got {pad!r}") from None
    if len(amounts) % 2:
        raise RuntimeError(f"{op}: padding length must be divisible by 2, got {len(amounts)}")
    if len(amounts) // 2 > ndim:
        raise RuntimeError(f"{op}: padding length {len(amounts)} is too large for an input "
                           f"with {ndim} dimensions (at most {2 * ndim})")
    pairs = [(amounts[i], amounts[i + 1]) for i in range(0, len(amounts), 2)]
    return pairs[::-1]


def _source_positions(mode, size, lo, hi):
    """Where each padded position reads from along a dim of length `size`."""
    positions = np.arange(-lo, size + hi)
    if mode == "reflect":
        period = 2 * (size - 1)
        positions = np.abs(positions) % period if period else positions * 0
        return np.where(positions >= size, period - positions, positions)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    return positions % size  # circular


def pad(input, pad, mode="constant", value=None):
    """Pad the last len(pad) // 2 dims of input; `pad` lists (before, after) amounts from
    the last dim backwards: (left, right, top, bottom, ...). Modes: 'constant' (with
    `value`, default 0; negative amounts crop), 'reflect', 'replicate', 'circular'."""
    op = "pad"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a tensor, got {describe(input)}")
    pairs = _pad_pairs(op, pad, input.ndim)
    if mode == "constant":
        if any(lo < 0 or hi < 0 for lo, hi in pairs):  # negative amounts crop first
            lead = input.ndim - len(pairs)
            crop = (slice(None),) * lead + tuple(
                slice(max(-lo, 0), n - max(-hi, 0))
                for n, (lo, hi) in zip(input.shape[lead:], pairs))
            input = input[crop]
            pairs = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
        if not any(lo or hi for lo, hi in pairs):
            return input.clone()
        return _constant_pad(input, pairs, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"{op}: unrecognised padding mode {mode!r}; use 'constant', "
                                  "'reflect', 'replicate' or 'circular'")
    if value is not None and value != 0:
        raise RuntimeError(f'{op}: padding mode "{mode}" doesn\'t take in value argument')
    dims = len(pairs)
    if dims > 3 or input.ndim not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"{op}: padding size {2 * dims} is not supported for {input.ndim}D input in mode "
            f"{mode!r}: pad 2 values for 2D/3D input, 4 for 3D/4D, 6 for 4D/5D")
    out = input
    for k, (lo, hi) in enumerate(pairs):
        dim = input.ndim - dims + k
        size = input.shape[dim]
        if lo < 0 or hi < 0:
            raise NotImplementedError(f"{op}: negative padding {list(pad)} is only supported "
                                      f"in 'constant' mode, not {mode!r}")
        if mode == "reflect" and (lo >= size or hi >= size):
            raise RuntimeError(f"{op}: padding size should be less than the corresponding "
                               f"input dimension, but got padding ({lo}, {hi}) at dimension "
                               f"{dim} of input {list(input.shape)}")
        if mode == "circular" and (lo > size or hi > size):
            raise RuntimeError(f"{op}: padding value causes wrapping around more than once: "
                               f"padding ({lo}, {hi}) at dimension {dim} of input "
                               f"{list(input.shape)}")
        if lo or hi:
            index = _source_positions(mode, size, lo, hi)
            out = out.index_select(dim, _wrap(xp_of(input._data).asarray(index)))
    return out


# ------------------------------------------------------------------ interpolate

_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "area", "bicubic")


def _output_size(op, x, size, scale_factor, n):
    """Output sizes and the scale factors PyTorch's kernels see (None: computed from sizes)."""
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: " + ("only one of size or scale_factor should be defined"
                                      if size is not None else
                                      "either size or scale_factor should be defined"))
    if size is not None:
        sizes = list(size) if isinstance(size, (tuple, list)) else [size] * n
        if len(sizes) != n:
            raise ValueError(f"{op}: input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(x.shape[2:])} and output size of {size}. Please provide "
                             "input tensor in (N, C, d1, d2, ...,dK) format and output size "
                             "in (o1, o2, ...,oK) format.")
        return [int(s) for s in sizes], [None] * n
    factors = list(scale_factor) if isinstance(scale_factor, (tuple, list)) \
        else [scale_factor] * n
    if len(factors) != n:
        raise ValueError(f"{op}: input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of "
                         f"{list(x.shape[2:])} and scale_factor of shape {scale_factor}.")
    sizes = [int(math.floor(float(s) * float(f))) for s, f in zip(x.shape[2:], factors)]
    return sizes, [float(f) for f in factors]


def _scale(dtype, in_size, out_size, align_corners, factor):
    """PyTorch's area_pixel_compute_scale, in the compute dtype."""
    if align_corners:
        return dtype.type((in_size - 1) / (out_size - 1) if out_size > 1 else 0)
    if factor is not None and factor > 0:
        return dtype.type(1.0 / factor)
    return dtype.type(in_size) / dtype.type(out_size)


def _nearest_index(mode, in_size, out_size, factor):
    dtype = np.dtype(np.float32)  # PyTorch computes nearest indices in float
    scale = _scale(dtype, in_size, out_size, False, factor)
    dst = np.arange(out_size, dtype=dtype)
    if mode == "nearest-exact":
        dst = dst + dtype.type(0.5)
    return np.minimum(np.floor(dst * scale).astype(np.int64), in_size - 1)


def _linear_weights(dtype, in_size, out_size, align_corners, factor):
    """For each output position: the two input neighbours and the weight of the second."""
    scale = _scale(dtype, in_size, out_size, align_corners, factor)
    dst = np.arange(out_size, dtype=dtype)
    if align_corners:
        src = scale * dst
    else:
        src = np.maximum(scale * (dst + dtype.type(0.5)) - dtype.type(0.5), 0)
    low = src.astype(np.int64)
    high = np.where(low < in_size - 1, low + 1, low)
    return low, high, (src - low).astype(dtype)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial dims of input (N, C, *spatial) to `size`, or by `scale_factor`.

    Modes: 'nearest', 'nearest-exact', 'linear' (3-D input), 'bilinear' (4-D), 'trilinear'
    (5-D), 'area'. align_corners (linear modes only) maps corner pixel centres onto each
    other; recompute_scale_factor=True derives the scale from the sizes instead of using
    scale_factor as given.
    """
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a tensor, got {describe(input)}")
    if mode not in _MODES:
        raise NotImplementedError(f"{op}: mode {mode!r} is not supported; use one of "
                                  f"{', '.join(m for m in _MODES if m != 'bicubic')}")
    if mode == "bicubic":
        raise NotImplementedError(f"{op}: mode 'bicubic' is not implemented in labgrad; use "
                                  "'bilinear'")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not implemented in labgrad")
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError(f"{op}: align_corners option can only be set with the interpolating "
                         "modes: linear | bilinear | bicubic | trilinear")
    n = input.ndim - 2
    if n < 1 or n > 3:
        raise NotImplementedError(f"{op}: expected a 3-D, 4-D or 5-D input (N, C, *spatial), "
                                  f"got shape {shape_str(input.shape)}")
    if mode in _LINEAR and _LINEAR[mode] != n:
        raise NotImplementedError(f"{op}: got {input.ndim}D input, but {mode} mode needs "
                                  f"{_LINEAR[mode] + 2}D input")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, got {describe(input)}")
    if recompute_scale_factor and size is not None:
        raise ValueError(f"{op}: recompute_scale_factor is not meaningful with an explicit "
                         "size.")
    sizes, factors = _output_size(op, input, size, scale_factor, n)
    if any(s <= 0 for s in sizes):
        raise RuntimeError(f"{op}: input {list(input.shape)} gives a non-positive output "
                           f"size {sizes}")
    if recompute_scale_factor:
        factors = [None] * n
    if mode == "area":
        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[n - 1]
        return pool(input, sizes)
    xp = xp_of(input._data)
    out = input
    for d in range(n):
        dim, in_size, out_size = 2 + d, input.shape[2 + d], sizes[d]
        if mode in ("nearest", "nearest-exact"):
            if in_size != out_size:
                index = _nearest_index(mode, in_size, out_size, factors[d])
                out = out.index_select(dim, _wrap(xp.asarray(index)))
            continue
        low, high, weight = _linear_weights(input._data.dtype, in_size, out_size,
                                            bool(align_corners), factors[d])
        shape = [1] * input.ndim
        shape[dim] = out_size
        first = out.index_select(dim, _wrap(xp.asarray(low)))
        second = out.index_select(dim, _wrap(xp.asarray(high)))
        blend = _wrap(xp.asarray(weight).reshape(shape))
        out = first + (second - first) * blend
    return out if out is not input else input.clone()


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """The deprecated alias of interpolate."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """interpolate(..., mode='nearest') (deprecated in PyTorch)."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """interpolate(..., mode='bilinear', align_corners=True) (deprecated in PyTorch)."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ------------------------------------------------------------------ pixel shuffle

def _check_factor(op, name, factor):
    if not isinstance(factor, (int, np.integer)) or isinstance(factor, bool) or factor <= 0:
        raise RuntimeError(f"{op}: {name} must be a positive integer, got {factor!r}")


def pixel_shuffle(input, upscale_factor):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r): channels rearranged into space."""
    op = "pixel_shuffle"
    _check_factor(op, "upscale_factor", upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"{op}: expected an input with at least 3 dimensions "
                           f"(*, C, H, W), got shape {shape_str(input.shape)}")
    r = int(upscale_factor)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"{op}: expects its input's 'channel' dimension to be divisible by "
                           f"the square of upscale_factor, but input.size(-3)={c} is not "
                           f"divisible by {r * r}")
    k = len(lead)
    out = input.reshape(*lead, c // (r * r), r, r, h, w)
    out = out.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return out.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W): space rearranged into channels."""
    op = "pixel_unshuffle"
    _check_factor(op, "downscale_factor", downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"{op}: expected an input with at least 3 dimensions "
                           f"(*, C, H, W), got shape {shape_str(input.shape)}")
    r = int(downscale_factor)
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise RuntimeError(f"{op}: expects height and width to be divisible by "
                           f"downscale_factor={r}, but input.size(-2)={h} and "
                           f"input.size(-1)={w}")
    k = len(lead)
    out = input.reshape(*lead, c, h // r, r, w // r, r)
    out = out.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return out.reshape(*lead, c * r * r, h // r, w // r)


# ------------------------------------------------------------------ affine_grid

def _base_coordinates(xp, dtype, size, align_corners):
    """PyTorch's normalized pixel-centre coordinates in [-1, 1] along one dim."""
    if size <= 1:
        return xp.zeros(max(size, 0), dtype=dtype)
    line = np.linspace(-1.0, 1.0, size)
    if not align_corners:
        line = line * (size - 1) / size
    return xp.asarray(line, dtype=dtype)


def affine_grid(theta, size, align_corners=None):
    """Sampling grids for grid_sample from affine matrices: theta (N, 2, 3) with size
    (N, C, H, W) gives (N, H, W, 2) of (x, y); theta (N, 3, 4) with a 5-d size gives
    (N, D, H, W, 3)."""
    op = "affine_grid"
    if not isinstance(theta, Tensor) or not theta.dtype.is_floating_point:
        raise TypeError(f"{op}: expected theta to be a floating point tensor, got "
                        f"{describe(theta)}")
    size = [int(s) for s in size]
    n = len(size) - 2
    if n not in (2, 3):
        raise NotImplementedError(f"{op}: only 4-D and 5-D sizes are supported, got {size}")
    if tuple(theta.shape) != (size[0], n, n + 1):
        raise ValueError(f"{op}: expected a thetas of shape ({size[0]}, {n}, {n + 1}) for size "
                         f"{size}, got {shape_str(theta.shape)}")
    if min(size[2:]) <= 0:
        raise ValueError(f"{op}: expected non-zero, positive output size, got {size}")
    xp = xp_of(theta._data)
    dtype = theta._data.dtype
    spatial = size[2:]
    axes = [_base_coordinates(xp, dtype, s, bool(align_corners)) for s in spatial]
    # The grid lists coordinates last dim first (x, y[, z]), plus a homogeneous 1.
    mesh = xp.meshgrid(*axes, indexing="ij")
    columns = [mesh[k] for k in reversed(range(n))] + [xp.ones(spatial, dtype=dtype)]
    base = _wrap(xp.stack(columns, axis=-1).reshape(1, -1, n + 1))
    grid = base @ theta.transpose(1, 2)
    return grid.reshape(size[0], *spatial, n)
