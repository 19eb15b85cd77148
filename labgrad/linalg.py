"""labgrad.linalg: norms (more of torch.linalg to come)."""
from __future__ import annotations

from .ops.reductions import vector_norm  # noqa: F401
from .ops.reductions import norm as _norm


def norm(input, ord=None, dim=None, keepdim=False, *, dtype=None):
    """Vector 2-norm by default; with a 2-D input and no dim, the Frobenius norm."""
    if ord is None or ord == "fro":
        return vector_norm(input, 2, dim, keepdim, dtype=dtype)
    if dim is None and input.ndim != 1:
        raise RuntimeError(f"linalg.norm: ord={ord!r} needs a 1-D input or a dim; got shape "
                           f"{tuple(input.shape)} (matrix norms other than 'fro' are not yet "
                           "supported)")
    return vector_norm(input, ord, dim, keepdim, dtype=dtype)
