"""Reductions and the gather family: what the op table cannot express. Return types and
keepdim shapes, dtype rules, ties and NaN, errors, node names, gradients with zeros."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg

NAN = float("nan")


def _np(t):
    return t.detach().numpy()


def _pair(torch, values, dtype="float64", requires_grad=False):
    """The same values as a labgrad and a torch tensor."""
    array = np.asarray(values, dtype=dtype)
    ours = lg.tensor(array, requires_grad=requires_grad)
    theirs = torch.tensor(array, requires_grad=requires_grad)
    return ours, theirs


def _same(ours, theirs):
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, tuple) else (theirs,)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape)
        assert o.dtype.name == str(t.dtype).replace("torch.", "")
        np.testing.assert_allclose(_np(o), t.detach().numpy(), rtol=1e-6, atol=1e-12)


# ------------------------------------------------------------------ return types and shapes

@pytest.mark.parametrize("op", ["max", "min", "median", "sort", "topk"])
def test_selecting_ops_return_named_pairs(op):
    x = lg.randn(3, 4)
    result = x.topk(2, 1) if op == "topk" else getattr(x, op)(1)
    values, indices = result
    assert isinstance(result, tuple)
    assert type(result) is getattr(lg.return_types, op)
    assert result.values is values and result.indices is indices
    assert indices.dtype is lg.int64
    assert repr(result).startswith(f"labgrad.return_types.{op}(")


def test_aminmax_fields():
    result = lg.aminmax(lg.tensor([[1.0, 5.0], [3.0, -2.0]]), dim=1)
    assert result.min.tolist() == [1.0, -2.0] and result.max.tolist() == [5.0, 3.0]


def test_var_mean_is_a_plain_pair():
    result = lg.var_mean(lg.randn(3, 4), 1)
    assert type(result) is tuple and len(result) == 2


CALLS = {
    "sum": lambda lib, x: lib.sum(x, (0, 2), keepdim=True),
    "sum_list": lambda lib, x: x.sum([1]),
    "sum_empty_dims": lambda lib, x: x.sum(()),
    "mean": lambda lib, x: x.mean(-1, keepdim=True),
    "var": lambda lib, x: x.var((0, 1), keepdim=True),
    "std": lambda lib, x: lib.std(x, 2),
    "prod": lambda lib, x: x.prod(1, keepdim=True),
    "max": lambda lib, x: x.max(2, keepdim=True),
    "min": lambda lib, x: lib.min(x, 0),
    "amax": lambda lib, x: x.amax((0, 2), keepdim=True),
    "amin_all": lambda lib, x: x.amin(),
    "aminmax": lambda lib, x: lib.aminmax(x, dim=0, keepdim=True),
    "argmax": lambda lib, x: x.argmax(1, keepdim=True),
    "argmax_flat_keepdim": lambda lib, x: lib.argmax(x, keepdim=True),
    "argmin": lambda lib, x: x.argmin(),
    "median": lambda lib, x: x.median(-1, keepdim=True),
    "logsumexp": lambda lib, x: x.logsumexp((0, 1), keepdim=True),
    "all": lambda lib, x: (x > -2).all(1, keepdim=True),
    "any": lambda lib, x: lib.any(x > 1),
    "count_nonzero": lambda lib, x: lib.count_nonzero(x > 0, (0, 2)),
    "cumsum": lambda lib, x: x.cumsum(-2),
    "topk": lambda lib, x: x.topk(3, largest=False, sorted=True),
    "sort": lambda lib, x: x.sort(0, True),
    "softmax_dtype": lambda lib, x: x.float().softmax(1, dtype=lib.float64),
}


@pytest.mark.parametrize("name", CALLS)
def test_shapes_and_dtypes_match_pytorch(name, torch):
    array = np.random.default_rng(0).standard_normal((2, 3, 4))
    ours = CALLS[name](lg, lg.tensor(array))
    theirs = CALLS[name](torch, torch.tensor(array))
    _same(tuple(ours) if isinstance(ours, tuple) else ours,
          tuple(theirs) if isinstance(theirs, tuple) else theirs)


@pytest.mark.parametrize("op", ["max", "min", "sort", "median", "argmax", "cumsum", "cumprod",
                                "softmax", "log_softmax", "argsort"])
def test_zero_dim_inputs(op, torch):
    ours, theirs = _pair(torch, 3.0)
    result = getattr(ours, op)(0)
    expected = getattr(theirs, op)(0)
    _same(tuple(result) if isinstance(result, tuple) else result,
          tuple(expected) if isinstance(expected, tuple) else expected)


# ------------------------------------------------------------------ dtype rules

@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int32", "int64"])
@pytest.mark.parametrize("op", ["sum", "prod", "cumsum", "cumprod"])
def test_integer_accumulation_is_int64(op, dtype, torch):
    values = [1, 0, 1] if dtype == "bool" else [3, 1, 2]
    ours, theirs = _pair(torch, values, dtype)
    args = (0,) if op.startswith("cum") else ()
    _same(getattr(ours, op)(*args), getattr(theirs, op)(*args))


def test_sum_dtype_argument():
    x = lg.tensor([True, True, False])
    assert x.sum(dtype=lg.float32).dtype is lg.float32
    assert lg.tensor([1, 2]).prod(dtype=lg.float64).dtype is lg.float64
    assert lg.tensor([1, 2]).mean(dtype=lg.float64).item() == 1.5


def test_half_precision_sums_accumulate_in_float32():
    x = lg.ones(10000, dtype=lg.float16)
    assert x.sum().dtype is lg.float16 and x.sum().item() == 10000
    assert x.mean().item() == 1.0


def test_all_any_keep_uint8_and_give_bool_otherwise():
    assert lg.tensor([1, 2], dtype=lg.uint8).all().dtype is lg.uint8
    assert lg.tensor([1, 0], dtype=lg.int32).any().dtype is lg.bool
    assert lg.tensor([0.5, 0.0]).all().item() is False


def test_integer_logsumexp_gives_the_default_float():
    assert lg.logsumexp(lg.tensor([1, 2]), 0).dtype is lg.float32


@pytest.mark.parametrize("call", [lambda x: x.mean(), lambda x: x.var(), lambda x: x.std(),
                                  lambda x: x.softmax(0), lambda x: x.log_softmax(0)])
def test_floating_only_ops_explain_integer_inputs(call):
    with pytest.raises(RuntimeError, match=r"float"):
        call(lg.tensor([1, 2, 3]))


def test_argmax_rejects_bool_like_pytorch():
    with pytest.raises(RuntimeError, match="argmax: bool"):
        lg.tensor([True, False]).argmax()


# ------------------------------------------------------------------ var and std arguments

def test_var_spellings_match_pytorch(torch):
    array = np.random.default_rng(1).standard_normal((3, 4))
    ours, theirs = lg.tensor(array), torch.tensor(array)
    for call in (lambda lib, x: lib.var(x, False), lambda lib, x: lib.var(x, 1, False, True),
                 lambda lib, x: x.var(1, unbiased=False), lambda lib, x: x.std(correction=0.5),
                 lambda lib, x: lib.std_mean(x, unbiased=False)):
        _same(call(lg, ours), call(torch, theirs))


def test_var_rejects_both_unbiased_and_correction():
    with pytest.raises(TypeError, match="unbiased= or correction="):
        lg.randn(3).var(unbiased=False, correction=0)


def test_var_of_one_value_warns_and_is_nan():
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        result = lg.tensor([1.0]).var()
    assert np.isnan(result.item())


def test_std_gradient_is_zero_where_std_is_zero():
    x = lg.ones(3, requires_grad=True)
    x.std().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


# ------------------------------------------------------------------ ties

TIES = {
    "max": lambda x: x.max(),
    "min": lambda x: x.min(),
    "amax": lambda x: x.amax(1).sum(),
    "amin": lambda x: x.amin(0).sum(),
    "median": lambda x: x.median(),
    "aminmax": lambda x: (lambda r: r[0].sum() + 2 * r[1].sum())(x.aminmax(dim=1)),
    "max_dim": lambda x: x.max(1).values.sum(),
    "min_dim": lambda x: x.min(1)[0].sum(),
}


@pytest.mark.parametrize("name", TIES)
def test_gradients_with_ties_match_pytorch(name, torch):
    values = [[1.0, 3.0, 3.0, 2.0], [2.0, 2.0, 2.0, 0.5]]
    ours, theirs = _pair(torch, values, requires_grad=True)
    TIES[name](ours).backward()
    TIES[name](theirs).backward()
    np.testing.assert_allclose(_np(ours.grad), theirs.grad.numpy())


def test_max_dim_picks_the_first_of_tied_values():
    result = lg.tensor([[1.0, 3.0, 3.0]]).max(1)
    assert result.indices.tolist() == [1]
    assert lg.tensor([[1, 0, 0]]).argmin(1).tolist() == [1]


def test_stable_sort_keeps_the_order_of_equal_values(torch):
    values = [2, 1, 2, 1, 3, 2]
    ours, theirs = _pair(torch, values, "int64")
    for descending in (False, True):
        _same(tuple(ours.sort(descending=descending, stable=True)),
              tuple(theirs.sort(descending=descending, stable=True)))


@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k", [1, 3, 7, 8])
def test_topk_matches_pytorch_for_every_k(k, largest, torch):
    array = np.random.default_rng(k).standard_normal((5, 8, 3))
    ours, theirs = lg.tensor(array), torch.tensor(array)
    _same(tuple(ours.topk(k, 1, largest)), tuple(theirs.topk(k, 1, largest)))


def test_topk_keeps_tied_values_in_their_original_order():
    result = lg.tensor([1, 5, 2, 5, 5, 0]).topk(2)
    assert result.values.tolist() == [5, 5] and result.indices.tolist() in ([1, 3], [1, 4],
                                                                          [3, 4])
    assert result.indices.tolist() == sorted(result.indices.tolist())


def test_median_is_the_lower_middle(torch):
    ours, theirs = _pair(torch, [[4.0, 1.0, 3.0, 2.0]])
    _same(ours.median(), theirs.median())
    _same(tuple(ours.median(1)), tuple(theirs.median(1)))


# ------------------------------------------------------------------ NaN and infinities

NAN_CALLS = {
    "max": lambda x: x.max(),
    "amin": lambda x: x.amin(1),
    "max_dim": lambda x: tuple(x.max(1)),
    "min_dim": lambda x: tuple(x.min(1)),
    "argmax": lambda x: x.argmax(1),
    "argmin": lambda x: x.argmin(),
    "sort": lambda x: tuple(x.sort(1)),
    "sort_descending": lambda x: tuple(x.sort(1, descending=True)),
    "topk": lambda x: tuple(x.topk(2)),
    "topk_smallest": lambda x: tuple(x.topk(2, largest=False)),
    "median": lambda x: x.median(),
    "median_dim": lambda x: tuple(x.median(1)),
}


@pytest.mark.parametrize("name", NAN_CALLS)
def test_nan_handling_matches_pytorch(name, torch):
    ours, theirs = _pair(torch, [[1.0, NAN, 3.0, 2.0, NAN]])
    _same(NAN_CALLS[name](ours), NAN_CALLS[name](theirs))


@pytest.mark.parametrize("values", [[-np.inf, -np.inf], [np.inf, 1.0], [1000.0, 1000.0]])
def test_logsumexp_with_infinities_and_large_values(values, torch):
    ours, theirs = _pair(torch, values)
    _same(ours.logsumexp(0), theirs.logsumexp(0))


def test_softmax_of_large_values_is_stable():
    y = lg.tensor([1000.0, 1000.0, -1000.0]).softmax(0)
    np.testing.assert_allclose(y.numpy(), [0.5, 0.5, 0.0])
    assert np.isfinite(lg.tensor([1000.0, 0.0]).log_softmax(0).numpy()).all()


# ------------------------------------------------------------------ empty tensors

def test_reductions_of_empty_tensors(torch):
    ours, theirs = _pair(torch, np.zeros((0, 3)))
    for call in (lambda x: x.sum(), lambda x: x.prod(0), lambda x: x.logsumexp(0),
                 lambda x: x.amax(1), lambda x: x.any(), lambda x: x.all(),
                 lambda x: x.count_nonzero(), lambda x: x.mean(), lambda x: x.mean(0)):
        _same(call(ours), call(theirs))


@pytest.mark.parametrize("call", [lambda x: x.max(), lambda x: x.amax(0), lambda x: x.max(0),
                                  lambda x: x.argmin(), lambda x: lg.aminmax(x)])
def test_reducing_an_empty_dim_without_identity_raises(call):
    with pytest.raises(RuntimeError, match="empty"):
        call(lg.zeros(0, 3))


# ------------------------------------------------------------------ errors

def test_dim_out_of_range_names_the_op():
    with pytest.raises(IndexError, match="sum: dimension 2 is out of range"):
        lg.randn(3, 4).sum(2)
    with pytest.raises(IndexError, match="cumsum"):
        lg.randn(3).cumsum(-2)


def test_selecting_ops_take_one_dim():
    with pytest.raises(TypeError, match="max: dim must be a single int"):
        lg.randn(3, 4).max((0, 1))


def test_topk_k_out_of_range():
    with pytest.raises(RuntimeError, match=r"topk: k=5 is out of range .* size 4"):
        lg.randn(3, 4).topk(5)


def test_gather_index_errors_name_op_dim_and_shapes():
    x = lg.randn(3, 4)
    with pytest.raises(RuntimeError, match=r"gather: index 4 is out of bounds for dimension 1 "
                                           r"with size 4 \(input of shape \(3, 4\)\)"):
        x.gather(1, lg.tensor([[4]]))
    with pytest.raises(RuntimeError, match="gather: index -1 is out of bounds"):
        x.gather(1, lg.tensor([[-1]]))
    with pytest.raises(RuntimeError, match=r"same number of dimensions|as many dimensions"):
        x.gather(1, lg.tensor([0]))
    with pytest.raises(RuntimeError, match=r"index of shape \(4, 1\) is larger than the input "
                                           r"of shape \(3, 4\) at dimension 0"):
        x.gather(1, lg.zeros(4, 1, dtype=lg.int64))
    with pytest.raises(RuntimeError, match=r"integer tensor.*long\(\)"):
        x.gather(1, lg.zeros(1, 1))


def test_scatter_errors():
    x = lg.zeros(3, 4)
    index = lg.zeros(2, 3, dtype=lg.int64)
    with pytest.raises(RuntimeError, match=r"larger than src of shape \(1, 3\)"):
        x.scatter(1, index, lg.ones(1, 3))
    with pytest.raises(RuntimeError, match="must have the input's dtype float32"):
        x.scatter(1, index, lg.ones(2, 3, dtype=lg.float64))
    with pytest.raises(RuntimeError, match="reduce must be 'add' or 'multiply'"):
        x.scatter(1, index, 1.0, reduce="max")
    with pytest.raises(TypeError, match="src must be a tensor"):
        x.scatter_add(1, index, 1.0)


def test_take_along_dim_errors():
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        lg.take_along_dim(lg.zeros(3, 4), lg.tensor([0]), 1)
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        lg.take_along_dim(lg.zeros(3, 4), lg.zeros(2, 1, dtype=lg.int64), 1)


# ------------------------------------------------------------------ gather family semantics

@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
def test_scatter_forms_match_pytorch(torch):
    array = np.arange(12.0).reshape(3, 4)
    index = np.array([[0, 2], [3, 1]])
    ours, theirs = lg.tensor(array), torch.tensor(array)
    oi, ti = lg.tensor(index), torch.tensor(index)
    src = np.full((2, 2), 10.0)
    _same(ours.scatter(1, oi, 2.5), theirs.scatter(1, ti, 2.5))
    _same(ours.scatter(1, oi, value=7), theirs.scatter(1, ti, value=7))
    _same(ours.scatter(1, oi, lg.tensor(src), reduce="add"),
          theirs.scatter(1, ti, torch.tensor(src), reduce="add"))
    _same(ours.scatter(1, oi, 3.0, reduce="multiply"),
          theirs.scatter(1, ti, 3.0, reduce="multiply"))
    _same(lg.tensor([[1, 2, 3]]).scatter(1, lg.tensor([[0]]), 2.7),
          torch.tensor([[1, 2, 3]]).scatter(1, torch.tensor([[0]]), 2.7))


def test_inplace_scatter_changes_the_tensor():
    x = lg.zeros(2, 3)
    result = x.scatter_(1, lg.tensor([[2], [0]]), 1.0)
    assert result is x and x.tolist() == [[0, 0, 1], [1, 0, 0]]
    x.scatter_add_(1, lg.tensor([[2, 2]]), lg.ones(1, 2))
    assert x.tolist() == [[0, 0, 3], [1, 0, 0]]


def test_scatter_with_reduce_is_not_differentiable():
    x = lg.randn(2, 3, requires_grad=True)
    y = x.scatter(1, lg.tensor([[0], [1]]), 1.0, reduce="add")
    with pytest.raises(RuntimeError, match="reduce='add' is not implemented"):
        y.sum().backward()


def test_scatter_src_larger_than_index_gets_a_padded_gradient():
    x = lg.randn(3, 4, dtype=lg.float64, requires_grad=True)
    src = lg.randn(3, 4, dtype=lg.float64, requires_grad=True)
    index = lg.tensor([[0, 1, 2], [3, 2, 1]])
    assert lg.autograd.gradcheck(lambda a, s: a.scatter(1, index, s), (x, src))
    assert lg.autograd.gradcheck(lambda a, s: a.scatter_add(0, index % 3, s), (x, src))
    x.scatter_add(1, index, src).sum().backward()
    assert src.grad.tolist()[2] == [0.0] * 4  # the row the index does not reach


def test_gather_and_scatter_of_zero_dim_tensors(torch):
    ours, theirs = _pair(torch, 3.0)
    _same(ours.gather(0, lg.tensor([0, 0])), theirs.gather(0, torch.tensor([0, 0])))
    _same(ours.scatter(0, lg.tensor(0), 5.0), theirs.scatter(0, torch.tensor(0), 5.0))


def test_take_along_dim_broadcasts_and_wraps_negative_indices(torch):
    array = np.arange(12.0).reshape(3, 4)
    for values, source in (([[0], [1], [-1]], array), ([[0], [1], [2]], array[:1])):
        ours = lg.take_along_dim(lg.tensor(source), lg.tensor(values), 1)
        theirs = torch.take_along_dim(torch.tensor(source), torch.tensor(values), 1)
        _same(ours, theirs)


def test_gather_gradient_adds_repeated_indices():
    x = lg.zeros(4, requires_grad=True)
    x.gather(0, lg.tensor([1, 1, 3])).sum().backward()
    assert x.grad.tolist() == [0.0, 2.0, 0.0, 1.0]


# ------------------------------------------------------------------ zeros in products

@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 2.0, 3.0], [1.5, 2.0, 0.0],
                                    [0.0, 0.0, 0.0]])
@pytest.mark.parametrize("op", ["prod", "cumprod"])
def test_product_derivatives_with_zeros_match_pytorch(op, values, torch):
    seed = [1.0, 2.0, 3.0, 4.0, 5.0][:len(values)]
    ours, theirs = _pair(torch, values, requires_grad=True)

    def first(lib, x):
        out = x.prod() if op == "prod" else x.cumprod(0)
        g = lib.ones_like(out) if op == "prod" else lib.tensor(seed, dtype=lib.float64)
        return lib.autograd.grad(out, x, g, create_graph=True)[0]

    g_ours, g_theirs = first(lg, ours), first(torch, theirs)
    np.testing.assert_allclose(_np(g_ours), g_theirs.detach().numpy())
    weights = np.arange(1.0, len(values) + 1)
    (h_ours,) = lg.autograd.grad((g_ours * lg.tensor(weights)).sum(), ours)
    (h_theirs,) = torch.autograd.grad((g_theirs * torch.tensor(weights)).sum(), theirs)
    np.testing.assert_allclose(_np(h_ours), h_theirs.numpy())
    # plain backward (no create_graph) takes the O(n) path: same first derivatives
    (g_plain,) = lg.autograd.grad(ours.prod() if op == "prod" else ours.cumprod(0), ours,
                                  lg.ones((), dtype=lg.float64) if op == "prod"
                                  else lg.tensor(seed, dtype=lg.float64))
    np.testing.assert_allclose(_np(g_plain), g_theirs.detach().numpy())


# ------------------------------------------------------------------ graph structure

NODES = {
    "sum": (lambda x: x.sum(), "SumBackward0"),
    "sum_dim": (lambda x: x.sum(1), "SumBackward1"),
    "mean": (lambda x: x.mean(), "MeanBackward0"),
    "mean_dim": (lambda x: x.mean(1), "MeanBackward1"),
    "var": (lambda x: x.var(1), "VarBackward0"),
    "std": (lambda x: x.std(), "StdBackward0"),
    "var_mean": (lambda x: lg.var_mean(x)[0], "VarMeanBackward0"),
    "std_mean": (lambda x: lg.std_mean(x)[1], "StdMeanBackward0"),
    "prod": (lambda x: x.prod(), "ProdBackward0"),
    "prod_dim": (lambda x: x.prod(1), "ProdBackward1"),
    "max": (lambda x: x.max(), "MaxBackward1"),
    "max_dim": (lambda x: x.max(1).values, "MaxBackward0"),
    "min_dim": (lambda x: x.min(1).values, "MinBackward0"),
    "amax": (lambda x: x.amax(1), "AmaxBackward0"),
    "amin": (lambda x: x.amin(), "AminBackward0"),
    "aminmax": (lambda x: lg.aminmax(x).max, "AminmaxBackward0"),
    "median": (lambda x: x.median(), "MedianBackward0"),
    "median_dim": (lambda x: x.median(1).values, "MedianBackward1"),
    "sort": (lambda x: x.sort().values, "SortBackward0"),
    "topk": (lambda x: x.topk(2).values, "TopkBackward0"),
    "logsumexp": (lambda x: x.logsumexp(1), "LogsumexpBackward0"),
    "cumsum": (lambda x: x.cumsum(1), "CumsumBackward0"),
    "cumprod": (lambda x: x.cumprod(1), "CumprodBackward0"),
    "softmax": (lambda x: x.softmax(1), "SoftmaxBackward0"),
    "log_softmax": (lambda x: x.log_softmax(1), "LogSoftmaxBackward0"),
    "gather": (lambda x: x.gather(1, lg.tensor([[0], [1], [2]])), "GatherBackward0"),
    "scatter": (lambda x: x.scatter(1, lg.tensor([[0]]), x), "ScatterBackward0"),
    "scatter_value": (lambda x: x.scatter(1, lg.tensor([[0]]), 1.0), "ScatterBackward1"),
    "scatter_add": (lambda x: x.scatter_add(1, lg.tensor([[0]]), x), "ScatterAddBackward0"),
    "take_along_dim": (lambda x: lg.take_along_dim(x, lg.tensor([[0]]), 1), "GatherBackward0"),
}


@pytest.mark.parametrize("name", NODES)
def test_node_names_follow_pytorch(name):
    call, expected = NODES[name]
    assert call(lg.randn(3, 4, requires_grad=True)).grad_fn.name() == expected


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_is_one_node(op):
    x = lg.randn(3, 4, requires_grad=True)
    y = getattr(x, op)(1)
    (child, _), = y.grad_fn.next_functions
    assert type(child).__name__ == "AccumulateGrad"


def test_indices_do_not_require_grad():
    x = lg.randn(3, 4, requires_grad=True)
    for result in (x.max(1), x.sort(), x.topk(2), x.median(0)):
        assert result.values.requires_grad and not result.indices.requires_grad


def test_no_graph_under_no_grad():
    x = lg.randn(3, 4, requires_grad=True)
    with lg.no_grad():
        for y in (x.sum(), x.var(0), x.max(1).values, x.softmax(0), x.cumprod(1),
                  x.gather(1, lg.tensor([[0]]))):
            assert y.grad_fn is None and not y.requires_grad


def test_softmax_without_dim_warns_and_uses_pytorchs_choice(torch):
    array = np.random.default_rng(2).standard_normal((2, 3))
    with pytest.warns(UserWarning, match="implicit dimension"):
        ours = lg.nn.functional.softmax(lg.tensor(array))
    with pytest.warns(UserWarning):
        theirs = torch.nn.functional.softmax(torch.tensor(array))
    _same(ours, theirs)


def test_max_with_a_tensor_is_maximum():
    a, b = lg.tensor([1.0, 5.0]), lg.tensor([3.0, 2.0])
    assert lg.max(a, b).tolist() == [3.0, 5.0]
    assert a.min(other=b).tolist() == [1.0, 2.0]


def test_changing_returned_indices_in_place_is_caught():
    x = lg.randn(3, 4, requires_grad=True)
    values, indices = x.max(1)
    indices.zero_()
    with pytest.raises(RuntimeError, match="in-place"):
        values.sum().backward()


def test_scatter_src_with_fewer_dims_is_explained():
    with pytest.raises(RuntimeError, match="src must have as many dimensions as the index"):
        lg.zeros(2, 3).scatter(1, lg.tensor([[0]]), lg.tensor(1.0))


@pytest.mark.skipif(lg.bfloat16 is None, reason="needs ml_dtypes for bfloat16")
def test_bfloat16_orders_nan_like_float32():
    array = np.array([[1.0, NAN, 3.0, 2.0]])
    ours = lg.tensor(array, dtype=lg.bfloat16)
    reference = lg.tensor(array, dtype=lg.float32)
    for call in (lambda x: x.sort(1, descending=True), lambda x: x.topk(2), lambda x: x.max(1),
                 lambda x: x.median(1), lambda x: (x.argmax(), x.amax(1))):
        for o, r in zip(call(ours), call(reference)):
            np.testing.assert_array_equal(o.float().numpy(), r.float().numpy())


def test_two_norm_gradient_is_zero_where_the_norm_is_zero():
    x = lg.tensor([[3.0, 4.0], [0.0, 0.0]], requires_grad=True)
    lg.linalg.vector_norm(x, dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.6, 0.8], [0.0, 0.0]])
    z = lg.zeros(3, requires_grad=True)
    z.norm().backward()
    assert not z.grad.isnan().any()


@pytest.mark.torch
@pytest.mark.parametrize("ord", [2, 1, 3, float("inf")])
@pytest.mark.parametrize("dim", [[], (), None])
def test_vector_norm_reads_an_empty_dim_as_every_dim_for_every_ord(ord, dim, torch):
    array = np.arange(-3.0, 3.0).reshape(2, 3)
    expected = torch.linalg.vector_norm(torch.tensor(array), ord, dim=dim)
    ours = lg.linalg.vector_norm(lg.tensor(array), ord, dim=dim)
    assert ours.shape == tuple(expected.shape) == ()
    np.testing.assert_allclose(ours.numpy(), expected.numpy())


def test_two_norm_of_a_0d_tensor_takes_dim_0():
    x = lg.tensor(-3.0, requires_grad=True)
    out = lg.linalg.vector_norm(x, 2, dim=0)
    assert out.shape == () and out.item() == 3.0
    out.backward()
    assert x.grad.item() == -1.0


def test_vector_norm_of_integers_names_the_shape():
    with pytest.raises(RuntimeError, match=r"vector_norm: .*floating point.*\(2, 3\).*int64"):
        lg.linalg.vector_norm(lg.ones(2, 3, dtype=lg.int64))
