"""Op-table rows for linear algebra: matmul in every shape case, its relatives, einsum, norms."""
from __future__ import annotations


from .op_cases import OpCase

INF = float("inf")


def _ints(*shapes):
    """make= for integer inputs (no gradients): small values, so products stay exact."""
    return lambda rng: [rng.integers(-4, 5, size=shape) for shape in shapes]


def _matmul(sa, sb):
    return OpCase(f"matmul_{'x'.join(map(str, sa))}_{'x'.join(map(str, sb))}",
                  lambda lib, a, b: a @ b, (sa, sb), ref=lambda np, a, b: a @ b)


def _einsum(name, equation, *shapes, ref=None):
    """A row for einsum(equation); the reference is NumPy's einsum unless `ref` is given."""
    return OpCase(f"einsum_{name}", lambda lib, *xs: lib.einsum(equation, *xs), shapes,
                  ref=ref or (lambda np, *xs: np.einsum(equation, *xs)))


MATMUL_SHAPES = [
    ((3,), (3,)),  # dot
    ((3,), (3, 4)),  # row vector times matrix
    ((4, 3), (3,)),  # mv
    ((2, 3), (3, 4)),  # mm
    ((2, 4, 3), (3,)),  # batch times vector
    ((2, 4, 3), (3, 5)),  # batch times matrix (stacked into one mm)
    ((3,), (2, 3, 4)),  # vector times batch
    ((4, 3), (2, 3, 4)),  # matrix times batch
    ((2, 3, 4), (2, 4, 5)),  # bmm
    ((2, 1, 3, 4), (5, 4, 2)),  # batch dims broadcast both ways
    ((1, 3, 2), (4, 2, 3)),  # size-1 batch broadcast
    ((2, 1, 4, 3), (3,)),
]

CASES = [_matmul(sa, sb) for sa, sb in MATMUL_SHAPES] + [
    OpCase("matmul_method", lambda lib, a, b: a.matmul(b), ((2, 3), (3, 2))),
    OpCase("matmul_self", lambda lib, a: a @ a.mT, ((3, 4),)),
    OpCase("matmul_int", lambda lib, a, b: a @ b, make=_ints((2, 3, 4), (4, 2)), grad=False,
           ref=lambda np, a, b: a @ b),
    OpCase("matmul_int_vec", lambda lib, a, b: lib.matmul(a, b), make=_ints((4,), (4,)),
           grad=False, ref=lambda np, a, b: a @ b),
    OpCase("linalg_matmul", lambda lib, a, b: lib.linalg.matmul(a, b), ((2, 3, 4), (4,))),
    # the primitives
    OpCase("mm", lambda lib, a, b: lib.mm(a, b), ((2, 3), (3, 4)), ref=lambda np, a, b: a @ b),
    OpCase("mm_method", lambda lib, a, b: a.mm(b.t()), ((2, 3), (4, 3))),
    OpCase("bmm", lambda lib, a, b: lib.bmm(a, b), ((2, 3, 4), (2, 4, 2)),
           ref=lambda np, a, b: a @ b),
    OpCase("mv", lambda lib, a, b: lib.mv(a, b), ((3, 4), (4,)), ref=lambda np, a, b: a @ b),
    OpCase("dot", lambda lib, a, b: lib.dot(a, b), ((5,), (5,)), ref=lambda np, a, b: a @ b),
    OpCase("dot_method", lambda lib, a, b: a.dot(b), ((5,), (5,))),
    OpCase("dot_int", lambda lib, a, b: a.dot(b), make=_ints((5,), (5,)), grad=False),
    OpCase("vdot", lambda lib, a, b: lib.vdot(a, b), ((4,), (4,)), ref=lambda np, a, b: a @ b),
    OpCase("outer", lambda lib, a, b: lib.outer(a, b), ((3,), (4,)),
           ref=lambda np, a, b: np.outer(a, b)),
    OpCase("ger", lambda lib, a, b: a.ger(b), ((3,), (2,))),
    OpCase("inner", lambda lib, a, b: lib.inner(a, b), ((2, 3), (4, 3)),
           ref=lambda np, a, b: np.inner(a, b)),
    OpCase("inner_1d", lambda lib, a, b: a.inner(b), ((3,), (3,))),
    OpCase("inner_0d", lambda lib, a, b: lib.inner(a, b), ((), (2, 3))),
    OpCase("trace", lambda lib, a: lib.trace(a), ((4, 4),), ref=lambda np, a: np.trace(a)),
    OpCase("trace_wide", lambda lib, a: a.trace(), ((3, 5),), ref=lambda np, a: np.trace(a)),
    OpCase("trace_int", lambda lib, a: a.trace(), make=_ints((3, 3)), grad=False),
    OpCase("kron", lambda lib, a, b: lib.kron(a, b), ((2, 3), (3, 2)),
           ref=lambda np, a, b: np.kron(a, b)),
    OpCase("kron_ranks", lambda lib, a, b: lib.kron(a, b), ((2,), (2, 3, 1)),
           ref=lambda np, a, b: np.kron(a, b)),
    OpCase("tensordot", lambda lib, a, b: lib.tensordot(a, b), ((2, 3, 4), (3, 4, 2)),
           ref=lambda np, a, b: np.tensordot(a, b)),
    OpCase("tensordot_lists", lambda lib, a, b: lib.tensordot(a, b, ([2, 0], [0, 1])),
           ((2, 3, 4), (4, 2, 3)), ref=lambda np, a, b: np.tensordot(a, b, ([2, 0], [0, 1]))),
    OpCase("tensordot_0", lambda lib, a, b: lib.tensordot(a, b, 0), ((2, 3), (2,)),
           ref=lambda np, a, b: np.tensordot(a, b, 0)),
    # beta * input + alpha * product
    OpCase("addmm", lambda lib, c, a, b: lib.addmm(c, a, b), ((2, 4), (2, 3), (3, 4)),
           ref=lambda np, c, a, b: c + a @ b),
    OpCase("addmm_scaled", lambda lib, c, a, b: lib.addmm(c, a, b, beta=0.5, alpha=-2.0),
           ((4,), (2, 3), (3, 4)), ref=lambda np, c, a, b: 0.5 * c - 2.0 * (a @ b)),
    OpCase("addmm_beta0", lambda lib, c, a, b: c.addmm(a, b, beta=0, alpha=3),
           ((1, 1), (2, 3), (3, 4))),
    OpCase("addmm_inplace", lambda lib, c, a, b: (c * 1).addmm_(a, b, alpha=2),
           ((2, 4), (2, 3), (3, 4))),
    OpCase("addmm_int", lambda lib, c, a, b: lib.addmm(c, a, b, beta=2, alpha=3),
           make=_ints((3,), (2, 4), (4, 3)), grad=False,
           ref=lambda np, c, a, b: 2 * c + 3 * (a @ b)),
    OpCase("baddbmm", lambda lib, c, a, b: lib.baddbmm(c, a, b, beta=1.5, alpha=0.5),
           ((2, 1, 4), (2, 3, 2), (2, 2, 4)),
           ref=lambda np, c, a, b: 1.5 * c + 0.5 * (a @ b)),
    OpCase("addbmm", lambda lib, c, a, b: lib.addbmm(c, a, b, beta=0.5, alpha=2),
           ((3, 4), (2, 3, 2), (2, 2, 4)),
           ref=lambda np, c, a, b: 0.5 * c + 2 * (a @ b).sum(0)),
    OpCase("addmv", lambda lib, c, a, b: lib.addmv(c, a, b, beta=2, alpha=0.5),
           ((3,), (3, 4), (4,)), ref=lambda np, c, a, b: 2 * c + 0.5 * (a @ b)),
    OpCase("addr", lambda lib, c, a, b: lib.addr(c, a, b, beta=0.5, alpha=2),
           ((3, 1), (3,), (2,)), ref=lambda np, c, a, b: 0.5 * c + 2 * np.outer(a, b)),
    # einsum
    _einsum("matmul", "ij,jk->ik", (2, 3), (3, 4)),
    _einsum("implicit", "ij,jk", (2, 3), (3, 4)),
    _einsum("implicit_order", "ba,Ab", (2, 3), (4, 2)),
    _einsum("sum_away", "ij->i", (2, 3)),
    _einsum("sum_all", "ijk->", (2, 3, 2)),
    _einsum("transpose", "ijk->kij", (2, 3, 4)),
    _einsum("outer", "i,j->ij", (3,), (2,)),
    _einsum("batched", "bij,bjk->bik", (2, 3, 4), (2, 4, 2)),
    _einsum("chain", "ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    _einsum("same_operand_twice", "i,i->", (4,), (4,)),
    _einsum("trace", "ii", (3, 3)),
    _einsum("diagonal", "ii->i", (3, 3)),
    _einsum("diagonal_batched", "bii,bi->b", (2, 3, 3), (2, 3)),
    _einsum("repeat_kept", "iij->ij", (3, 3, 2)),
    _einsum("ellipsis", "...ij,...jk->...ik", (2, 1, 2, 3), (4, 3, 2)),
    _einsum("ellipsis_implicit", "b...a", (2, 4, 3)),
    # PyTorch sums dimensions an ellipsis drops from the output; NumPy refuses them
    _einsum("ellipsis_summed", "...ij->ij", (2, 3, 2), ref=lambda np, a: a.sum(0)),
    _einsum("ellipsis_empty", "...ij->ji...", (3, 2)),
    _einsum("broadcast_size1", "ij,ij->ij", (1, 3), (2, 3)),
    _einsum("broadcast_contract", "ij,jk->ik", (2, 1), (3, 4)),
    _einsum("scalars", ",i->i", (), (3,)),
    OpCase("einsum_list", lambda lib, a, b: lib.einsum("ij,jk->ik", [a, b]), ((2, 3), (3, 2))),
    OpCase("einsum_sublist", lambda lib, a, b: lib.einsum(a, [..., 0, 1], b, [1, 2], [..., 2]),
           ((4, 2, 3), (3, 2))),
    OpCase("einsum_int", lambda lib, a, b: lib.einsum("ij,jk->ki", a, b),
           make=_ints((2, 3), (3, 4)), grad=False,
           ref=lambda np, a, b: np.einsum("ij,jk->ki", a, b)),
    # norms and linalg
    OpCase("linalg_norm", lambda lib, a: lib.linalg.norm(a), ((2, 3, 2),),
           ref=lambda np, a: np.linalg.norm(a.ravel())),
    OpCase("linalg_norm_fro", lambda lib, a: lib.linalg.norm(a, "fro"), ((3, 4),),
           ref=lambda np, a: np.linalg.norm(a, "fro")),
    OpCase("linalg_norm_dim", lambda lib, a: lib.linalg.norm(a, dim=1, keepdim=True), ((3, 4),),
           ref=lambda np, a: np.linalg.norm(a, axis=1, keepdims=True)),
    OpCase("linalg_norm_ord", lambda lib, a: lib.linalg.norm(a, 3), ((5,),), domain="away",
           ref=lambda np, a: np.linalg.norm(a, 3)),
    OpCase("linalg_norm_l1", lambda lib, a: lib.linalg.norm(a, 1, dim=(0,)), ((4, 3),),
           domain="away", ref=lambda np, a: np.abs(a).sum(0)),
    OpCase("linalg_norm_matrix_dims", lambda lib, a: lib.linalg.norm(a, dim=(0, 2)),
           ((2, 3, 4),), ref=lambda np, a: np.sqrt((a * a).sum((0, 2)))),
    OpCase("vector_norm", lambda lib, a: lib.linalg.vector_norm(a, 2, dim=(-1,)), ((3, 4),)),
    OpCase("matrix_norm", lambda lib, a: lib.linalg.matrix_norm(a), ((2, 3, 4),),
           ref=lambda np, a: np.linalg.norm(a, "fro", axis=(-2, -1))),
    OpCase("matrix_norm_dims", lambda lib, a: lib.linalg.matrix_norm(a, dim=(2, 0), keepdim=True),
           ((2, 3, 4),)),
    OpCase("vecdot", lambda lib, a, b: lib.linalg.vecdot(a, b), ((2, 3), (3,)),
           ref=lambda np, a, b: (a * b).sum(-1)),
    OpCase("vecdot_dim", lambda lib, a, b: lib.linalg.vecdot(a, b, dim=0), ((3, 2), (3, 1))),
    OpCase("multi_dot", lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]),
           ((3,), (3, 4), (4, 2)), ref=lambda np, a, b, c: a @ b @ c),
    OpCase("multi_dot_vectors", lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]),
           ((3,), (3, 4), (4,))),
]

# Matrix norms 1 and inf: a max over column / row sums.
CASES += [
    OpCase(f"matrix_norm_{name}", lambda lib, a, ord=ord: lib.linalg.matrix_norm(a, ord),
           ((3, 4),), domain="away", ref=lambda np, a, ord=ord: np.linalg.norm(a, ord))
    for name, ord in (("1", 1), ("-1", -1), ("inf", INF), ("-inf", -INF))
] + [
    OpCase("linalg_norm_inf_2d", lambda lib, a: lib.linalg.norm(a, INF), ((3, 4),),
           domain="away", ref=lambda np, a: np.linalg.norm(a, np.inf)),
    OpCase("linalg_norm_inf_1d", lambda lib, a: lib.linalg.norm(a, -INF), ((4,),),
           domain="away", ref=lambda np, a: np.linalg.norm(a, -np.inf)),
]
