"""Dropout, as torch.nn.functional: dropout, dropout1d/2d/3d (whole channels),
alpha_dropout and feature_alpha_dropout (for SELU networks).

The masks are drawn from labgrad's global generator of the input's device, so
labgrad.manual_seed makes them repeatable. The output is the input times a constant mask
tensor (a multiply node: its gradient is the incoming gradient times the same mask).
"""
from __future__ import annotations

import warnings

import numpy as np

from ... import backend
from ...ops._util import describe
from ...random import _generator_for
from ...tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]

_wrap = Tensor._wrap
# -SELU's scale * alpha: the value SELU saturates to, which alpha dropout drops to.
_ALPHA = 1.7580993408473766


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, shape, keep):
    """A 0/1 array of `shape` in input's dtype: 1 with probability `keep`."""
    data = input._data
    dev = input.device
    rng = _generator_for(dev, None).rng
    with backend.use_device(dev):
        draws = rng.random(shape, dtype=np.float32) if data.dtype.itemsize <= 4 \
            else rng.random(shape)
    return (draws < keep).astype(data.dtype)


def _feature_shape(input):
    """The mask shape that drops whole channels of (N, C, *): (N, C, 1, ..., 1)."""
    return tuple(input.shape[:2]) + (1,) * (input.ndim - 2)


def _apply(input, mask, inplace, shift=None):
    """input * mask (+ shift), as a new tensor or written into input."""
    mask = _wrap(mask)
    if inplace:
        input.mul_(mask)
        return input if shift is None else input.add_(_wrap(shift))
    out = input * mask
    return out if shift is None else out + _wrap(shift)


def _dropout(input, p, training, inplace, feature, alpha):
    """PyTorch's dropout family: scale the kept values so the expected value is unchanged;
    alpha dropout also keeps the mean and variance of SELU activations."""
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout: expected a tensor, got {describe(input)}")
    _check_p(p)
    if p == 0 or not training or input.numel() == 0:
        return input
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"dropout: expected a floating point input, got {describe(input)}")
    if p == 1:
        zero = input._data.dtype.type(0)
        return input.mul_(zero) if inplace else input * zero
    shape = _feature_shape(input) if feature else tuple(input.shape)
    keep = 1.0 - p
    mask = _keep_mask(input, shape, keep)
    if not alpha:
        mask *= mask.dtype.type(1.0 / keep)
        return _apply(input, mask, inplace)
    a = 1.0 / np.sqrt((_ALPHA * _ALPHA * p + 1) * keep)
    # dropped values become -alpha' (SELU's floor), then the affine a*x + b restores moments
    shift = (mask - 1) * mask.dtype.type(_ALPHA * a) + mask.dtype.type(_ALPHA * a * p)
    mask *= mask.dtype.type(a)
    return _apply(input, mask, inplace, shift)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only)."""
    return _dropout(input, p, training, inplace, feature=False, alpha=False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped values go to SELU's negative saturation value, then
    an affine map keeps the input's mean and variance."""
    return _dropout(input, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels (dim 1) of (N, C, *) input."""
    return _dropout(input, p, training, inplace, feature=True, alpha=True)


def _unbatched(input, p, training, inplace):
    """Channel dropout of input without a batch dim, as a batch of one (in place through
    the unsqueezed view when asked)."""
    out = _dropout(input.unsqueeze(0), p, training, inplace, feature=True, alpha=False)
    return input if inplace else out.squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) input with probability p."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                           "input. Note that dropout1d exists to provide channel-wise dropout "
                           "on inputs with 1 spatial dimension, a channel dimension, and an "
                           "optional batch dimension (i.e. 2D or 3D inputs).")
    if input.ndim == 2:
        return _unbatched(input, p, training, inplace)
    return _dropout(input, p, training, inplace, feature=True, alpha=False)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) input with probability p.

    As PyTorch still does, a 3-D input is taken as (N, C, L) (with a warning)."""
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead.",
                      stacklevel=2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that "
                      "channel-wise 1D dropout behavior is desired - input is interpreted as "
                      "shape (N, C, L), where C is the channel dim. To maintain the 1D "
                      "channel-wise dropout behavior, please switch to using dropout1d "
                      "instead.", stacklevel=2)
    return _dropout(input, p, training, inplace, feature=True, alpha=False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p."""
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is "
                      "deprecated and will result in an error in a future release. To retain "
                      "the behavior and silence this warning, please use dropout instead.",
                      stacklevel=2)
    if input.ndim == 4:
        return _unbatched(input, p, training, inplace)
    return _dropout(input, p, training, inplace, feature=True, alpha=False)
