"""Convolutions, as torch.nn.functional: conv1d/2d/3d, conv_transpose1d/2d/3d, unfold, fold.

One N-d engine serves every spatial rank. A convolution ``y = conv(x, w)`` is a bilinear map,
and its two gradients are the other two contractions of the same sum
``<y, conv(x, w)>``:

    conv(x, w)             forward: im2col of x, then one matrix product with w
    conv_input_grad(g, w)  the gradient wrt x, a transposed convolution: w^T g, then col2im
    conv_weight_grad(x, g) the gradient wrt w: a correlation of g with im2col of x

Each of the three is a labgrad op whose backward is made of the other two, so gradients of
any order close over this family (double backward, gradgradcheck). conv_transpose is
conv_input_grad with a bias; unfold and fold are im2col and col2im, each the other's gradient.

Speed: the input is turned into columns (im2col) through a strided window view and one copy,
a batch chunk at a time, so that the column buffer stays in cache and the matrix products run
on BLAS; col2im adds one kernel offset at a time (prod(kernel) strided slice-adds), which is
much faster than a scatter-add.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from ...autograd.graph import Node, record
from ...backend import xp_of
from ...ops._util import check_same_device, describe, needs_grad, shape_str
from ...tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "unfold", "fold"]

_wrap = Tensor._wrap

# Bytes of im2col columns per batch chunk on the CPU: small enough to stay in cache between
# the copy that makes them and the matrix product that reads them (measured: 2-8 MB is best
# for the MNIST CNN's second conv; one big buffer is 1.5x slower).
_CHUNK_BYTES = 4 << 20


# ------------------------------------------------------------------ geometry

class Geometry:
    """Where the windows of a convolution (or pooling) lie in its input.

    stride, dilation, kernel, in_size, out_size: one int per spatial dim; padding: one
    (before, after) pair per spatial dim (PyTorch's 'same' may pad one more after).
    """

    __slots__ = ("stride", "padding", "dilation", "groups", "kernel", "in_size", "out_size")

    def __init__(self, stride, padding, dilation, groups, kernel, in_size, out_size=None):
        self.stride, self.padding, self.dilation = tuple(stride), tuple(padding), tuple(dilation)
        self.groups, self.kernel, self.in_size = groups, tuple(kernel), tuple(in_size)
        if out_size is None:
            out_size = tuple((n + lo + hi - d * (k - 1) - 1) // s + 1 for n, (lo, hi), d, k, s
                             in zip(in_size, padding, dilation, kernel, stride))
        self.out_size = tuple(out_size)

    @property
    def padded_size(self) -> tuple:
        return tuple(n + lo + hi for n, (lo, hi) in zip(self.in_size, self.padding))

    @property
    def has_padding(self) -> bool:
        return any(lo or hi for lo, hi in self.padding)

    @property
    def pointwise(self) -> bool:
        """A 1x1 kernel with stride 1 and no padding: the columns are the input itself."""
        return (all(k == 1 for k in self.kernel) and all(s == 1 for s in self.stride)
                and not self.has_padding)

    def inner(self) -> tuple:
        """The index of the unpadded input inside the padded one (after N and C)."""
        return (slice(None), slice(None)) + tuple(
            slice(lo, lo + n) for n, (lo, _) in zip(self.in_size, self.padding))

    def offset_slices(self):
        """For each kernel offset (in C order): the offset and the slices of the padded
        input that its column entries come from (one per output position)."""
        ranges = [range(k) for k in self.kernel]
        for offset in itertools.product(*ranges):
            yield offset, (slice(None), slice(None)) + tuple(
                slice(i * d, i * d + s * (o - 1) + 1, s) for i, d, s, o
                in zip(offset, self.dilation, self.stride, self.out_size))


def as_tuple(op, name, value, n) -> tuple:
    """An int or a sequence of n ints as a tuple of n ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    try:
        items = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got "
                        f"{value!r}") from None
    if len(items) == 1:
        return items * n
    if len(items) != n:
        raise RuntimeError(f"{op}: expected {name} to be a single integer value or a list of "
                           f"{n} values to match the convolution dimensions, but got "
                           f"{name}={list(items)}")
    return items


def windows(padded, geo: Geometry):
    """A strided view (N, C, *kernel, *out) of `padded` (N, C, *padded_size): entry
    [n, c, *k, *o] is the input element that kernel offset k meets at output position o."""
    strides = padded.strides
    spatial = strides[2:]
    shape = padded.shape[:2] + geo.kernel + geo.out_size
    view_strides = (strides[:2] + tuple(s * d for s, d in zip(spatial, geo.dilation))
                    + tuple(s * st for s, st in zip(spatial, geo.stride)))
    return xp_of(padded).lib.stride_tricks.as_strided(padded, shape, view_strides,
                                                       writeable=False)


def padded_buffer(xp, shape, dtype, geo: Geometry, fill=0):
    """A (batch, C, *padded_size) buffer filled with `fill`, to be written in its inner part."""
    return xp.full(shape[:2] + geo.padded_size, fill, dtype=dtype)


def _col2im(cols, geo: Geometry, out):
    """Add columns (b, C, *kernel, *out) back onto the input positions they came from, into
    `out` (b, C, *in_size), overwriting it: one strided slice-add per kernel offset."""
    xp = xp_of(cols)
    target = out
    if geo.has_padding:
        target = xp.zeros(out.shape[:2] + geo.padded_size, dtype=out.dtype)
    else:
        target.fill(0)
    head = (slice(None), slice(None))
    for offset, where in geo.offset_slices():
        target[where] += cols[head + offset]
    if geo.has_padding:
        out[...] = target[geo.inner()]
    return out


# ------------------------------------------------------------------ columns

class _Columns:
    """im2col and col2im for one convolution: columns (b, C * K, L) with L = prod(out), entry
    [c, k, o] the input element kernel offset k meets at output position o, copied out of a
    strided window view of the zero-padded input (any stride and dilation).

    (Tried and dropped: for stride 1, each offset's columns are one contiguous run of the
    flattened padded input, so copies and adds run longer, at the price of computing the
    wrapped margin of each row; it measured no faster end to end.)"""

    def __init__(self, geo: Geometry, xp, channels, dtype):
        self.geo, self.xp, self.channels, self.dtype = geo, xp, channels, dtype
        self.length = math.prod(geo.out_size)
        self._padded = self._cols = None  # buffers reused across batch chunks

    def columns(self, part):
        """The columns of a batch chunk (b, C, *in) as a (b, C * K, L) array, valid until
        the next call."""
        geo, b = self.geo, part.shape[0]
        if geo.pointwise:
            return part.reshape(b, self.channels, self.length)
        if geo.has_padding:  # the border stays zero: only the inner part is rewritten
            if self._padded is None or self._padded.shape[0] < b:
                self._padded = padded_buffer(self.xp, (b, self.channels), self.dtype, geo)
            self._padded[:b][geo.inner()] = part
            part = self._padded[:b]
        if self._cols is None or self._cols.shape[0] < b:
            shape = (b, self.channels) + geo.kernel + geo.out_size
            self._cols = self.xp.empty(shape, dtype=self.dtype)
        cols = self._cols[:b]
        self.xp.copyto(cols, windows(part, geo))
        return cols.reshape(b, -1, self.length)

    def col2im(self, cols, out):
        """Add (b, C * K, L) columns back onto out (b, C, *in), overwriting it."""
        b = cols.shape[0]
        if self.geo.pointwise:
            out[...] = cols.reshape(out.shape)
            return
        _col2im(cols.reshape((b, self.channels) + self.geo.kernel + self.geo.out_size),
                self.geo, out)


def _chunks(xp, rows, bytes_per_row):
    """Batch chunks (start, stop): cache-sized on the CPU, everything at once on a GPU."""
    step = max(rows, 1)
    if xp is np:
        step = max(1, min(step, _CHUNK_BYTES // max(bytes_per_row, 1)))
    return [(start, min(start + step, rows)) for start in range(0, rows, step)]


def _column_chunks(x, geo: Geometry, layout):
    """Yield (start, stop, columns (b, C * K, L)) over batch chunks of x."""
    n, c = x.shape[:2]
    per_row = c * math.prod(geo.kernel) * layout.length * x.itemsize
    for start, stop in _chunks(xp_of(x), n, per_row):
        yield start, stop, layout.columns(x[start:stop])


# ------------------------------------------------------------------ array kernels

def _forward_array(x, w, b, geo: Geometry):
    """conv(x, w) + b on arrays: (N, C, *in) * (O, C/G, *k) -> (N, O, *out)."""
    xp = xp_of(x)
    n, c = x.shape[:2]
    o, groups = w.shape[0], geo.groups
    layout = _Columns(geo, xp, c, x.dtype)
    w3 = w.reshape(groups, o // groups, -1)
    y = xp.empty((n, o) + geo.out_size, dtype=x.dtype)
    for start, stop, cols in _column_chunks(x, geo, layout):
        rows = stop - start
        xp.matmul(w3, cols.reshape(rows, groups, -1, layout.length),
                  out=y[start:stop].reshape(rows, groups, o // groups, layout.length))
    if b is not None:
        y += b.reshape((o,) + (1,) * len(geo.out_size))
    return y


def _input_grad_array(g, w, geo: Geometry, channels):
    """The gradient of conv wrt its input, given g (N, O, *out): (N, channels, *in)."""
    xp = xp_of(g)
    n, o = g.shape[:2]
    groups = geo.groups
    layout = _Columns(geo, xp, channels, g.dtype)
    w3t = xp.ascontiguousarray(w.reshape(groups, o // groups, -1).transpose(0, 2, 1))
    dx = xp.empty((n, channels) + geo.in_size, dtype=g.dtype)
    per_row = w3t.shape[0] * w3t.shape[1] * layout.length * g.itemsize
    for start, stop in _chunks(xp, n, per_row):
        rows = stop - start
        part = g[start:stop].reshape(rows, groups, o // groups, layout.length)
        layout.col2im(xp.matmul(w3t, part).reshape(rows, -1, layout.length), dx[start:stop])
    return dx


def _weight_grad_array(x, g, geo: Geometry, weight_shape):
    """The gradient of conv wrt its weight, given x and g (N, O, *out): weight_shape."""
    xp = xp_of(x)
    n, c = x.shape[:2]
    o, groups = g.shape[1], geo.groups
    layout = _Columns(geo, xp, c, x.dtype)
    dw = xp.zeros((groups, o // groups, math.prod(weight_shape[1:])), dtype=x.dtype)
    for start, stop, cols in _column_chunks(x, geo, layout):
        rows = stop - start
        cols = cols.reshape(rows, groups, dw.shape[2], layout.length)
        part = g[start:stop].reshape(rows, groups, o // groups, layout.length)
        product = xp.matmul(part, cols.transpose(0, 1, 3, 2))
        dw += product.sum(axis=0) if rows > 1 else product[0]
    return dw.reshape(weight_shape)


# ------------------------------------------------------------------ the three ops

class ConvolutionBackward0(Node):
    """y = conv(x, w) + b: dx = conv_input_grad(g, w), dw = conv_weight_grad(x, g)."""

    def backward(self, grad):
        x, w = self.saved_tensors
        need_x, need_w, need_b = self.needs_input_grad
        geo = self.geo
        gx = conv_input_grad(grad, w, geo, x.shape[1]) if need_x else None
        gw = conv_weight_grad(x, grad, geo, w.shape) if need_w else None
        gb = grad.sum([0] + list(range(2, grad.ndim))) if need_b else None
        return gx, gw, gb


def convolution(x, w, b, geo: Geometry):
    """conv(x, w) + b for batched x (no checks), recorded for backward."""
    out = _wrap(_forward_array(x._data, w._data, None if b is None else b._data, geo))
    if needs_grad(x, w, b):
        record(ConvolutionBackward0, (x, w, b), out, saved=(x, w)).geo = geo
    return out


class ConvInputGradBackward0(Node):
    """X = conv_input_grad(g, w), the adjoint of x -> conv(x, w):
    d/dg = conv(gg, w), d/dw = conv_weight_grad(gg, g)."""

    def backward(self, grad):
        g, w = self.saved_tensors
        need_g, need_w = self.needs_input_grad
        geo = self.geo
        gg = convolution(grad, w, None, geo) if need_g else None
        gw = conv_weight_grad(grad, g, geo, w.shape) if need_w else None
        return gg, gw


def conv_input_grad(g, w, geo: Geometry, channels):
    """The gradient of conv wrt its input (a transposed convolution of g with w)."""
    out = _wrap(_input_grad_array(g._data, w._data, geo, channels))
    if needs_grad(g, w):
        record(ConvInputGradBackward0, (g, w), out, saved=(g, w)).geo = geo
    return out


class ConvWeightGradBackward0(Node):
    """W = conv_weight_grad(x, g), the adjoint of w -> conv(x, w):
    d/dx = conv_input_grad(g, gg), d/dg = conv(x, gg)."""

    def backward(self, grad):
        x, g = self.saved_tensors
        need_x, need_g = self.needs_input_grad
        geo = self.geo
        gx = conv_input_grad(g, grad, geo, x.shape[1]) if need_x else None
        gg = convolution(x, grad, None, geo) if need_g else None
        return gx, gg


def conv_weight_grad(x, g, geo: Geometry, weight_shape):
    """The gradient of conv wrt its weight: the correlation of x with g."""
    out = _wrap(_weight_grad_array(x._data, g._data, geo, tuple(weight_shape)))
    if needs_grad(x, g):
        record(ConvWeightGradBackward0, (x, g), out, saved=(x, g)).geo = geo
    return out


# ------------------------------------------------------------------ checks

def _check_operands(op, input, weight, bias, n):
    """Types, ranks, dtypes and devices of a convolution's operands; returns whether the
    input is batched."""
    for name, t in (("input", input), ("weight", weight), ("bias", bias)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a tensor, got {describe(t)}")
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{op}: expected {n + 1}D (unbatched) or {n + 2}D (batched) input, "
                           f"but got input of size: {list(input.shape)}")
    if weight.ndim != n + 2:
        raise RuntimeError(f"{op}: expected a {n + 2}D weight (out_channels, in_channels/groups,"
                           f" *kernel_size), but got weight of size {list(weight.shape)}")
    operands = [t for t in (input, weight, bias) if t is not None]
    if len({t.dtype for t in operands}) > 1:
        listed = ", ".join(describe(t) for t in operands)
        raise RuntimeError(f"{op}: input, weight and bias must have the same dtype, got "
                           f"{listed}; convert the input with .to(weight.dtype)")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected floating point tensors, got {describe(input)}; "
                           "convert it with .float()")
    check_same_device(op, *operands)
    return input.ndim == n + 2


def _check_bias(op, bias, channels):
    if bias is not None and tuple(bias.shape) != (channels,):
        raise RuntimeError(f"{op}: expected bias of shape ({channels},) (one per output "
                           f"channel), but got bias of size {list(bias.shape)}")


def _check_kernel_fits(op, geo: Geometry):
    effective = [d * (k - 1) + 1 for d, k in zip(geo.dilation, geo.kernel)]
    if any(e > p for e, p in zip(effective, geo.padded_size)) or min(geo.out_size) <= 0:
        raise RuntimeError(
            f"{op}: calculated padded input size per channel: "
            f"({' x '.join(map(str, geo.padded_size))}). Kernel size: "
            f"({' x '.join(map(str, effective))}). Kernel size can't be greater than actual "
            "input size")


def _positive(op, **values):
    for name, value in values.items():
        if any(v <= 0 for v in value):
            raise RuntimeError(f"{op}: non-positive {name} is not supported, got "
                               f"{name}={list(value)}")


# ------------------------------------------------------------------ public: conv

def _conv(op, n, input, weight, bias, stride, padding, dilation, groups):
    batched = _check_operands(op, input, weight, bias, n)
    x = input if batched else input.unsqueeze(0)
    stride = as_tuple(op, "stride", stride, n)
    dilation = as_tuple(op, "dilation", dilation, n)
    _positive(op, stride=stride, dilation=dilation)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pairs = ((0, 0),) * n
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError(f"{op}: padding='same' is not supported for strided "
                                   f"convolutions (stride={list(stride)})")
            total = [d * (k - 1) for d, k in zip(dilation, kernel)]
            pairs = tuple((t // 2, t - t // 2) for t in total)
        else:
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of "
                             "['valid', 'same']")
    else:
        pad = as_tuple(op, "padding", padding, n)
        if any(p < 0 for p in pad):
            raise RuntimeError(f"{op}: negative padding is not supported, got {list(pad)}")
        pairs = tuple((p, p) for p in pad)
    if not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    out_channels, channels = weight.shape[0], x.shape[1]
    if out_channels % groups:
        raise RuntimeError(f"{op}: given groups={groups}, expected weight to be divisible by "
                           f"{groups} at dimension 0, but got weight of size "
                           f"{list(weight.shape)} instead")
    if weight.shape[1] * groups != channels:
        raise RuntimeError(
            f"{op}: given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {weight.shape[1] * groups} channels, but got "
            f"{channels} channels instead")
    _check_bias(op, bias, out_channels)
    geo = Geometry(stride, pairs, dilation, int(groups), kernel, x.shape[2:])
    _check_kernel_fits(op, geo)
    out = convolution(x, weight, bias, geo)
    return out if batched else out.squeeze(0)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution (cross-correlation) of input (N, C, L) or (C, L) with weight
    (out_channels, C/groups, k). padding: an int, a 1-tuple, 'valid' or 'same'."""
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation) of input (N, C, H, W) or (C, H, W) with weight
    (out_channels, C/groups, kH, kW). padding: an int, a pair, 'valid' or 'same'."""
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution of input (N, C, D, H, W) or (C, D, H, W) with weight
    (out_channels, C/groups, kD, kH, kW)."""
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


# ------------------------------------------------------------------ public: conv_transpose

def transpose_output_size(op, in_size, stride, padding, dilation, kernel, output_padding):
    """The spatial size conv_transpose produces: (n - 1) * s - 2p + d (k - 1) + op + 1."""
    for opad, s, d in zip(output_padding, stride, dilation):
        if opad < 0 or (opad >= s and opad >= d):
            raise RuntimeError(f"{op}: output padding must be smaller than either stride or "
                               f"dilation, but got output_padding={list(output_padding)}, "
                               f"stride={list(stride)}, dilation={list(dilation)}")
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + opad + 1 for n, s, p, d, k, opad
                 in zip(in_size, stride, padding, dilation, kernel, output_padding))


def _conv_transpose(op, n, input, weight, bias, stride, padding, output_padding, groups,
                    dilation):
    batched = _check_operands(op, input, weight, bias, n)
    x = input if batched else input.unsqueeze(0)
    if isinstance(padding, str):
        raise RuntimeError(f"{op}: padding must be an int or a tuple of ints (string padding "
                           f"{padding!r} is not supported for transposed convolutions)")
    stride = as_tuple(op, "stride", stride, n)
    dilation = as_tuple(op, "dilation", dilation, n)
    pad = as_tuple(op, "padding", padding, n)
    out_pad = as_tuple(op, "output_padding", output_padding, n)
    _positive(op, stride=stride, dilation=dilation)
    if any(p < 0 for p in pad):
        raise RuntimeError(f"{op}: negative padding is not supported, got {list(pad)}")
    if not isinstance(groups, (int, np.integer)) or groups <= 0:
        raise RuntimeError(f"{op}: non-positive groups is not supported, got groups={groups}")
    in_channels = x.shape[1]
    if weight.shape[0] != in_channels or in_channels % groups:
        raise RuntimeError(
            f"{op}: given transposed=1, weight of size {list(weight.shape)}, expected "
            f"input{list(x.shape)} to have {weight.shape[0]} channels, but got {in_channels} "
            f"channels instead (weight is (in_channels, out_channels/groups, *kernel_size) "
            f"and in_channels must be divisible by groups={groups})")
    out_channels = weight.shape[1] * groups
    _check_bias(op, bias, out_channels)
    kernel = tuple(weight.shape[2:])
    size = transpose_output_size(op, x.shape[2:], stride, pad, dilation, kernel, out_pad)
    if any(s <= 0 for s in size):
        raise RuntimeError(f"{op}: the output size {list(size)} is too small (input "
                           f"{list(x.shape)}, kernel {list(kernel)}, padding {list(pad)})")
    geo = Geometry(stride, tuple((p, p) for p in pad), dilation, int(groups), kernel, size,
                   out_size=x.shape[2:])
    out = conv_input_grad(x, weight, geo, out_channels)
    if bias is not None:
        out = out + bias.reshape((out_channels,) + (1,) * n)
    return out if batched else out.squeeze(0)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 1-d convolution (the gradient of conv1d wrt its input) of input (N, C, L)
    with weight (C, out_channels/groups, k)."""
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 2-d convolution (the gradient of conv2d wrt its input) of input
    (N, C, H, W) with weight (C, out_channels/groups, kH, kW)."""
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """Transposed 3-d convolution of input (N, C, D, H, W) with weight
    (C, out_channels/groups, kD, kH, kW)."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding,
                           output_padding, groups, dilation)


# ------------------------------------------------------------------ unfold / fold

class Im2ColBackward0(Node):
    def backward(self, grad):
        return col2im(grad, self.geo)


def im2col(x, geo: Geometry):
    """Columns (N, C * prod(kernel), L) of a batched x: what F.unfold returns."""
    data = x._data
    layout = _Columns(geo, xp_of(data), data.shape[1], data.dtype)
    cols = xp_of(data).empty((data.shape[0], data.shape[1] * math.prod(geo.kernel),
                              layout.length), dtype=data.dtype)
    for start, stop, part in _column_chunks(data, geo, layout):
        cols[start:stop] = part
    out = _wrap(cols)
    if needs_grad(x):
        record(Im2ColBackward0, (x,), out).geo = geo
    return out


class Col2ImBackward0(Node):
    def backward(self, grad):
        return im2col(grad, self.geo)


def col2im(cols, geo: Geometry):
    """Columns (N, C * prod(kernel), L) summed back into (N, C, *in_size): F.fold."""
    data = cols._data
    n = data.shape[0]
    channels = data.shape[1] // math.prod(geo.kernel)
    shaped = data.reshape((n, channels) + geo.kernel + geo.out_size)
    out_data = xp_of(data).empty((n, channels) + geo.in_size, dtype=data.dtype)
    out = _wrap(_col2im(shaped, geo, out_data))
    if needs_grad(cols):
        record(Col2ImBackward0, (cols,), out).geo = geo
    return out


def _fold_geometry(op, kernel_size, dilation, padding, stride, in_size):
    kernel = as_tuple(op, "kernel_size", kernel_size, 2)
    dilation = as_tuple(op, "dilation", dilation, 2)
    padding = as_tuple(op, "padding", padding, 2)
    stride = as_tuple(op, "stride", stride, 2)
    _positive(op, kernel_size=kernel, dilation=dilation, stride=stride)
    if any(p < 0 for p in padding):
        raise RuntimeError(f"{op}: padding must be non-negative, got {list(padding)}")
    return Geometry(stride, tuple((p, p) for p in padding), dilation, 1, kernel, in_size)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks (im2col): (N, C, H, W) -> (N, C * kH * kW, L), L the number of
    blocks; unbatched (C, H, W) gives (C * kH * kW, L)."""
    op = "unfold"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a tensor, got {describe(input)}")
    if input.ndim not in (3, 4):
        raise NotImplementedError(f"{op}: input must be 3-D (unbatched) or 4-D (batched), got "
                                  f"shape {shape_str(input.shape)}")
    x = input if input.ndim == 4 else input.unsqueeze(0)
    geo = _fold_geometry(op, kernel_size, dilation, padding, stride, x.shape[2:])
    _check_kernel_fits(op, geo)
    out = im2col(x, geo)
    return out if input.ndim == 4 else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding local blocks back into an image (col2im), the adjoint of unfold:
    (N, C * kH * kW, L) -> (N, C, *output_size); unbatched (C * kH * kW, L) too."""
    op = "fold"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a tensor, got {describe(input)}")
    if input.ndim not in (2, 3):
        raise NotImplementedError(f"{op}: input must be 2-D (unbatched) or 3-D (batched), got "
                                  f"shape {shape_str(input.shape)}")
    cols = input if input.ndim == 3 else input.unsqueeze(0)
    size = as_tuple(op, "output_size", output_size, 2)
    geo = _fold_geometry(op, kernel_size, dilation, padding, stride, size)
    blocks = math.prod(geo.kernel)
    if cols.shape[1] % blocks:
        raise RuntimeError(f"{op}: expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={cols.shape[1]} "
                           f"and kernel_size={list(geo.kernel)}")
    if min(geo.out_size) <= 0 or math.prod(geo.out_size) != cols.shape[2]:
        raise RuntimeError(f"{op}: given output_size={list(size)}, kernel_size="
                           f"{list(geo.kernel)}, dilation={list(geo.dilation)}, padding="
                           f"{[p for p, _ in geo.padding]}, stride={list(geo.stride)}, expected "
                           f"size of input's dimension 2 to match the calculated number of "
                           f"sliding blocks {' * '.join(map(str, geo.out_size))} = "
                           f"{math.prod(geo.out_size)}, but got input.size(2)={cols.shape[2]}")
    out = col2im(cols, geo)
    return out if input.ndim == 3 else out.squeeze(0)
