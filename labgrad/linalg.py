"""labgrad.linalg: the differentiable part of torch.linalg, namely products and norms.

Decompositions (svd, qr, eig, ...) and what needs them (inv, solve, the nuclear and spectral
norms) are not here yet.
"""
from __future__ import annotations

from .ops.linalg import _check_operands, matmul  # noqa: F401 - linalg.matmul is matmul
from .ops.reductions import vector_norm
from .tensor import Tensor, _wrap_dim

_INF = float("inf")


def _check_floating(op, A):
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}: expected a tensor, got {type(A).__name__}")
    if not A.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected a floating point tensor, got {A.dtype.name}; "
                           "convert it with .float() or pass dtype=")


def _matrix_dims(dim, ndim):
    """`dim` as two different non-negative dims: the rows and the columns."""
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a pair of dims, got {dim!r}")
    rows, cols = (_wrap_dim("linalg.matrix_norm", int(d), ndim) for d in dim)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: the two dims must differ, got {tuple(dim)}")
    return rows, cols


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """A norm of the matrices in the dims `dim` of A.

    'fro' is the square root of the sum of squares; 1 and -1 are the largest and smallest sum
    of absolute values down a column; inf and -inf the same along a row.
    """
    x = A.to(dtype) if dtype is not None and isinstance(A, Tensor) else A
    _check_floating("linalg.matrix_norm", x)
    if x.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: expected a tensor with at least 2 dimensions, "
                           f"got shape {tuple(x.shape)}")
    rows, cols = _matrix_dims(dim, x.ndim)
    if ord == "fro":
        return vector_norm(x, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        raise RuntimeError(f"linalg.matrix_norm: ord={ord!r} needs singular values (an SVD), "
                           "which labgrad does not compute yet; use 'fro', 1, -1, inf or -inf")
    if ord in (1, -1):
        summed, extreme = rows, cols  # column sums, then the extreme column
    elif ord in (_INF, -_INF):
        summed, extreme = cols, rows
    else:
        raise RuntimeError(f"linalg.matrix_norm: ord={ord!r} is not a matrix norm; use 'fro', "
                           "1, -1, inf or -inf")
    sums = x.abs().sum(summed, keepdim=True)
    out = sums.amax(extreme, keepdim=True) if ord > 0 else sums.amin(extreme, keepdim=True)
    return out if keepdim else out.squeeze((rows, cols))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """A vector norm or a matrix norm, chosen as torch.linalg.norm chooses.

    An int dim (or one dim in a tuple) gives a vector norm, a pair of dims a matrix norm. With
    no dim: ord=None is the 2-norm of all values; otherwise A must be 1-D (a vector norm) or
    2-D (a matrix norm).
    """
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        if len(dim) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
        if isinstance(ord, str):
            raise RuntimeError(f"linalg.norm: ord={ord!r} is a matrix norm, which needs dim to "
                               f"be a pair of dims, got dim={tuple(dim)}")
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1 and not isinstance(ord, str):
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim in (1, 2):
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: with ord={ord!r} and no dim, the input must be 1-D or "
                       f"2-D, got shape {tuple(A.shape)}; pass dim to say which dims to use")


def vecdot(x, y, *, dim=-1):
    """The dot products of vectors along `dim`, broadcasting the other dims."""
    _check_operands("linalg.vecdot", {"x": x, "y": y})
    _check_floating("linalg.vecdot", x)
    return (x * y).sum(dim)


def multi_dot(tensors):
    """The product of a chain of matrices; the first and the last may be vectors."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"linalg.multi_dot: expected at least 2 tensors, got {len(tensors)}")
    _check_operands("linalg.multi_dot", {f"tensor {i}": t for i, t in enumerate(tensors)})
    for i, t in enumerate(tensors):
        allowed = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if t.ndim not in allowed:
            raise RuntimeError(f"linalg.multi_dot: tensor {i} must be "
                               f"{' or '.join(f'{n}-D' for n in allowed)}, got shape "
                               f"{tuple(t.shape)}")
    out = tensors[0]
    for t in tensors[1:]:
        out = matmul(out, t)
    return out
