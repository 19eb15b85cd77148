"""Distances and similarities, as torch.nn.functional: normalize, cosine_similarity,
pairwise_distance, pdist, cdist. All are composites of differentiable labgrad ops."""
from __future__ import annotations

import numpy as np

from ...backend import xp_of
from ...ops._util import describe, shape_str
from ...ops.reductions import vector_norm
from ...tensor import Tensor

__all__ = ["normalize", "cosine_similarity", "pairwise_distance", "pdist", "cdist"]


def _check_tensor(op, t, name="input"):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a tensor, got {describe(t)}")
    if not t.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point {name}, got {describe(t)}; "
                           "convert it with .float()")


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p, eps) along `dim`."""
    _check_tensor("normalize", input)
    denom = vector_norm(input, p, dim, keepdim=True).clamp_min(eps)
    result = input / denom
    if out is not None:
        return out.copy_(result)
    return result


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 * x2) / (max(||x1||, eps) * max(||x2||, eps)) along `dim` (broadcast)."""
    _check_tensor("cosine_similarity", x1, "x1")
    _check_tensor("cosine_similarity", x2, "x2")
    try:
        shape = np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape))  # metadata only
    except ValueError:
        raise RuntimeError(f"cosine_similarity: x1 of shape {shape_str(x1.shape)} and x2 of "
                           f"shape {shape_str(x2.shape)} cannot be broadcast together") from None
    x1, x2 = x1.broadcast_to(shape), x2.broadcast_to(shape)
    # each vector divided by its (clamped) norm first, as PyTorch: no overflow in the product
    n1 = vector_norm(x1, 2, dim, keepdim=True).clamp_min(eps)
    n2 = vector_norm(x2, 2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (broadcast)."""
    _check_tensor("pairwise_distance", x1, "x1")
    _check_tensor("pairwise_distance", x2, "x2")
    ndim = max(x1.ndim, x2.ndim)
    # PyTorch reduces over the last dim of the broadcast shape (dim 0 for 1-D inputs)
    return vector_norm(x1 - x2 + eps, p, -1 if ndim else None, keepdim=keepdim)


def pdist(input, p=2):
    """The p-norm distances between all pairs of rows of (N, M) input, i < j, as a vector
    of N * (N - 1) / 2 values in row-major order."""
    _check_tensor("pdist", input)
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D (shape "
                           f"{shape_str(input.shape)})")
    n = input.shape[0]
    xp = xp_of(input._data)
    rows, cols = xp.triu_indices(n, 1)
    pairs = input[Tensor._wrap(rows)] - input[Tensor._wrap(cols)]
    return vector_norm(pairs, p, -1)


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """The p-norm distances between each row of x1 (B, P, M) and each row of x2 (B, R, M):
    (B, P, R). Computed from the differences exactly (compute_mode is accepted for
    compatibility)."""
    _check_tensor("cdist", x1, "x1")
    _check_tensor("cdist", x2, "x2")
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"cdist: x1 {shape_str(x1.shape)} and x2 {shape_str(x2.shape)} "
                           "must be at least 2-D with the same number of columns")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return vector_norm(diff, p, -1)
