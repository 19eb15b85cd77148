"""cross_entropy and nll_loss: class-index targets (weights, ignore_index, label smoothing,
K-dimensional and unbatched inputs), class-probability targets, second derivatives, errors."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn.functional as F
from labgrad.autograd import gradcheck, gradgradcheck

REDUCTIONS = ("mean", "sum", "none")
SHAPES = [(4, 5), (5,), (3, 5, 4)]  # (2, 5, 3, 2) has a test of its own
# ignore_index settings: the default (-100, some targets use it), and a class in range (2)
IGNORES = [None, -100, 2]


def _targets(rng, shape, ignore_index):
    """Class indices for an input of `shape`; every third one is ignore_index when given."""
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = rng.integers(0, n_classes, tshape)
    if ignore_index is not None and t.ndim:
        t.reshape(-1)[::3] = ignore_index
    return t


def _case(shape, weighted, ignore_index, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    t = _targets(rng, shape, ignore_index)
    n_classes = shape[0] if len(shape) == 1 else shape[1]
    kwargs = {} if ignore_index is None else {"ignore_index": ignore_index}
    w = rng.random(n_classes) + 0.1 if weighted else None
    return x, t, w, kwargs


def _run(lib, fn, x, t, w, kwargs, upstream_seed=1, target_grad=False):
    xt = lib.tensor(x, requires_grad=True)
    tt = lib.tensor(t, requires_grad=target_grad)
    out = fn(xt, tt, weight=None if w is None else lib.tensor(w), **kwargs)
    g = np.random.default_rng(upstream_seed).standard_normal(tuple(out.shape))
    out.backward(lib.tensor(g))
    return out.detach().numpy(), xt.grad.numpy(), tt.grad.numpy() if target_grad else None


def _assert_same(mine, theirs, rtol=1e-7, atol=1e-10):
    for m, t in zip(mine, theirs):
        if t is None:
            continue
        assert m.shape == t.shape
        np.testing.assert_allclose(m, t, rtol=rtol, atol=atol)


OPTIONS = list(itertools.product(SHAPES, REDUCTIONS, (False, True), IGNORES))


def _options_id(option):
    shape, reduction, weighted, ignore = option
    return (f"{'x'.join(map(str, shape))}-{reduction}{'-weight' if weighted else ''}"
            f"{'' if ignore is None else f'-ignore{ignore}'}")


@pytest.mark.torch
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("option", OPTIONS, ids=_options_id)
def test_cross_entropy_class_indices_match_torch(torch, option, smoothing):
    shape, reduction, weighted, ignore_index = option
    x, t, w, kwargs = _case(shape, weighted, ignore_index)
    kwargs.update(reduction=reduction, label_smoothing=smoothing)
    mine = _run(lg, F.cross_entropy, x, t, w, kwargs)
    theirs = _run(torch, torch.nn.functional.cross_entropy, x, t, w, kwargs)
    _assert_same(mine, theirs)


@pytest.mark.torch
@pytest.mark.parametrize("option", OPTIONS, ids=_options_id)
def test_nll_loss_matches_torch(torch, option):
    shape, reduction, weighted, ignore_index = option
    x, t, w, kwargs = _case(shape, weighted, ignore_index)
    kwargs.update(reduction=reduction)
    mine = _run(lg, F.nll_loss, x, t, w, kwargs)
    theirs = _run(torch, torch.nn.functional.nll_loss, x, t, w, kwargs)
    _assert_same(mine, theirs)


@pytest.mark.torch
@pytest.mark.parametrize("fn, kwargs", [("cross_entropy", {"label_smoothing": 0.2}),
                                        ("nll_loss", {})])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_two_extra_dims_match_torch(torch, fn, kwargs, reduction):
    x, t, w, ignore = _case((2, 5, 3, 2), True, -100)
    kwargs = {**kwargs, **ignore, "reduction": reduction}
    mine = _run(lg, getattr(F, fn), x, t, w, kwargs)
    theirs = _run(torch, getattr(torch.nn.functional, fn), x, t, w, kwargs)
    _assert_same(mine, theirs)


@pytest.mark.torch
@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_uint8_targets(torch, fn):
    x, t, w, kwargs = _case((4, 5), True, None)
    t = t.astype(np.uint8)
    mine = _run(lg, getattr(F, fn), x, t, w, kwargs)
    theirs = _run(torch, getattr(torch.nn.functional, fn), x, t, w, kwargs)
    _assert_same(mine, theirs)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(4, 5), (5,), (3, 5, 4)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_probabilities_match_torch(torch, shape, reduction, weighted, smoothing):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    class_dim = 0 if len(shape) == 1 else 1
    p = np.exp(rng.standard_normal(shape))
    p /= p.sum(class_dim, keepdims=True)
    w = rng.random(shape[class_dim]) + 0.1 if weighted else None
    kwargs = {"reduction": reduction, "label_smoothing": smoothing}
    mine = _run(lg, F.cross_entropy, x, p, w, kwargs, target_grad=True)
    theirs = _run(torch, torch.nn.functional.cross_entropy, x, p, w, kwargs, target_grad=True)
    _assert_same(mine, theirs)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(64, 10), (32, 5, 6)])
def test_cross_entropy_float32(torch, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32) * 5
    t = _targets(rng, shape, None)
    mine = _run(lg, F.cross_entropy, x, t, None, {})
    theirs = _run(torch, torch.nn.functional.cross_entropy, x, t, None, {})
    assert mine[0].dtype == np.float32 and mine[1].dtype == np.float32
    _assert_same(mine, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_second_derivative_matches_torch(torch, smoothing, reduction):
    """grad with create_graph, then the gradient of a function of it, in both libraries."""
    x, t, w, kwargs = _case((4, 5), True, -100)
    kwargs.update(reduction=reduction, label_smoothing=smoothing)
    results = []
    for lib, functional in ((lg, F), (torch, torch.nn.functional)):
        xt = lib.tensor(x, requires_grad=True)
        loss = functional.cross_entropy(xt, lib.tensor(t), weight=lib.tensor(w), **kwargs)
        (g,) = lib.autograd.grad(loss.sum(), [xt], create_graph=True)
        (g * g * lib.tensor(np.arange(20.0).reshape(4, 5))).sum().backward()
        results.append((g.detach().numpy(), xt.grad.numpy()))
    _assert_same(*results)


# ------------------------------------------------------------------ gradcheck

@pytest.mark.parametrize("shape", [(3, 4), (4,), (2, 4, 3)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted, ignore_index, smoothing",
                         [(False, None, 0.0), (True, -100, 0.0), (True, 1, 0.25),
                          (False, -100, 0.1)])
def test_cross_entropy_gradcheck(shape, reduction, weighted, ignore_index, smoothing):
    x, t, w, kwargs = _case(shape, weighted, ignore_index)
    weight = None if w is None else lg.tensor(w)
    target = lg.tensor(t)

    def loss(logits):
        return F.cross_entropy(logits, target, weight=weight, reduction=reduction,
                               label_smoothing=smoothing, **kwargs)

    inputs = [lg.tensor(x, requires_grad=True)]
    assert gradcheck(loss, inputs)
    assert gradgradcheck(loss, inputs)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_probabilities_gradcheck(reduction):
    rng = np.random.default_rng(0)
    x = lg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    p = lg.tensor(rng.random((3, 4)), requires_grad=True)
    weight = lg.tensor(rng.random(4) + 0.1)

    def loss(logits, target):
        return F.cross_entropy(logits, target, weight=weight, reduction=reduction,
                               label_smoothing=0.1)

    assert gradcheck(loss, [x, p])
    assert gradgradcheck(loss, [x, p])


@pytest.mark.parametrize("shape", [(3, 4), (4,), (2, 4, 3)])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_gradcheck(shape, reduction):
    x, t, w, kwargs = _case(shape, True, -100)
    weight, target = lg.tensor(w), lg.tensor(t)

    def loss(log_probs):
        return F.nll_loss(log_probs, target, weight=weight, reduction=reduction, **kwargs)

    inputs = [lg.tensor(x, requires_grad=True)]
    assert gradcheck(loss, inputs)
    assert gradgradcheck(loss, inputs)


# ------------------------------------------------------------------ edge cases

@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_target_ignored_gives_nan_and_zero_gradient(fn, weighted):
    x = lg.randn(3, 4, requires_grad=True)
    weight = lg.ones(4) if weighted else None
    loss = fn(x, lg.tensor([-100, -100, -100]), weight=weight)
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((3, 4)))


def test_cross_entropy_backward_twice_with_retain_graph():
    x = lg.randn(4, 5, requires_grad=True)
    loss = F.cross_entropy(x, lg.tensor([0, 1, 2, 3]), label_smoothing=0.1)
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-6)


def test_cross_entropy_is_stable_for_large_logits():
    x = lg.tensor([[1000.0, -1000.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, lg.tensor([1]))
    assert loss.item() == pytest.approx(2000.0)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, -1.0, 0.0]], atol=1e-6)


def test_cross_entropy_without_grad_records_nothing():
    x = lg.randn(4, 5, requires_grad=True)
    with lg.no_grad():
        loss = F.cross_entropy(x, lg.tensor([0, 1, 2, 3]))
    assert loss.grad_fn is None


def test_cross_entropy_node_name():
    loss = F.cross_entropy(lg.randn(2, 3, requires_grad=True), lg.tensor([0, 2]))
    assert loss.grad_fn.name() == "CrossEntropyLossBackward0"


# ------------------------------------------------------------------ errors

def test_cross_entropy_target_shape_error():
    with pytest.raises(RuntimeError, match=(
            r"cross_entropy: expected target of shape \(64,\) with class indices \(int64\) or "
            r"\(64, 10\) with probabilities \(floating point\), got \(64, 1\) \(int64\)")):
        F.cross_entropy(lg.randn(64, 10), lg.zeros(64, 1, dtype=lg.int64))


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_target_dtype_error(fn):
    with pytest.raises(RuntimeError, match=fr"{fn.__name__}: expected target of shape \(3,\) "
                                           r"with class indices \(int64\).*got \(3,\) \(int32\)"):
        fn(lg.randn(3, 4), lg.tensor([0, 1, 2], dtype=lg.int32))
    with pytest.raises(RuntimeError, match=r"got \(3,\) \(float32\)"):
        fn(lg.randn(3, 4), lg.tensor([0.0, 1.0, 2.0]))


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_out_of_range_class_index(fn):
    with pytest.raises(IndexError, match=fr"{fn.__name__}: target 4 is out of bounds: class "
                                         r"indices must be in \[0, 4\)"):
        fn(lg.randn(3, 4), lg.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        fn(lg.randn(3, 4), lg.tensor([0, -1, 1]))
    with pytest.raises(IndexError, match="target 9 is out of bounds"):
        fn(lg.randn(3, 4), lg.tensor([0, 9, 1]), ignore_index=0)


@pytest.mark.parametrize("fn", [F.cross_entropy, F.nll_loss])
def test_weight_errors(fn):
    x, t = lg.randn(3, 4), lg.tensor([0, 1, 2])
    with pytest.raises(RuntimeError, match=fr"{fn.__name__}: weight must hold one value for "
                                           r"each of the 4 classes, got a weight of shape \(3,\)"):
        fn(x, t, weight=lg.ones(3))
    with pytest.raises(RuntimeError, match=r"weight \(tensor of shape \(4,\) \(float64, cpu\)\) "
                                           "must have the input's dtype float32"):
        fn(x, t, weight=lg.ones(4, dtype=lg.float64))


def test_cross_entropy_argument_errors():
    x = lg.randn(3, 4)
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, lg.tensor([0, 1, 2]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="expected an input with 1 or more dimensions"):
        F.cross_entropy(lg.tensor(1.0), lg.tensor(0))
    with pytest.raises(RuntimeError, match="ignore_index=2 is not supported for class "
                                           "probability"):
        F.cross_entropy(x, lg.rand(3, 4), ignore_index=2)
    with pytest.raises(RuntimeError, match=r"expected target of shape \(3,\)"):
        F.cross_entropy(x, lg.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="expected input to be a floating point tensor"):
        F.cross_entropy(lg.tensor([[1, 2]]), lg.tensor([0]))
    with pytest.raises(RuntimeError, match="expected target to be a floating point tensor"):
        F.cross_entropy(x, lg.zeros(3, 4, dtype=lg.int64))
    with pytest.raises(ValueError, match="cross_entropy: 'batchmean' is not a valid value"):
        F.cross_entropy(x, lg.tensor([0, 1, 2]), reduction="batchmean")
