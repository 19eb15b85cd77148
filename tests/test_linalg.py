"""Linear algebra beyond the op table: error messages, integer and bool dtypes, what the
products save for backward, and the graph they record."""
from __future__ import annotations

import re

import numpy as np
import pytest

import labgrad as lg

from tests.ops.cases_linalg import MATMUL_SHAPES


def _randn(*shape, dtype=lg.float64, requires_grad=False):
    data = np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape)
    return lg.tensor(data, dtype=dtype, requires_grad=requires_grad)


def _raises(fn, *fragments, error=RuntimeError):
    """fn() raises `error` with a message containing every fragment."""
    with pytest.raises(error) as info:
        fn()
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


# ------------------------------------------------------------------ error messages


def test_matmul_inner_dimension_error_names_shapes():
    _raises(lambda: _randn(32, 10) @ _randn(20, 5),
            "matmul: (32, 10) @ (20, 5): inner dimensions 10 and 20 differ")
    _raises(lambda: _randn(3) @ _randn(4), "matmul: (3,) @ (4,)", "3 and 4 differ")


def test_matmul_batch_broadcast_error():
    _raises(lambda: _randn(2, 2, 3) @ _randn(3, 3, 5),
            "matmul: (2, 2, 3) @ (3, 3, 5)", "batch dimensions (2,) and (3,)")


def test_matmul_needs_at_least_one_dimension():
    scalar = lg.tensor(2.0, dtype=lg.float64)
    _raises(lambda: lg.matmul(scalar, _randn(3)), "at least 1 dimension", "()", "(3,)")


def test_matmul_dtype_mismatch_names_both():
    a, b = _randn(2, 3, dtype=lg.float32), _randn(3, 4, dtype=lg.float64)
    _raises(lambda: a @ b, "matmul: expected both operands to have the same dtype",
            "float32 (input)", "float64 (other)")
    _raises(lambda: _randn(3, 3).int() @ _randn(3, 3), "int32 (input) and float64 (other)")


def test_matmul_rejects_non_tensors():
    _raises(lambda: lg.matmul(_randn(2, 2), [[1.0, 0.0], [0.0, 1.0]]),
            "matmul: expected other to be a tensor, got list", error=TypeError)


@pytest.mark.parametrize("fn, fragments", [
    (lambda: lg.mm(_randn(2, 3, 3), _randn(3, 3)),
     ("mm: expected a 2-D input and a 2-D mat2", "(2, 3, 3)", "use matmul")),
    (lambda: lg.mm(_randn(2, 3), _randn(4, 5)), ("mm: (2, 3) @ (4, 5): inner dimensions",)),
    (lambda: lg.bmm(_randn(3, 3), _randn(3, 3)), ("bmm: expected a 3-D input",)),
    (lambda: lg.bmm(_randn(2, 2, 3), _randn(3, 3, 5)), ("bmm: batch sizes 2 and 3 differ",)),
    (lambda: lg.bmm(_randn(2, 2, 3), _randn(2, 4, 5)), ("inner dimensions 3 and 4 differ",)),
    (lambda: lg.mv(_randn(3, 3), _randn(4)), ("mv: (3, 3) @ (4,)",)),
    (lambda: lg.mv(_randn(3), _randn(3)), ("mv: expected a 2-D input and a 1-D vec",)),
    (lambda: lg.dot(_randn(3, 3), _randn(3)), ("dot: expected a 1-D input and a 1-D tensor",)),
    (lambda: lg.dot(_randn(3), _randn(4)), ("dot: expected vectors of the same length",)),
    (lambda: lg.outer(_randn(3, 1), _randn(3)), ("outer: expected two 1-D tensors",)),
    (lambda: lg.inner(_randn(2, 3), _randn(4)), ("inner: the last dimensions",)),
    (lambda: lg.trace(_randn(2, 2, 2)), ("trace: expected a matrix (2-D)", "(2, 2, 2)")),
    (lambda: lg.tensordot(_randn(2, 3, 4), _randn(3, 5, 5)),
     ("tensordot: contracted dimensions differ", "dim 2 of a", "size 4", "size 5")),
    (lambda: lg.tensordot(_randn(2, 3), _randn(3), 3), ("tensordot: dims=3",)),
    (lambda: lg.tensordot(_randn(2, 3), _randn(3, 3), ([1, 1], [0, 1])),
     ("more than once",)),
    (lambda: lg.tensordot(_randn(2, 3), _randn(3, 3), ([1], [0, 1])), ("same length",)),
    (lambda: lg.addmm(_randn(2, 3), _randn(3, 3), _randn(3, 3)),
     ("addmm: input of shape (2, 3) cannot be broadcast to the product's shape (3, 3)",)),
    (lambda: lg.addmm(_randn(3, 3), _randn(3, 3, 3), _randn(3, 3)),
     ("addmm: expected a 2-D mat1 and a 2-D mat2",)),
    (lambda: lg.addmm(_randn(3, 3).long(), _randn(3, 3).long(), _randn(3, 3).long(), beta=0.5),
     ("addmm: for integer tensors, beta and alpha must be integers",)),
    (lambda: lg.baddbmm(_randn(3, 3), _randn(2, 3, 3), _randn(3, 3, 3)),
     ("baddbmm: batch sizes 2 and 3 differ",)),
    (lambda: lg.addmm(_randn(3, 3, dtype=lg.float32), _randn(3, 3), _randn(3, 3)),
     ("addmm: expected all operands to have the same dtype", "float32 (input)",
      "float64 (mat1)", "float64 (mat2)")),
])
def test_product_errors(fn, fragments):
    _raises(fn, *fragments)


@pytest.mark.parametrize("fn, fragments", [
    (lambda: lg.einsum("ij,jk->ik", _randn(2, 3)), ("has subscripts for 2 operands", "1 were")),
    (lambda: lg.einsum("ijk->i", _randn(2, 3)), ("operand 0 has shape (2, 3)", "'ijk' name 3")),
    (lambda: lg.einsum("i->", _randn(2, 3)), ("'i' name 1 dimension",)),
    (lambda: lg.einsum("ij->ii", _randn(3, 3)), ("output subscript i appears more than once",)),
    (lambda: lg.einsum("ij->ik", _randn(3, 3)), ("output subscript k does not appear",)),
    (lambda: lg.einsum("i1,jk->ik", _randn(3, 3), _randn(3, 3)), ("invalid subscript '1'",)),
    (lambda: lg.einsum("i..j->ij", _randn(3, 3)), ("outside a single ellipsis",)),
    (lambda: lg.einsum("...i...->i", _randn(3, 3)), ("outside a single ellipsis",)),
    (lambda: lg.einsum("ij"), ("needs at least one operand",)),
])
def test_einsum_equation_errors(fn, fragments):
    _raises(fn, *fragments, error=ValueError)


def test_einsum_size_errors():
    _raises(lambda: lg.einsum("ij,jk->ik", _randn(2, 3), _randn(4, 5)),
            "einsum: subscript j has size 4 in operand 1", "size 3 in an earlier operand")
    _raises(lambda: lg.einsum("ii->i", _randn(2, 3)),
            "subscript i is repeated in operand 0", "sizes 2 and 3")
    _raises(lambda: lg.einsum("ij,jk", _randn(2, 3), _randn(3, 2, dtype=lg.float32)),
            "einsum: expected both operands", "float64 (operand 0)", "float32 (operand 1)")
    _raises(lambda: lg.einsum("i,i", _randn(3), [1.0, 2.0, 3.0]),
            "expected operand 1 to be a tensor", error=TypeError)


@pytest.mark.parametrize("fn, fragments", [
    (lambda: lg.linalg.matrix_norm(_randn(3)), ("at least 2 dimensions",)),
    (lambda: lg.linalg.norm(_randn(3), "fro"), ("at least 2 dimensions",)),
    (lambda: lg.linalg.matrix_norm(_randn(3, 3), "nuc"), ("singular values",)),
    (lambda: lg.linalg.matrix_norm(_randn(3, 3), 3), ("ord=3 is not a matrix norm",)),
    (lambda: lg.linalg.matrix_norm(_randn(3, 3), dim=(0, -2)), ("the two dims must differ",)),
    (lambda: lg.linalg.matrix_norm(_randn(3, 3).long()), ("floating point", "int64")),
    (lambda: lg.linalg.norm(_randn(2, 2, 2), 1), ("must be 1-D or 2-D", "(2, 2, 2)")),
    (lambda: lg.linalg.norm(_randn(2, 2), "fro", dim=1), ("needs dim to be a pair",)),
    (lambda: lg.linalg.vecdot(_randn(3), _randn(3, dtype=lg.float32)),
     ("linalg.vecdot", "float64 (x)", "float32 (y)")),
    (lambda: lg.linalg.multi_dot([_randn(3, 3)]), ("at least 2 tensors",)),
    (lambda: lg.linalg.multi_dot([_randn(3, 3), _randn(3), _randn(3, 3)]),
     ("tensor 1 must be 2-D",)),
])
def test_linalg_errors(fn, fragments):
    _raises(fn, *fragments)


# ------------------------------------------------------------------ integer and bool dtypes


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [lg.int64, lg.int32, lg.int8])
def test_matmul_integer_every_shape_case(shapes, dtype):
    rng = np.random.default_rng(0)
    a, b = (rng.integers(-3, 4, size=s) for s in shapes)
    out = lg.tensor(a, dtype=dtype) @ lg.tensor(b, dtype=dtype)
    assert out.dtype == dtype
    assert out.grad_fn is None
    np.testing.assert_array_equal(out.numpy(), a @ b)


def test_integer_relatives():
    a = lg.tensor([[1, 2], [3, 4]])
    v = lg.tensor([5, 6])
    assert lg.mm(a, a).tolist() == [[7, 10], [15, 22]]
    assert lg.mv(a, v).tolist() == [17, 39]
    assert lg.dot(v, v).item() == 61 and lg.dot(v, v).dtype == lg.int64
    assert lg.bmm(a[None], a[None]).tolist() == [[[7, 10], [15, 22]]]
    assert lg.einsum("ij,j->i", a, v).tolist() == [17, 39]
    assert lg.tensordot(a, a, 1).tolist() == [[7, 10], [15, 22]]
    assert lg.addmm(v, a, a, beta=2, alpha=3).tolist() == [[31, 42], [55, 78]]
    assert lg.kron(v, v).tolist() == [25, 30, 30, 36]
    assert lg.outer(v, v).dtype == lg.int64


def test_trace_sums_integers_as_int64():
    out = lg.trace(lg.tensor([[1, 2], [3, 4]], dtype=lg.int32))
    assert out.dtype == lg.int64 and out.item() == 5


def test_small_float_dtypes_are_kept():
    h = _randn(2, 3, dtype=lg.float16)
    assert (h @ h.mT).dtype == lg.float16
    assert lg.einsum("ij,kj->ik", h, h).dtype == lg.float16
    if lg.bfloat16 is not None:
        b = _randn(2, 3, dtype=lg.bfloat16)
        assert (b @ b.mT).dtype == lg.bfloat16
        assert lg.trace(b @ b.mT).dtype == lg.bfloat16


def test_outer_and_kron_promote_like_multiplication():
    ints, floats = lg.tensor([1, 2]), _randn(3)
    assert lg.outer(ints, floats).dtype == lg.float64
    assert lg.kron(_randn(2, dtype=lg.float32), floats).dtype == lg.float64


@pytest.mark.parametrize("fn", [
    lambda a: a @ a, lambda a: lg.mm(a, a), lambda a: lg.dot(a[0], a[0]),
    lambda a: lg.einsum("ij,jk", a, a), lambda a: lg.trace(a),
], ids=["matmul", "mm", "dot", "einsum", "trace"])
def test_bool_products_are_refused_as_in_pytorch(fn):
    _raises(lambda: fn(lg.ones(2, 2, dtype=lg.bool)), "not implemented for bool")


# ------------------------------------------------------------------ graph and saved tensors


@pytest.mark.parametrize("fn, name", [
    (lambda a, b: a[0] @ b[:, 0], "DotBackward0"),
    (lambda a, b: a @ b[:, 0], "MvBackward0"),
    (lambda a, b: a @ b, "MmBackward0"),
    (lambda a, b: a[None].expand(2, 3, 3) @ b[None].expand(2, 3, 3), "BmmBackward0"),
    (lambda a, b: lg.addmm(a, a, b), "AddmmBackward0"),
    (lambda a, b: lg.trace(a), "TraceBackward0"),
    (lambda a, b: lg.einsum("ij,jk", a, b), "EinsumBackward0"),
])
def test_grad_fn_names_follow_pytorch(fn, name):
    a, b = _randn(3, 3, requires_grad=True), _randn(3, 3, requires_grad=True)
    assert fn(a, b).grad_fn.name() == name
    with lg.no_grad():
        assert fn(a, b).grad_fn is None


def test_saved_factor_changed_in_place_is_caught():
    """x @ w with only w requiring grad saves x (w's gradient needs it)."""
    x, w = _randn(2, 3), _randn(3, 4, requires_grad=True)
    out = x @ w
    x.add_(1.0)
    _raises(lambda: out.sum().backward(), "MmBackward0", "modified by an in-place operation")


def test_input_needed_only_by_other_factor_may_change():
    """a @ b with only a requiring grad saves b, not a: changing a in place is fine."""
    a, b = _randn(2, 3, requires_grad=True), _randn(3, 4)
    c = a * 1.0  # a non-leaf that can be changed in place
    out = c @ b
    c.mul_(3.0)
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.ones((2, 4)) @ b.numpy().T)


def test_einsum_saves_operands_for_the_others_only():
    a, b = _randn(2, 3, requires_grad=True), _randn(3, 4)
    c = a * 1.0
    out = lg.einsum("ij,jk->ik", c, b)
    c.add_(1.0)
    out.sum().backward()  # a's gradient needs b only
    np.testing.assert_allclose(a.grad.numpy(), np.ones((2, 4)) @ b.numpy().T)


def test_dot_double_backward():
    a, b = _randn(3, requires_grad=True), _randn(3, requires_grad=True)
    (ga,) = lg.autograd.grad(a @ b, (a,), create_graph=True)
    (gb,) = lg.autograd.grad(ga.sum(), (b,))
    np.testing.assert_allclose(gb.numpy(), np.ones(3))


def test_batch_times_matrix_gradient_is_the_sum_over_batches():
    x, w = _randn(4, 5, 3), _randn(3, 2, requires_grad=True)
    (x @ w).sum().backward()
    expected = x.numpy().reshape(-1, 3).T @ np.ones((20, 2))
    np.testing.assert_allclose(w.grad.numpy(), expected)


def test_einsum_result_does_not_alias_its_input():
    x = _randn(2, 3)
    y = lg.einsum("ij->ji", x)
    y.zero_()
    assert np.all(x.numpy() != 0)
    d = lg.einsum("ii->i", _randn(3, 3))
    d.fill_(1.0)  # NumPy's diagonal view is read-only; the result is not


def test_addmm_beta_zero_ignores_nan_input():
    nan = lg.full((2, 2), float("nan"))
    out = lg.addmm(nan, lg.ones(2, 2), lg.ones(2, 2), beta=0)
    assert out.tolist() == [[2.0, 2.0], [2.0, 2.0]]


def test_inplace_forms():
    c, a, b = _randn(2, 4), _randn(2, 3), _randn(3, 4)
    expected = c.numpy() * 0.5 + a.numpy() @ b.numpy()
    assert c.addmm_(a, b, beta=0.5) is c
    np.testing.assert_allclose(c.numpy(), expected)
    v = _randn(2)
    expected = v.numpy() + a.numpy() @ b.numpy()[:, 0]
    v.addmv_(a, b[:, 0])
    np.testing.assert_allclose(v.numpy(), expected)


def test_methods_and_functions_are_bound():
    for name in ("mm", "bmm", "mv", "dot", "vdot", "outer", "ger", "inner", "kron", "trace",
                 "addmm", "addmm_", "baddbmm_", "addbmm_", "addmv_", "addr_"):
        assert hasattr(lg.Tensor, name), name
    for name in ("einsum", "tensordot", "matmul", "addbmm"):
        assert callable(getattr(lg, name)), name
    assert lg.linalg.matmul is lg.matmul
    assert re.search("vector_norm", lg.linalg.vector_norm.__name__)


def test_tensordot_writes_into_out():
    a, b = _randn(2, 3), _randn(3, 4)
    out = lg.empty(2, 4, dtype=lg.float64)
    assert lg.tensordot(a, b, 1, out=out) is out
    np.testing.assert_allclose(out.numpy(), a.numpy() @ b.numpy())
    assert out._version == 1


def test_tensordot_out_takes_no_part_in_autograd():
    a = _randn(2, 3).requires_grad_()
    out = lg.zeros(2, 4, dtype=lg.float64)
    with lg.no_grad():
        lg.tensordot(a, _randn(3, 4), 1, out=out)
    assert not out.requires_grad and out.grad_fn is None
    with pytest.raises(RuntimeError, match="tensordot.*out=.*automatic differentiation"):
        lg.tensordot(a, _randn(3, 4), 1, out=out)


def test_tensordot_out_must_have_the_result_shape_and_takes_its_dtype():
    with pytest.raises(RuntimeError, match=r"shape \(2, 4\).*shape \(8,\)"):
        lg.tensordot(_randn(2, 3), _randn(3, 4), 1, out=lg.empty(8, dtype=lg.float64))
    out = lg.empty(2, 4)
    assert lg.tensordot(_randn(2, 3), _randn(3, 4), 1, out=out) is out
    assert out.dtype is lg.float32
