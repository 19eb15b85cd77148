"""Pooling, as torch.nn.functional: max, average, adaptive and power-average pools, unpooling.

Windows are walked one kernel offset at a time (prod(kernel) strided views of the padded
input), which NumPy does at full speed; no per-window Python loop.

- Max pools find, per output, the kernel offset of the first maximum (PyTorch's tie rule),
  and express everything else through flat indices into each input plane (PyTorch's
  ``return_indices`` convention): the gradient puts the incoming gradient at those indices
  (``scatter_plane``), whose own gradient reads values back at them (``gather_plane``), so
  gradients of every order work. Adaptive max pools find the same indices dim by dim.
- Average pools are the linear map ``window_mean`` (window sums times 1/divisor) and its
  adjoint ``window_mean_t``, each the other's gradient. Adaptive average pools are matrix
  products with an averaging matrix per spatial dim (regular pools where sizes divide).
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.graph import Node, record
from ...backend import xp_of
from ...ops._util import describe, needs_grad, shape_str
from ...tensor import Tensor
from .conv import Geometry, as_tuple, padded_buffer

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "lp_pool1d", "lp_pool2d", "max_unpool1d", "max_unpool2d", "max_unpool3d"]

_wrap = Tensor._wrap


# ------------------------------------------------------------------ shared checks

def _batched(op, input, n):
    """input as (N, C, *spatial), and whether it came batched."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a tensor, got {describe(input)}")
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{op}: expected {n + 1}D (unbatched) or {n + 2}D (batched) input, "
                           f"but got input of size: {list(input.shape)}")
    if any(s == 0 for s in input.shape[-n:]):
        raise RuntimeError(f"{op}: expected input with non-zero spatial sizes, got "
                           f"{list(input.shape)}")
    batched = input.ndim == n + 2
    return (input if batched else input.unsqueeze(0)), batched


def _pool_geometry(op, x, n, kernel_size, stride, padding, dilation, ceil_mode):
    """The windows of a max or average pool: PyTorch's output size (ceil_mode drops a last
    window that would start in the right padding), padded after as far as windows reach."""
    kernel = as_tuple(op, "kernel_size", kernel_size, n)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else as_tuple(op, "stride", stride, n)
    padding = as_tuple(op, "padding", padding, n)
    dilation = as_tuple(op, "dilation", dilation, n)
    for name, values in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
        if any(v <= 0 for v in values):
            raise RuntimeError(f"{op}: {name} must be greater than zero, but got "
                               f"{name}={list(values)}")
    for p, k, d in zip(padding, kernel, dilation):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, "
                               f"but got pad={list(padding)}, kernel_size={list(kernel)} and "
                               f"dilation={list(dilation)}")
    sizes = x.shape[2:]
    out, pairs = [], []
    for size, k, s, p, d in zip(sizes, kernel, stride, padding, dilation):
        span = size + 2 * p - d * (k - 1) - 1
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= size + p:
            o -= 1
        if o <= 0:
            raise RuntimeError(f"{op}: given input size {list(x.shape[1:])}, the calculated "
                               f"output size is too small (kernel_size={list(kernel)}, "
                               f"stride={list(stride)}, padding={list(padding)}, "
                               f"dilation={list(dilation)})")
        reach = (o - 1) * s + d * (k - 1) + 1  # padded length the windows need
        out.append(o)
        pairs.append((p, max(reach - size - p, 0)))
    return Geometry(stride, pairs, dilation, 1, kernel, sizes, out_size=out)


def _plane_strides(size):
    """Strides (in elements) of a C-ordered plane of the given spatial size."""
    strides, step = [], 1
    for n in reversed(size):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


# ------------------------------------------------------------------ flat-index scatter/gather

class ScatterPlaneBackward0(Node):
    def backward(self, grad):
        (index,) = self.saved_tensors
        return gather_plane(grad, index)


def scatter_plane(values, index, plane, overlap):
    """zeros(N, C, *plane) with values (N, C, *out) added at the flat plane positions
    `index` (int64, values' shape). `overlap`: whether an index may repeat (then they add)."""
    data, idx = values._data, index._data
    xp = xp_of(data)
    rows = data.shape[0] * data.shape[1]
    size = math.prod(plane)
    flat_values = data.reshape(rows, -1)
    flat_index = idx.reshape(rows, -1)
    if overlap:
        where = flat_index + (xp.arange(rows) * size)[:, None]
        # bincount accumulates repeated positions far faster than ufunc.at
        summed = xp.bincount(where.ravel(), weights=flat_values.ravel(), minlength=rows * size)
        out_data = summed.astype(data.dtype, copy=False)
    else:
        out_data = xp.zeros((rows, size), dtype=data.dtype)
        out_data[xp.arange(rows)[:, None], flat_index] = flat_values
    out = _wrap(out_data.reshape(data.shape[:2] + tuple(plane)))
    if needs_grad(values):
        record(ScatterPlaneBackward0, (values,), out, saved=(index,))
    return out


class GatherPlaneBackward0(Node):
    def backward(self, grad):
        (index,) = self.saved_tensors
        return scatter_plane(grad, index, self._input_meta[0][0][2:], True)


def gather_plane(input, index):
    """The values of input (N, C, *plane) at flat plane positions `index` (N, C, *out)."""
    data, idx = input._data, index._data
    xp = xp_of(data)
    rows = data.shape[0] * data.shape[1]
    flat = data.reshape(rows, -1)
    out = _wrap(flat[xp.arange(rows)[:, None], idx.reshape(rows, -1)].reshape(idx.shape))
    if needs_grad(input):
        record(GatherPlaneBackward0, (input,), out, saved=(index,))
    return out


# ------------------------------------------------------------------ max pool

def _max_windows(data, geo: Geometry):
    """Per output: the max over its window, and the kernel offset (C order) of its first
    maximum (a NaN counts as the maximum, the last NaN winning, as in PyTorch's
    ``val > max || isnan(val)`` scan)."""
    xp = xp_of(data)
    if geo.has_padding:
        padded = padded_buffer(xp, data.shape, data.dtype, geo, fill=-xp.inf)
        padded[geo.inner()] = data
        data = padded
    views = [data[where] for _, where in geo.offset_slices()]
    kind = np.int8 if len(views) < 128 else np.int32
    best, offset = _tournament(xp, views, kind, nan_wins=False)
    if xp.isnan(best).any():  # rare: redo with NaN taking precedence
        best, offset = _tournament(xp, views, kind, nan_wins=True)
    return best, offset


def _tournament(xp, views, kind, nan_wins):
    """Max and argmax over `views` as a pairwise tree (log2(K) passes of whole arrays, twice
    as fast as a running scan). Each match keeps the earlier entry unless the later one is
    strictly greater, so ties go to the first offset."""
    level = [(view, kind(o)) for o, view in enumerate(views)]
    if len(level) == 1:
        return views[0].copy(), xp.zeros(views[0].shape, dtype=kind)
    while len(level) > 1:
        matched = []
        for (a, index_a), (b, index_b) in zip(level[::2], level[1::2]):
            later = b > a
            if nan_wins:
                later |= xp.isnan(b)
            # index_a + later * (index_b - index_a): small-int arithmetic is several times
            # faster than where()
            step = later.view(kind) if kind is np.int8 else later.astype(kind)
            matched.append((xp.maximum(a, b), index_a + step * (index_b - index_a)))
        if len(level) % 2:
            matched.append(level[-1])
        level = matched
    best, offset = level[0]
    return best, offset


def _flat_index(offset, geo: Geometry):
    """Flat plane positions (int64) of the kernel offsets chosen per output."""
    xp = xp_of(offset)
    strides = _plane_strides(geo.in_size)
    n = len(geo.kernel)
    base = 0
    for d, (o, s, (lo, _), st) in enumerate(zip(geo.out_size, geo.stride, geo.padding,
                                               strides)):
        shape = [1] * n
        shape[d] = o
        base = base + ((xp.arange(o) * s - lo) * st).reshape(shape)
    table = [sum(i * dil * st for i, dil, st in zip(offs, geo.dilation, strides))
             for offs, _ in geo.offset_slices()]
    return xp.asarray(table, dtype=np.int64)[offset.astype(np.intp)] + base


class MaxPoolBackward0(Node):
    def backward(self, grad):
        (index,) = self.saved_tensors
        return scatter_plane(grad, index, self.plane, self.overlap)


def _max_pool(op, n, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x, batched = _batched(op, input, n)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, got {describe(input)}")
    geo = _pool_geometry(op, x, n, kernel_size, stride, padding, dilation, ceil_mode)
    best, offset = _max_windows(x._data, geo)
    out = _wrap(best)
    index = None
    if return_indices or needs_grad(x):
        index = _wrap(_flat_index(offset, geo))
    if needs_grad(x):
        node = record(MaxPoolBackward0, (x,), out, saved=(index,))
        node.plane = geo.in_size
        node.overlap = any(s < d * (k - 1) + 1 for s, d, k
                           in zip(geo.stride, geo.dilation, geo.kernel))
    if not batched:
        out = out.squeeze(0)
        index = index.squeeze(0) if index is not None else None
    return (out, index) if return_indices else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, L) or (C, L); with return_indices also the flat
    positions of the maxima in each input row."""
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, H, W) or (C, H, W); with return_indices also the
    flat positions (h * W + w) of the maxima in each input plane."""
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, D, H, W) or (C, D, H, W)."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


# ------------------------------------------------------------------ average pool

def _window_sum(padded, geo: Geometry):
    views = [padded[where] for _, where in geo.offset_slices()]
    total = views[0].copy()
    for view in views[1:]:
        total += view
    return total


class WindowMeanBackward0(Node):
    def backward(self, grad):
        return window_mean_t(grad, self.geo, self.scale)


def window_mean(x, geo: Geometry, scale):
    """Window sums of zero-padded x (N, C, *in) times `scale` (an array broadcasting over
    the output): the average pool, a linear map."""
    data = x._data
    xp = xp_of(data)
    if geo.has_padding:
        padded = padded_buffer(xp, data.shape, data.dtype, geo)
        padded[geo.inner()] = data
        data = padded
    out = _wrap(_window_sum(data, geo) * scale)
    if needs_grad(x):
        node = record(WindowMeanBackward0, (x,), out)
        node.geo, node.scale = geo, scale
    return out


class WindowMeanTBackward0(Node):
    def backward(self, grad):
        return window_mean(grad, self.geo, self.scale)


def window_mean_t(g, geo: Geometry, scale):
    """The adjoint of window_mean: g (N, C, *out) times `scale`, spread back over each
    window's input positions (N, C, *in)."""
    data = g._data
    xp = xp_of(data)
    spread = data * scale
    padded = padded_buffer(xp, data.shape, data.dtype, geo)
    for _, where in geo.offset_slices():
        padded[where] += spread
    out = _wrap(xp.ascontiguousarray(padded[geo.inner()]) if geo.has_padding else padded)
    if needs_grad(g):
        node = record(WindowMeanTBackward0, (g,), out)
        node.geo, node.scale = geo, scale
    return out


def _avg_scale(xp, dtype, geo: Geometry, count_include_pad, divisor_override):
    """1 / divisor per output position, as PyTorch counts: the window clipped to the padded
    input (count_include_pad) or to the input itself."""
    if divisor_override is not None:
        return xp.asarray(1.0 / divisor_override, dtype=dtype)
    n = len(geo.kernel)
    scale = xp.ones((1,) * n, dtype=dtype)
    for d, (size, o, s, k, (lo, _)) in enumerate(zip(geo.in_size, geo.out_size, geo.stride,
                                                    geo.kernel, geo.padding)):
        start = np.arange(o) * s - lo
        end = np.minimum(start + k, size + lo)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, size)
        shape = [1] * n
        shape[d] = o
        scale = scale * xp.asarray(1.0 / (end - start), dtype=dtype).reshape(shape)
    return scale


def _avg_pool(op, n, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    x, batched = _batched(op, input, n)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, got {describe(input)}")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    geo = _pool_geometry(op, x, n, kernel_size, stride, padding, 1, ceil_mode)
    scale = _avg_scale(xp_of(x._data), x._data.dtype, geo, count_include_pad, divisor_override)
    out = window_mean(x, geo, scale)
    return out if batched else out.squeeze(0)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over sliding windows of (N, C, L) or (C, L)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, H, W) or (C, H, W); count_include_pad counts the
    zero padding in the divisor, divisor_override replaces the divisor."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pool: (sum of x^p over each window)^(1/p)."""
    pooled = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp_finish(pooled, norm_type, as_tuple("lp_pool1d", "kernel_size", kernel_size, 1))


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pool over 2-d windows: (sum of x^p over each window)^(1/p)."""
    pooled = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return _lp_finish(pooled, norm_type, as_tuple("lp_pool2d", "kernel_size", kernel_size, 2))


def _lp_finish(pooled, norm_type, kernel):
    # As PyTorch: negative window sums (odd p) are clamped to zero before the root.
    return (pooled.sign() * pooled.abs().relu()).mul(math.prod(kernel)).pow(1.0 / norm_type)


# ------------------------------------------------------------------ adaptive pools

def _adaptive_size(op, x, n, output_size):
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * n
    if len(sizes) == 1:
        sizes = tuple(sizes) * n
    if len(sizes) != n:
        raise RuntimeError(f"{op}: output_size must have {n} elements, got {output_size!r}")
    out = tuple(int(x.shape[2 + d]) if s is None else int(s) for d, s in enumerate(sizes))
    if any(s < 0 for s in out):
        raise RuntimeError(f"{op}: output_size must be non-negative, got {list(out)}")
    return out


def _bounds(size, out):
    """PyTorch's adaptive windows: [floor(i * size / out), ceil((i + 1) * size / out))."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _adaptive_avg(op, n, input, output_size):
    x, batched = _batched(op, input, n)
    out_size = _adaptive_size(op, x, n, output_size)
    sizes = tuple(x.shape[2:])
    if all(o > 0 and s % o == 0 for s, o in zip(sizes, out_size)):
        kernel = tuple(s // o for s, o in zip(sizes, out_size))
        geo = Geometry(kernel, ((0, 0),) * n, (1,) * n, 1, kernel, sizes, out_size)
        out = window_mean(x, geo, 1.0 / math.prod(kernel))
    else:  # windows of unequal size: one averaging matrix per spatial dim
        xp = xp_of(x._data)
        out = x
        for d, (size, o) in enumerate(zip(sizes, out_size)):
            matrix = np.zeros((size, o), dtype=x._data.dtype)
            for i, (lo, hi) in enumerate(_bounds(size, o)):
                matrix[lo:hi, i] = 1.0 / (hi - lo)
            dim = 2 + d
            out = (out.transpose(dim, -1) @ _wrap(xp.asarray(matrix))).transpose(dim, -1)
        out = out.contiguous()
    return out if batched else out.squeeze(0)


def adaptive_avg_pool1d(input, output_size):
    """Average pool of (N, C, L) to length `output_size`, PyTorch's window bounds."""
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pool of (N, C, H, W) to `output_size` (an int, or a pair; None keeps a dim)."""
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average pool of (N, C, D, H, W) to `output_size`."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_max_index(data, out_size):
    """Flat plane positions of each adaptive window's first maximum (in C order: the
    window is reduced along its last dim first, so ties go to the earliest row)."""
    xp = xp_of(data)
    n = len(out_size)
    values = data
    coords = {}  # spatial dim -> its coordinate of the chosen element, values' shape
    for d in reversed(range(n)):
        axis = 2 + d
        parts = {"values": [], d: []}
        parts.update({e: [] for e in coords})
        for lo, hi in _bounds(data.shape[axis], out_size[d]):
            window = [slice(None)] * values.ndim
            window[axis] = slice(lo, hi)
            window = tuple(window)
            piece = values[window]
            # argmax takes the first maximum, and a NaN over any number, as PyTorch does
            arg = xp.expand_dims(xp.argmax(piece, axis=axis), axis)
            parts["values"].append(xp.take_along_axis(piece, arg, axis))
            parts[d].append(arg + lo)
            for e in coords:
                parts[e].append(xp.take_along_axis(coords[e][window], arg, axis))
        values = xp.concatenate(parts.pop("values"), axis=axis)
        coords = {e: xp.concatenate(p, axis=axis) for e, p in parts.items()}
    strides = _plane_strides(data.shape[2:])
    return sum(coords[d].astype(np.int64) * strides[d] for d in range(n))


class AdaptiveMaxPoolBackward0(Node):
    def backward(self, grad):
        (index,) = self.saved_tensors
        return scatter_plane(grad, index, self.plane, True)


def _adaptive_max(op, n, input, output_size, return_indices):
    x, batched = _batched(op, input, n)
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point input, got {describe(input)}")
    out_size = _adaptive_size(op, x, n, output_size)
    if any(o == 0 for o in out_size):
        raise RuntimeError(f"{op}: output_size must be positive, got {list(out_size)}")
    index = _wrap(_adaptive_max_index(x._data, out_size))
    data = x._data
    rows = data.shape[0] * data.shape[1]
    flat = data.reshape(rows, -1)
    idx = index._data
    out = _wrap(flat[xp_of(data).arange(rows)[:, None], idx.reshape(rows, -1)]
                .reshape(idx.shape))
    if needs_grad(x):
        record(AdaptiveMaxPoolBackward0, (x,), out, saved=(index,)).plane = x.shape[2:]
    if not batched:
        out, index = out.squeeze(0), index.squeeze(0)
    return (out, index) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pool of (N, C, L) to length `output_size` (PyTorch's window bounds)."""
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pool of (N, C, H, W) to `output_size`; with return_indices also the flat
    positions (h * W + w) of the maxima."""
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pool of (N, C, D, H, W) to `output_size`."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


# ------------------------------------------------------------------ max unpool

def _max_unpool(op, n, input, indices, kernel_size, stride, padding, output_size):
    x, batched = _batched(op, input, n)
    if not isinstance(indices, Tensor) or indices._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: indices must be an integer tensor (int64), got "
                           f"{describe(indices)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"{op}: expected indices of the input's shape "
                           f"{shape_str(input.shape)}, got {shape_str(indices.shape)}")
    index = indices if batched else indices.unsqueeze(0)
    kernel = as_tuple(op, "kernel_size", kernel_size, n)
    stride = kernel if stride is None else as_tuple(op, "stride", stride, n)
    padding = as_tuple(op, "padding", padding, n)
    size = tuple((i - 1) * s - 2 * p + k for i, s, p, k
                 in zip(x.shape[2:], stride, padding, kernel))
    if output_size is not None:
        given = tuple(int(s) for s in output_size)[-n:]
        if len(given) != n:
            raise ValueError(f"{op}: output_size must have {n} (or {n + 2}) elements, got "
                             f"{list(output_size)}")
        size = given
    plane = math.prod(size)
    idx = index._data
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= plane):
        raise RuntimeError(f"{op}: found an invalid max index {int(idx.max())} (output volumes "
                           f"are of size {' x '.join(map(str, size))})")
    out = scatter_plane(x, index, size, False)
    return out if batched else out.squeeze(0)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool1d: values put back at their indices, zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool2d: values put back at their flat plane indices."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of max_pool3d."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)
