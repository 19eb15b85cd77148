"""Matrix products: matmul with all of PyTorch's shape cases, and its relatives.

mm, bmm, mv and dot are the primitives: each checks its operands (errors name the op and both
shapes), computes on arrays and records a node named as PyTorch names it. matmul dispatches to
them; the add-and-multiply family (addmm, addmv, addr, baddbmm, addbmm) reuses their gradient
rules; tensordot, inner, outer and kron are built from other ops. einsum, which has its own
node, is in einsum.py. Every backward is written with these same ops, so gradients of
gradients work.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd import grad_mode
from ..autograd.graph import Node
from ..creation import with_out
from ..tensor import Tensor
from ._util import (check_same_device, describe, needs_grad, record, scalar_value, shape_str,
                    wrap_dim, xp_of)
from .shape import broadcast_shape

_wrap = Tensor._wrap
_state = grad_mode.state
_ndarray = np.ndarray


# ------------------------------------------------------------------ operand checks


def _check_operands(op, named):
    """Tensors on one device with one dtype, as PyTorch's products require (no promotion).

    `named` maps each operand's parameter name to its value, so errors can name it.
    """
    for name, t in named.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected {name} to be a tensor, got {type(t).__name__}")
    tensors = list(named.values())
    if any(type(t._data) is not _ndarray for t in tensors):
        check_same_device(op, *tensors)
    if len({t._data.dtype for t in tensors}) > 1:
        listed = " and ".join(f"{t.dtype.name} ({name})" for name, t in named.items())
        which = "both operands" if len(tensors) == 2 else "all operands"
        raise RuntimeError(f"{op}: expected {which} to have the same dtype, got {listed}. "
                           "Convert one with .to(dtype) first.")
    if tensors[0]._data.dtype.kind == "b":
        raise RuntimeError(f"{op}: not implemented for bool tensors (as in PyTorch); convert "
                           "them with .int() or .float() first")


def _inner_error(op, shape_a, shape_b, inner_a, inner_b):
    return RuntimeError(f"{op}: {shape_str(shape_a)} @ {shape_str(shape_b)}: inner dimensions "
                        f"{inner_a} and {inner_b} differ")


def _check_ranks(op, shapes, ranks, hint):
    """Each operand has the rank the op needs; `shapes` and `ranks` map names to them."""
    if all(len(shapes[name]) == rank for name, rank in ranks.items()):
        return
    expected = " and ".join(f"a {rank}-D {name}" for name, rank in ranks.items())
    got = " and ".join(shape_str(shapes[name]) for name in ranks)
    raise RuntimeError(f"{op}: expected {expected}, got shapes {got}{hint}")


def _check_mm(op, a, b, names=("mat1", "mat2")):
    """Shapes (n, k) and (k, m)."""
    _check_ranks(op, dict(zip(names, (a.shape, b.shape))), dict.fromkeys(names, 2),
                 "; use matmul for vectors and batches")
    if a.shape[1] != b.shape[0]:
        raise _inner_error(op, a.shape, b.shape, a.shape[1], b.shape[0])


def _check_bmm(op, a, b, names=("batch1", "batch2")):
    """Shapes (batch, n, k) and (batch, k, m): the same batch size, no broadcasting."""
    _check_ranks(op, dict(zip(names, (a.shape, b.shape))), dict.fromkeys(names, 3),
                 "; use matmul for other ranks")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"{op}: batch sizes {a.shape[0]} and {b.shape[0]} differ (shapes "
                           f"{shape_str(a.shape)} and {shape_str(b.shape)}); {op} does not "
                           "broadcast, matmul does")
    if a.shape[2] != b.shape[1]:
        raise _inner_error(op, a.shape, b.shape, a.shape[2], b.shape[1])


def _check_mv(op, mat, vec, mat_name="mat"):
    """Shapes (n, k) and (k,)."""
    _check_ranks(op, {mat_name: mat.shape, "vec": vec.shape}, {mat_name: 2, "vec": 1}, "")
    if mat.shape[1] != vec.shape[0]:
        raise _inner_error(op, mat.shape, vec.shape, mat.shape[1], vec.shape[0])


def _check_vectors(op, a, b, names=("input", "other"), same_length=True):
    """Two 1-D shapes, of the same length unless `same_length` is False."""
    _check_ranks(op, dict(zip(names, (a.shape, b.shape))), dict.fromkeys(names, 1), "")
    if same_length and a.shape[0] != b.shape[0]:
        raise RuntimeError(f"{op}: expected vectors of the same length, got shapes "
                           f"{shape_str(a.shape)} and {shape_str(b.shape)}")


def _as_dtype(array, dtype):
    """The result in the operands' dtype (NumPy computes bfloat16 products in float32)."""
    return array if array.dtype == dtype else array.astype(dtype)


# ------------------------------------------------------------------ gradient rules
# Each rule takes the gradient of a product of `a` and `b` and returns the gradients of the
# two factors, computing only those asked for.


def _mm_grads(grad, a, b, need_a, need_b):
    """Matrices or (broadcast) batches of them: grad @ b^T and a^T @ grad."""
    return (matmul(grad, b.mT) if need_a else None,
            matmul(a.mT, grad) if need_b else None)


def _mv_grads(grad, mat, vec, need_mat, need_vec):
    """mat @ vec: the outer product grad vec^T, and mat^T @ grad."""
    return (outer(grad, vec) if need_mat else None,
            mv(mat.mT, grad) if need_vec else None)


def _dot_grads(grad, a, b, need_a, need_b):
    """a . b, with a 0-d grad."""
    return (grad * b if need_a else None, grad * a if need_b else None)


def _outer_grads(grad, a, b, need_a, need_b):
    """The outer product a b^T: grad @ b and grad^T @ a."""
    return (mv(grad, b) if need_a else None, mv(grad.mT, a) if need_b else None)


def _scaled(grad, factor):
    return grad if factor == 1 else grad * factor


def _save_crosswise(a, b):
    """Each factor is needed only for the other's gradient, so save it only then."""
    return (a if b._rg else None, b if a._rg else None)


class _ProductBackward(Node):
    """Backward of a product of two tensors, by the class's gradient `rule`."""

    rule = None

    def backward(self, grad):
        a, b = self.saved_tensors
        return type(self).rule(grad, a, b, *self.needs_input_grad)


class MmBackward0(_ProductBackward):
    rule = staticmethod(_mm_grads)


class BmmBackward0(_ProductBackward):
    """Also matmul's batched product: the engine sums gradients over broadcast batch dims."""

    rule = staticmethod(_mm_grads)


class MvBackward0(_ProductBackward):
    rule = staticmethod(_mv_grads)


class DotBackward0(_ProductBackward):
    rule = staticmethod(_dot_grads)


class VdotBackward0(DotBackward0):
    pass  # real tensors only: vdot is dot


def _product(node_cls, a, b, array):
    """Wrap the product `array` of tensors a and b, recording node_cls when grad is needed."""
    out = _wrap(_as_dtype(array, a._data.dtype))
    if needs_grad(a, b):
        record(node_cls, (a, b), out, saved=_save_crosswise(a, b))
    return out


# ------------------------------------------------------------------ products


def mm(input, mat2):
    """The product of two matrices, (n, k) @ (k, m)."""
    _check_operands("mm", {"input": input, "mat2": mat2})
    _check_mm("mm", input._data, mat2._data, ("input", "mat2"))
    return _product(MmBackward0, input, mat2, input._data @ mat2._data)


def bmm(input, mat2):
    """Matrix products batch by batch: (b, n, k) @ (b, k, m), without broadcasting."""
    _check_operands("bmm", {"input": input, "mat2": mat2})
    _check_bmm("bmm", input._data, mat2._data, ("input", "mat2"))
    return _product(BmmBackward0, input, mat2, input._data @ mat2._data)


def mv(input, vec):
    """Matrix times vector: (n, k) @ (k,)."""
    _check_operands("mv", {"input": input, "vec": vec})
    _check_mv("mv", input._data, vec._data, "input")
    return _product(MvBackward0, input, vec, input._data @ vec._data)


def dot(input, tensor):
    """The dot product of two vectors of the same length (a 0-d tensor)."""
    _check_operands("dot", {"input": input, "tensor": tensor})
    _check_vectors("dot", input._data, tensor._data, ("input", "tensor"))
    return _product(DotBackward0, input, tensor, input._data @ tensor._data)


def vdot(input, other):
    """dot with the first vector conjugated; labgrad's tensors are real, so it is dot."""
    _check_operands("vdot", {"input": input, "other": other})
    _check_vectors("vdot", input._data, other._data)
    return _product(VdotBackward0, input, other, input._data @ other._data)


def _check_matmul_shapes(shape_a, shape_b):
    if not shape_a or not shape_b:
        raise RuntimeError(f"matmul: both arguments need at least 1 dimension, got shapes "
                           f"{shape_str(shape_a)} and {shape_str(shape_b)}")
    inner_b = shape_b[-2] if len(shape_b) > 1 else shape_b[0]
    if shape_a[-1] != inner_b:
        raise _inner_error("matmul", shape_a, shape_b, shape_a[-1], inner_b)
    batch_a, batch_b = shape_a[:-2], shape_b[:-2]
    if batch_a and batch_b and broadcast_shape(batch_a, batch_b) is None:
        raise RuntimeError(f"matmul: {shape_str(shape_a)} @ {shape_str(shape_b)}: batch "
                           f"dimensions {shape_str(batch_a)} and {shape_str(batch_b)} cannot be "
                           "broadcast (each size must match or be 1)")


def matmul(input, other):
    """Matrix product with PyTorch's (and NumPy's) rules for 1-D and batched operands.

    1-D @ 1-D is dot and 2-D @ 1-D is mv. Otherwise a 1-D operand is a row (on the left) or a
    column (on the right) whose added dimension is removed again, and dimensions before the
    last two are batch dimensions, broadcast against each other.
    """
    a, b = getattr(input, "_data", None), getattr(other, "_data", None)
    if (type(a) is _ndarray and type(b) is _ndarray and a.ndim == 2 and b.ndim == 2
            and a.dtype is b.dtype and a.dtype.kind == "f" and a.shape[1] == b.shape[0]):
        # The case of every linear layer, checked in one expression: a CPU float matrix
        # product whose operands need no conversion.
        out = _wrap(a @ b)
        if _state.grad_enabled and (input._rg or other._rg):
            record(MmBackward0, (input, other), out, saved=_save_crosswise(input, other))
        return out
    _check_operands("matmul", {"input": input, "other": other})
    a, b = input._data, other._data
    _check_matmul_shapes(a.shape, b.shape)
    if b.ndim == 1:
        if a.ndim == 1:
            return _product(DotBackward0, input, other, a @ b)
        if a.ndim == 2:
            return _product(MvBackward0, input, other, a @ b)
        return _matmul_matrices(input, other.unsqueeze(-1)).squeeze(-1)
    if a.ndim == 1:
        return _matmul_matrices(input.unsqueeze(0), other).squeeze(-2)
    return _matmul_matrices(input, other)


def _matmul_matrices(a, b):
    """matmul of operands with at least 2 dimensions each, already checked."""
    ad, bd = a._data, b._data
    if ad.ndim == 2 and bd.ndim == 2:
        return _product(MmBackward0, a, b, ad @ bd)
    if bd.ndim == 2:
        # A batch times one matrix (as in a linear layer): stack a's batches into rows for a
        # single mm, so that b's gradient comes out as one (k, m) product rather than one per
        # batch, summed afterwards. PyTorch does the same.
        rows = a.reshape(math.prod(ad.shape[:-1]), ad.shape[-1])
        out = _product(MmBackward0, rows, b, rows._data @ bd)
        return out.reshape(ad.shape[:-1] + bd.shape[-1:])
    return _product(BmmBackward0, a, b, ad @ bd)


def outer(input, vec2):
    """The outer product of two vectors: (n,) and (m,) give (n, m). Promotes dtypes."""
    for name, t in (("input", input), ("vec2", vec2)):
        if not isinstance(t, Tensor):
            raise TypeError(f"outer: expected {name} to be a tensor, got {type(t).__name__}")
    if input.ndim != 1 or vec2.ndim != 1:
        raise RuntimeError(f"outer: expected two 1-D tensors, got shapes "
                           f"{shape_str(input.shape)} and {shape_str(vec2.shape)}")
    return input.unsqueeze(-1) * vec2  # as in PyTorch, recorded as MulBackward0


ger = outer


def inner(input, other):
    """Sum of products over the last dimension of both; a 0-d operand just multiplies."""
    _check_operands("inner", {"input": input, "other": other})
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner: the last dimensions of {shape_str(input.shape)} and "
                           f"{shape_str(other.shape)} differ ({input.shape[-1]} and "
                           f"{other.shape[-1]})")
    return tensordot(input, other, ([-1], [-1]))


def _tensordot_dims(dims, ndim_a, ndim_b):
    """`dims` (an int n, or a pair of dim lists) as two lists of non-negative dims."""
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if not 0 <= dims <= min(ndim_a, ndim_b):
            raise RuntimeError(f"tensordot: dims={dims} must be between 0 and the smaller "
                               f"number of dimensions ({ndim_a} and {ndim_b})")
        return list(range(ndim_a - dims, ndim_a)), list(range(dims))
    if not isinstance(dims, (tuple, list)) or len(dims) != 2:
        raise TypeError(f"tensordot: dims must be an int or a pair of lists of dims, got "
                        f"{dims!r}")
    pair = [[d] if isinstance(d, (int, np.integer)) else list(d) for d in dims]
    if len(pair[0]) != len(pair[1]):
        raise RuntimeError(f"tensordot: both lists of dims must have the same length, got "
                           f"{pair[0]} and {pair[1]}")
    wrapped = []
    for listed, ndim in zip(pair, (ndim_a, ndim_b)):
        axes = [wrap_dim("tensordot", int(d), ndim) for d in listed]
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"tensordot: dims {listed} name a dimension more than once")
        wrapped.append(axes)
    return wrapped


@with_out
def tensordot(a, b, dims=2):
    """Sum of products over dims of `a` paired with dims of `b`; the rest are kept in order."""
    _check_operands("tensordot", {"a": a, "b": b})
    dims_a, dims_b = _tensordot_dims(dims, a.ndim, b.ndim)
    shape_a, shape_b = a.shape, b.shape
    for da, db in zip(dims_a, dims_b):
        if shape_a[da] != shape_b[db]:
            raise RuntimeError(f"tensordot: contracted dimensions differ: dim {da} of a "
                               f"{shape_str(shape_a)} has size {shape_a[da]}, dim {db} of b "
                               f"{shape_str(shape_b)} has size {shape_b[db]}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    kept = [shape_a[d] for d in free_a] + [shape_b[d] for d in free_b]
    summed = math.prod(shape_a[d] for d in dims_a)
    # One matrix product: a's kept dims as rows, the summed ones as columns; b the other way.
    rows = a.permute(free_a + dims_a).reshape(math.prod(kept[:len(free_a)]), summed)
    cols = b.permute(dims_b + free_b).reshape(summed, math.prod(kept[len(free_a):]))
    return mm(rows, cols).reshape(kept)


def kron(input, other):
    """The Kronecker product: block (i, j, ...) is input[i, j, ...] * other. Promotes dtypes."""
    for name, t in (("input", input), ("other", other)):
        if not isinstance(t, Tensor):
            raise TypeError(f"kron: expected {name} to be a tensor, got {type(t).__name__}")
    ndim = max(input.ndim, other.ndim)
    shape_a = (1,) * (ndim - input.ndim) + tuple(input.shape)
    shape_b = (1,) * (ndim - other.ndim) + tuple(other.shape)
    # Interleave the dimensions, a's at even positions and b's at odd ones: merging each pair
    # then puts element (i, j) of a pair at i * size_b + j, which is the Kronecker layout.
    a = input.reshape(tuple(x for s in shape_a for x in (s, 1)))
    b = other.reshape(tuple(x for s in shape_b for x in (1, s)))
    return (a * b).reshape(tuple(sa * sb for sa, sb in zip(shape_a, shape_b)))


class TraceBackward0(Node):
    def backward(self, grad):
        rows, cols = self._input_meta[0][0]
        eye = xp_of(grad._data).eye(rows, cols, dtype=grad._data.dtype)
        return grad * _wrap(eye)


def trace(input):
    """The sum of a matrix's diagonal; integers sum as int64, as in PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"trace: expected a tensor, got {type(input).__name__}")
    data = input._data
    if data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix (2-D), got shape {shape_str(data.shape)}")
    if data.dtype.kind == "b":
        raise RuntimeError("trace: not implemented for bool tensors (as in PyTorch); convert "
                           "with .int() first")
    dtype = np.dtype("int64") if data.dtype.kind in "iu" else data.dtype
    out = _wrap(_as_dtype(xp_of(data).trace(data, dtype=dtype), dtype))
    if needs_grad(input):
        record(TraceBackward0, (input,), out)
    return out


# ------------------------------------------------------------------ beta * input + alpha * product


class _AddProductBackward(Node):
    """Backward of beta * input + alpha * product(a, b), by the product's gradient `rule`."""

    rule = None

    def product_grad(self, grad):
        """The gradient of the product itself (addbmm's product is summed over batches)."""
        return grad

    def backward(self, grad):
        a, b = self.saved_tensors
        need_input, need_a, need_b = self.needs_input_grad
        grad_input = _scaled(grad, self.beta) if need_input else None
        grad_product = self.product_grad(_scaled(grad, self.alpha))
        grad_a, grad_b = type(self).rule(grad_product, a, b, need_a, need_b)
        return grad_input, grad_a, grad_b


class AddmmBackward0(_AddProductBackward):
    rule = staticmethod(_mm_grads)


class BaddbmmBackward0(_AddProductBackward):
    rule = staticmethod(_mm_grads)


class AddbmmBackward0(_AddProductBackward):
    rule = staticmethod(_mm_grads)

    def product_grad(self, grad):
        return grad.unsqueeze(0)  # every batch's product got the same gradient


class AddmvBackward0(_AddProductBackward):
    rule = staticmethod(_mv_grads)


class AddrBackward0(_AddProductBackward):
    rule = staticmethod(_outer_grads)


def _scale_and_add(op, input, product, beta, alpha):
    """The array beta * input + alpha * product; input broadcasts to the product's shape."""
    data = input._data
    if broadcast_shape(data.shape, product.shape) != product.shape:
        raise RuntimeError(f"{op}: input of shape {shape_str(data.shape)} cannot be broadcast "
                           f"to the product's shape {shape_str(product.shape)}")
    if data.dtype.kind in "iu" and (isinstance(beta, float) or isinstance(alpha, float)):
        raise RuntimeError(f"{op}: for integer tensors, beta and alpha must be integers, got "
                           f"beta={beta!r} and alpha={alpha!r}")
    out = product if alpha == 1 else product * alpha
    if beta != 0:  # beta = 0 ignores input, even its NaNs, as in PyTorch
        out = out + (data if beta == 1 else data * beta)
    return _as_dtype(out, data.dtype)


def _add_product(op, node_cls, input, a, b, product, beta, alpha):
    """beta * input + alpha * product, where `product` is the array made from tensors a, b."""
    beta, alpha = scalar_value(beta), scalar_value(alpha)
    out = _wrap(_scale_and_add(op, input, product, beta, alpha))
    if needs_grad(input, a, b):
        node = record(node_cls, (input, a, b), out, saved=_save_crosswise(a, b))
        node.beta, node.alpha = beta, alpha
    return out


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the product's shape."""
    _check_operands("addmm", {"input": input, "mat1": mat1, "mat2": mat2})
    _check_mm("addmm", mat1._data, mat2._data)
    product = mat1._data @ mat2._data
    return _add_product("addmm", AddmmBackward0, input, mat1, mat2, product, beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2)."""
    _check_operands("baddbmm", {"input": input, "batch1": batch1, "batch2": batch2})
    _check_bmm("baddbmm", batch1._data, batch2._data)
    product = batch1._data @ batch2._data
    return _add_product("baddbmm", BaddbmmBackward0, input, batch1, batch2, product, beta,
                        alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (the sum over batches of batch1[i] @ batch2[i])."""
    _check_operands("addbmm", {"input": input, "batch1": batch1, "batch2": batch2})
    _check_bmm("addbmm", batch1._data, batch2._data)
    product = (batch1._data @ batch2._data).sum(axis=0)
    return _add_product("addbmm", AddbmmBackward0, input, batch1, batch2, product, beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec)."""
    _check_operands("addmv", {"input": input, "mat": mat, "vec": vec})
    _check_mv("addmv", mat._data, vec._data)
    product = mat._data @ vec._data
    return _add_product("addmv", AddmvBackward0, input, mat, vec, product, beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta * input + alpha * outer(vec1, vec2)."""
    _check_operands("addr", {"input": input, "vec1": vec1, "vec2": vec2})
    _check_vectors("addr", vec1._data, vec2._data, ("vec1", "vec2"), same_length=False)
    product = vec1._data[:, None] * vec2._data[None, :]
    return _add_product("addr", AddrBackward0, input, vec1, vec2, product, beta, alpha)


# ------------------------------------------------------------------ transposes


def numpy_T(input):
    """``t.T``: all dimensions reversed."""
    return input.permute(tuple(range(input.ndim - 1, -1, -1)))


def matrix_T(input):
    """``t.mT``: the last two dimensions swapped."""
    if input.ndim < 2:
        raise RuntimeError(f"mT: expected a tensor with at least 2 dimensions, got shape "
                           f"{shape_str(input.shape)}")
    return input.transpose(-2, -1)


METHODS = ("matmul", "mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "inner", "kron",
           "trace", "addmm", "baddbmm", "addbmm", "addmv", "addr")
INPLACE = ("addmm", "baddbmm", "addbmm", "addmv", "addr")
FUNCTIONS = ("tensordot",)
