"""Op-table rows for reductions, sorting and selection, softmax, and the gather family.

Random normal inputs have no ties, so max, sort, topk and median pick one element each and
their gradients are well defined; rows with zeros or repeated indices build their inputs with
`make`. Integer arrays from `make` become index tensors.
"""
from __future__ import annotations

import numpy as np

from .op_cases import OpCase

T3 = ((2, 3, 4),)  # a 3-d input


def _with_zeros(rng):
    """A (3, 5) input with one zero in row 0 and two in row 1 (prod, cumprod)."""
    x = rng.standard_normal((3, 5))
    x[0, 2] = 0.0
    x[1, 1] = x[1, 3] = 0.0
    return [x]


def _gather_inputs(rng):
    """(3, 4) values and a (3, 2) index along dim 1, with a repeated index in row 2."""
    index = np.array([[0, 3], [2, 1], [1, 1]])
    return [rng.standard_normal((3, 4)), index]


def _scatter_inputs(rng):
    """(3, 4) input, a (2, 3) index of distinct positions per row along dim 1, (2, 3) src."""
    index = np.stack([rng.permutation(4)[:3] for _ in range(2)])
    return [rng.standard_normal((3, 4)), index, rng.standard_normal((2, 3))]


def _scatter_add_inputs(rng):
    """As _scatter_inputs but along dim 0 with repeats, which scatter_add sums."""
    index = np.array([[0, 2, 0], [0, 1, 2]])
    return [rng.standard_normal((3, 4)), index, rng.standard_normal((2, 3))]


def _take_inputs(rng):
    """(3, 4) values and (1, 2) indices, negative ones included, broadcast over dim 0."""
    return [rng.standard_normal((3, 4)), np.array([[-1, 1]])]


def _var(np_, a, axis=None, ddof=1, keepdims=False):
    return np_.var(a, axis=axis, ddof=ddof, keepdims=keepdims)


def _softmax(np_, a, axis):
    e = np_.exp(a - a.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _take_along(a, index, axis):
    return np.take_along_axis(a, index, axis)


CASES = [
    # sum and mean
    OpCase("sum", lambda lib, a: a.sum(), ref=lambda np, a: np.sum(a)),
    OpCase("sum_dim", lambda lib, a: a.sum(1), ref=lambda np, a: np.sum(a, 1)),
    OpCase("sum_dims_keepdim", lambda lib, a: lib.sum(a, (0, -1), keepdim=True), T3,
           ref=lambda np, a: np.sum(a, (0, 2), keepdims=True)),
    OpCase("mean", lambda lib, a: a.mean(), ref=lambda np, a: np.mean(a)),
    OpCase("mean_dim", lambda lib, a: a.mean(-1), T3, ref=lambda np, a: np.mean(a, -1)),
    OpCase("mean_dims_keepdim", lambda lib, a: lib.mean(a, [0, 2], keepdim=True), T3,
           ref=lambda np, a: np.mean(a, (0, 2), keepdims=True)),
    # var and std
    OpCase("var", lambda lib, a: a.var(), ref=lambda np, a: _var(np, a)),
    OpCase("var_dim", lambda lib, a: a.var(1), ref=lambda np, a: _var(np, a, 1)),
    OpCase("var_correction0", lambda lib, a: lib.var(a, (0, 2), correction=0), T3,
           ref=lambda np, a: _var(np, a, (0, 2), 0)),
    OpCase("var_unbiased_false", lambda lib, a: a.var(0, unbiased=False, keepdim=True),
           ref=lambda np, a: _var(np, a, 0, 0, True)),
    OpCase("std", lambda lib, a: a.std(), ref=lambda np, a: np.sqrt(_var(np, a))),
    OpCase("std_dim_keepdim", lambda lib, a: a.std(1, keepdim=True),
           ref=lambda np, a: np.sqrt(_var(np, a, 1, keepdims=True))),
    OpCase("std_correction2", lambda lib, a: lib.std(a, -1, correction=2), T3,
           ref=lambda np, a: np.sqrt(_var(np, a, -1, 2))),
    OpCase("var_mean", lambda lib, a: lib.var_mean(a, 1),
           ref=lambda np, a: (_var(np, a, 1), np.mean(a, 1))),
    OpCase("std_mean", lambda lib, a: lib.std_mean(a, dim=0, correction=0, keepdim=True),
           ref=lambda np, a: (np.std(a, 0, keepdims=True), np.mean(a, 0, keepdims=True))),
    # prod, cumsum, cumprod
    OpCase("prod", lambda lib, a: a.prod(), ref=lambda np, a: np.prod(a)),
    OpCase("prod_dim", lambda lib, a: a.prod(1), ref=lambda np, a: np.prod(a, 1)),
    OpCase("prod_dim_keepdim", lambda lib, a: lib.prod(a, 0, keepdim=True), T3,
           ref=lambda np, a: np.prod(a, 0, keepdims=True)),
    OpCase("prod_zeros", lambda lib, a: a.prod(), make=_with_zeros,
           ref=lambda np, a: np.prod(a)),
    OpCase("prod_dim_zeros", lambda lib, a: a.prod(1), make=_with_zeros,
           ref=lambda np, a: np.prod(a, 1)),
    OpCase("cumsum", lambda lib, a: a.cumsum(1), ref=lambda np, a: np.cumsum(a, 1)),
    OpCase("cumsum_dim0", lambda lib, a: lib.cumsum(a, dim=0), T3,
           ref=lambda np, a: np.cumsum(a, 0)),
    OpCase("cumprod", lambda lib, a: a.cumprod(-1), ref=lambda np, a: np.cumprod(a, -1)),
    OpCase("cumprod_zeros", lambda lib, a: a.cumprod(1), make=_with_zeros,
           ref=lambda np, a: np.cumprod(a, 1)),
    # max, min, amax, amin, aminmax, argmax, argmin
    OpCase("max", lambda lib, a: a.max(), ref=lambda np, a: np.max(a)),
    OpCase("max_dim", lambda lib, a: a.max(1),
           ref=lambda np, a: (np.max(a, 1), np.argmax(a, 1))),
    OpCase("max_dim_keepdim", lambda lib, a: lib.max(a, dim=0, keepdim=True), T3),
    OpCase("max_binary", lambda lib, a, b: lib.max(a, b), ((3, 4), (4,)),
           ref=lambda np, a, b: np.maximum(a, b)),
    OpCase("min", lambda lib, a: a.min(), ref=lambda np, a: np.min(a)),
    OpCase("min_dim", lambda lib, a: a.min(-1),
           ref=lambda np, a: (np.min(a, -1), np.argmin(a, -1))),
    OpCase("amax", lambda lib, a: a.amax(), T3, ref=lambda np, a: np.max(a)),
    OpCase("amax_dims", lambda lib, a: a.amax((0, 2)), T3, ref=lambda np, a: np.max(a, (0, 2))),
    OpCase("amin_dim_keepdim", lambda lib, a: lib.amin(a, 1, keepdim=True),
           ref=lambda np, a: np.min(a, 1, keepdims=True)),
    OpCase("aminmax", lambda lib, a: lib.aminmax(a, dim=1),
           ref=lambda np, a: (np.min(a, 1), np.max(a, 1))),
    OpCase("argmax", lambda lib, a: a.argmax(), grad=False, ref=lambda np, a: np.argmax(a)),
    OpCase("argmax_dim", lambda lib, a: lib.argmax(a, 1, keepdim=True), T3, grad=False,
           ref=lambda np, a: np.argmax(a, 1)[:, None]),
    OpCase("argmin_dim", lambda lib, a: a.argmin(0), grad=False,
           ref=lambda np, a: np.argmin(a, 0)),
    # sort, argsort, topk, median
    OpCase("sort", lambda lib, a: a.sort(), ref=lambda np, a: (np.sort(a), np.argsort(a))),
    OpCase("sort_descending", lambda lib, a: lib.sort(a, 0, descending=True), T3,
           ref=lambda np, a: np.sort(a, 0)[::-1]),
    OpCase("argsort", lambda lib, a: a.argsort(1, descending=True), grad=False,
           ref=lambda np, a: np.argsort(-a, 1)),
    OpCase("topk", lambda lib, a: a.topk(2),
           ref=lambda np, a: np.sort(a, -1)[:, ::-1][:, :2]),
    OpCase("topk_smallest", lambda lib, a: lib.topk(a, 2, dim=1, largest=False), T3,
           ref=lambda np, a: np.sort(a, 1)[:, :2]),
    OpCase("median", lambda lib, a: a.median(), ((3, 5),), ref=lambda np, a: np.median(a)),
    OpCase("median_lower", lambda lib, a: a.median(),
           ref=lambda np, a: np.sort(a, None)[(a.size - 1) // 2]),
    OpCase("median_dim", lambda lib, a: a.median(1), ((4, 5),),
           ref=lambda np, a: np.median(a, 1)),
    OpCase("median_dim_keepdim", lambda lib, a: lib.median(a, 0, keepdim=True), T3),
    # logsumexp, softmax, log_softmax
    OpCase("logsumexp", lambda lib, a: a.logsumexp(1),
           ref=lambda np, a: np.log(np.exp(a).sum(1))),
    OpCase("logsumexp_dims_keepdim", lambda lib, a: lib.logsumexp(a * 30, (0, 2), keepdim=True),
           T3, ref=lambda np, a: np.log(np.exp(a * 30).sum((0, 2), keepdims=True))),
    OpCase("softmax", lambda lib, a: a.softmax(1), ref=lambda np, a: _softmax(np, a, 1)),
    OpCase("softmax_dim0", lambda lib, a: lib.softmax(a, 0), T3,
           ref=lambda np, a: _softmax(np, a, 0)),
    OpCase("softmax_large", lambda lib, a: lib.nn.functional.softmax(a * 200, dim=-1),
           ref=lambda np, a: _softmax(np, a * 200, -1)),
    OpCase("log_softmax", lambda lib, a: a.log_softmax(-1),
           ref=lambda np, a: np.log(_softmax(np, a, -1))),
    OpCase("log_softmax_dim1", lambda lib, a: lib.nn.functional.log_softmax(a, dim=1), T3,
           ref=lambda np, a: np.log(_softmax(np, a, 1))),
    # logical reductions and counting (no gradient)
    OpCase("all", lambda lib, a: (a > -1).all(1), grad=False,
           ref=lambda np, a: np.all(a > -1, 1)),
    OpCase("any", lambda lib, a: lib.any(a > 1, (0, 2), keepdim=True), T3, grad=False,
           ref=lambda np, a: np.any(a > 1, (0, 2), keepdims=True)),
    OpCase("count_nonzero", lambda lib, a: lib.count_nonzero(a, 1), make=_with_zeros,
           grad=False, ref=lambda np, a: np.count_nonzero(a, 1)),
    # norms
    OpCase("norm", lambda lib, a: a.norm(), ref=lambda np, a: np.linalg.norm(a)),
    OpCase("norm_p3_dim", lambda lib, a: a.norm(3, dim=1),
           ref=lambda np, a: np.linalg.norm(a, 3, 1)),
    OpCase("norm_inf_dim", lambda lib, a: a.norm(float("inf"), dim=0),
           ref=lambda np, a: np.abs(a).max(0)),
    # gather family
    OpCase("gather", lambda lib, a, i: a.gather(1, i), make=_gather_inputs,
           ref=lambda np, a, i: _take_along(a, i, 1)),
    OpCase("gather_dim0", lambda lib, a, i: lib.gather(a, 0, i.T[:, :3] % 3),
           make=_gather_inputs),
    OpCase("scatter", lambda lib, a, i, s: a.scatter(1, i, s), make=_scatter_inputs),
    OpCase("scatter_value", lambda lib, a, i, s: lib.scatter(a * s.sum(), 1, i, 0.5),
           make=_scatter_inputs),
    OpCase("scatter_inplace", lambda lib, a, i, s: (a * 1).scatter_(1, i, s * 2),
           make=_scatter_inputs),
    OpCase("scatter_add", lambda lib, a, i, s: a.scatter_add(0, i, s), make=_scatter_add_inputs),
    OpCase("scatter_add_inplace", lambda lib, a, i, s: (a * 1).scatter_add_(0, i, s),
           make=_scatter_add_inputs),
    OpCase("take_along_dim", lambda lib, a, i: lib.take_along_dim(a, i, 1), make=_take_inputs),
    OpCase("take_along_dim_flat", lambda lib, a, i: lib.take_along_dim(a, i + 6),
           make=_take_inputs),
    OpCase("take_along_dim_argsort", lambda lib, a: lib.take_along_dim(a, a.argsort(1), 1),
           ref=lambda np, a: np.sort(a, 1)),
    # composites: a softmax cross-entropy and a normalisation, end to end
    OpCase("cross_entropy_like",
           lambda lib, a, i: -a.log_softmax(1).gather(1, i[:, :1]).mean(), make=_gather_inputs),
    OpCase("standardize", lambda lib, a: (a - a.mean(1, keepdim=True)) / a.std(1, keepdim=True)),
]
