"""nn.functional losses: one table row per loss and option set, checked against PyTorch
(value, input gradients) under every reduction, by gradcheck (and gradgradcheck for the smooth
ones) in float64. Error cases and the legacy size_average/reduce mapping at the end; the
class-index losses (cross_entropy, nll_loss) have their own file, test_loss_classes.py."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn.functional as F
from labgrad.autograd import gradcheck, gradgradcheck

REDUCTIONS = ("mean", "sum", "none")


@dataclass
class Case:
    """One loss with one set of options.

    make(rng) returns (args, kwargs): NumPy arrays become tensors in both libraries (float64;
    those at the positions in `grads` require grad), other values pass as they are; `smooth`
    asks for a gradgradcheck too; `gradcheck=False` for a case whose gradient PyTorch defines
    as something other than the derivative (a clamp it passes straight through)."""

    id: str
    fn: str
    make: object
    grads: tuple = (0,)
    smooth: bool = False
    gradcheck: bool = True
    reductions: tuple = REDUCTIONS
    kwargs: dict = field(default_factory=dict)


def _randn(rng, *shape):
    return rng.standard_normal(shape)


def _signs(rng, *shape):
    return rng.choice([-1.0, 1.0], size=shape)


def _pair(scale=1.0, shape=(4, 5)):
    return lambda rng: ([_randn(rng, *shape) * scale, _randn(rng, *shape) * scale], {})


def _with(make, **extra):
    """`make`, with extra kwargs each drawn by a function of rng."""
    def made(rng):
        args, kwargs = make(rng)
        return args, {**kwargs, **{k: v(rng) for k, v in extra.items()}}
    return made


def _log_probs(rng, *shape):
    x = _randn(rng, *shape)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _probs(rng, *shape, zeros=False):
    p = np.exp(_log_probs(rng, *shape))
    if zeros:
        p[0, :2] = 0.0
    return p


def _multilabel_targets(rng):
    return ([_randn(rng, 4, 5)],
            {"target": np.array([[3, 0, -1, 1, 2], [0, 1, 2, 3, 4], [-1, 2, 2, 0, 1],
                                 [1, 1, -1, 4, 4]])})


def _l1_distance(lib):
    return lambda a, b: (a - b).abs().sum(-1)


CASES = [
    Case("l1", "l1_loss", _pair(), grads=(0, 1)),
    Case("l1-weight", "l1_loss", _with(_pair(), weight=lambda r: r.random((4, 5))),
         grads=(0, 1)),
    Case("mse", "mse_loss", _pair(), grads=(0, 1), smooth=True),
    Case("mse-weight", "mse_loss", _with(_pair(), weight=lambda r: r.random((4, 5))),
         grads=(0, 1), smooth=True),
    Case("mse-1d", "mse_loss", _pair(shape=(7,)), grads=(0, 1)),
    Case("smooth_l1", "smooth_l1_loss", _pair(2.0), grads=(0, 1), smooth=True),
    Case("smooth_l1-beta0.5", "smooth_l1_loss", _pair(2.0), grads=(0, 1), smooth=True,
         kwargs={"beta": 0.5}),
    Case("smooth_l1-beta0", "smooth_l1_loss", _pair(), grads=(0, 1), kwargs={"beta": 0.0}),
    Case("huber", "huber_loss", _pair(2.0), grads=(0, 1), smooth=True),
    Case("huber-delta0.5", "huber_loss", _pair(2.0), grads=(0, 1), smooth=True,
         kwargs={"delta": 0.5}),
    Case("huber-weight", "huber_loss", _with(_pair(2.0), weight=lambda r: r.random((4, 5))),
         grads=(0, 1)),
    Case("soft_margin", "soft_margin_loss",
         lambda r: ([_randn(r, 4, 5) * 3, _signs(r, 4, 5)], {}), smooth=True),
    Case("hinge_embedding", "hinge_embedding_loss",
         lambda r: ([_randn(r, 4, 5), _signs(r, 4, 5)], {})),
    Case("hinge_embedding-margin", "hinge_embedding_loss",
         lambda r: ([_randn(r, 4, 5), _signs(r, 4, 5)], {}), kwargs={"margin": 0.5}),
    Case("poisson_nll", "poisson_nll_loss",
         lambda r: ([_randn(r, 4, 5), r.poisson(2.0, (4, 5)).astype(float)], {}),
         grads=(0, 1), smooth=True),
    Case("poisson_nll-rate", "poisson_nll_loss",
         lambda r: ([r.random((4, 5)) + 0.1, r.poisson(2.0, (4, 5)).astype(float)], {}),
         grads=(0, 1), smooth=True, kwargs={"log_input": False}),
    Case("poisson_nll-full", "poisson_nll_loss",
         lambda r: ([_randn(r, 4, 5), r.poisson(2.0, (4, 5)).astype(float) + 0.5], {}),
         grads=(0, 1), smooth=True, kwargs={"full": True}),
    Case("gaussian_nll", "gaussian_nll_loss",
         lambda r: ([_randn(r, 4, 5), _randn(r, 4, 5), r.random((4, 5)) + 0.1], {}),
         grads=(0, 1, 2), smooth=True),
    Case("gaussian_nll-row-var", "gaussian_nll_loss",
         lambda r: ([_randn(r, 4, 5), _randn(r, 4, 5), r.random(4) + 0.1], {}),
         grads=(0, 1, 2), smooth=True),
    Case("gaussian_nll-var-dim1", "gaussian_nll_loss",
         lambda r: ([_randn(r, 4, 5), _randn(r, 4, 5), r.random((4, 1)) + 0.1], {}),
         grads=(0, 2), kwargs={"full": True}),
    Case("gaussian_nll-float-var", "gaussian_nll_loss",
         lambda r: ([_randn(r, 4, 5), _randn(r, 4, 5), 0.5], {}), grads=(0, 1)),
    Case("gaussian_nll-clamped", "gaussian_nll_loss",
         lambda r: ([_randn(r, 4, 5), _randn(r, 4, 5), np.full((4, 5), 1e-3)], {}),
         grads=(0, 2), kwargs={"eps": 0.01}, gradcheck=False),
    Case("kl_div", "kl_div", lambda r: ([_log_probs(r, 4, 5), _probs(r, 4, 5)], {}),
         grads=(0, 1), smooth=True, reductions=REDUCTIONS + ("batchmean",)),
    Case("kl_div-zero-target", "kl_div",
         lambda r: ([_log_probs(r, 4, 5), _probs(r, 4, 5, zeros=True)], {}),
         reductions=REDUCTIONS + ("batchmean",)),
    Case("kl_div-log_target", "kl_div",
         lambda r: ([_log_probs(r, 4, 5), _log_probs(r, 4, 5)], {}), grads=(0, 1),
         smooth=True, kwargs={"log_target": True}, reductions=REDUCTIONS + ("batchmean",)),
    Case("bce", "binary_cross_entropy",
         lambda r: ([r.uniform(0.05, 0.95, (4, 5)), r.random((4, 5))], {}), grads=(0, 1),
         smooth=True),
    Case("bce-weight", "binary_cross_entropy",
         _with(lambda r: ([r.uniform(0.05, 0.95, (4, 5)), r.integers(0, 2, (4, 5)) * 1.0], {}),
               weight=lambda r: r.random(5)), grads=(0, 1)),
    Case("bce_logits", "binary_cross_entropy_with_logits",
         lambda r: ([_randn(r, 4, 5) * 3, r.random((4, 5))], {}), grads=(0, 1), smooth=True),
    Case("bce_logits-weights", "binary_cross_entropy_with_logits",
         _with(lambda r: ([_randn(r, 4, 5) * 3, r.random((4, 5))], {}),
               weight=lambda r: r.random((4, 5)), pos_weight=lambda r: r.random(5) * 3),
         grads=(0, 1), smooth=True),
    Case("bce_logits-large", "binary_cross_entropy_with_logits",
         lambda r: ([np.array([[-800.0, -30.0, 0.0, 30.0, 800.0]]),
                     np.array([[1.0, 0.0, 0.5, 1.0, 0.0]])], {})),
    Case("multilabel_soft_margin", "multilabel_soft_margin_loss",
         lambda r: ([_randn(r, 4, 5), r.integers(0, 2, (4, 5)) * 1.0], {}), grads=(0, 1),
         smooth=True),
    Case("multilabel_soft_margin-weight", "multilabel_soft_margin_loss",
         _with(lambda r: ([_randn(r, 4, 5), r.integers(0, 2, (4, 5)) * 1.0], {}),
               weight=lambda r: r.random(5))),
    Case("multilabel_soft_margin-1d", "multilabel_soft_margin_loss",
         lambda r: ([_randn(r, 5), r.integers(0, 2, 5) * 1.0], {})),
    Case("cosine_embedding", "cosine_embedding_loss",
         lambda r: ([_randn(r, 4, 5), _randn(r, 4, 5), _signs(r, 4)], {}), grads=(0, 1),
         smooth=True),
    Case("cosine_embedding-margin", "cosine_embedding_loss",
         lambda r: ([_randn(r, 6, 5), _randn(r, 6, 5), _signs(r, 6)], {}), grads=(0, 1),
         kwargs={"margin": -0.3}),
    Case("cosine_embedding-1d", "cosine_embedding_loss",
         lambda r: ([_randn(r, 5), _randn(r, 5), np.array(-1.0)], {}), grads=(0, 1),
         kwargs={"margin": -0.5}),
    Case("margin_ranking", "margin_ranking_loss",
         lambda r: ([_randn(r, 6), _randn(r, 6), _signs(r, 6)], {}), grads=(0, 1)),
    Case("margin_ranking-margin", "margin_ranking_loss",
         lambda r: ([_randn(r, 6), _randn(r, 6), _signs(r, 6)], {}), grads=(0, 1),
         kwargs={"margin": 0.5}),
    Case("multi_margin", "multi_margin_loss",
         lambda r: ([_randn(r, 4, 5), r.integers(0, 5, 4)], {})),
    Case("multi_margin-p2-weight", "multi_margin_loss",
         _with(lambda r: ([_randn(r, 4, 5), r.integers(0, 5, 4)], {}),
               weight=lambda r: r.random(5)), kwargs={"p": 2, "margin": 0.7}),
    Case("multi_margin-1d", "multi_margin_loss",
         lambda r: ([_randn(r, 5), np.array(2)], {})),
    Case("multilabel_margin", "multilabel_margin_loss", _multilabel_targets),
    Case("multilabel_margin-1d", "multilabel_margin_loss",
         lambda r: ([_randn(r, 5)], {"target": np.array([4, 1, -1, 0, 0])})),
    Case("triplet", "triplet_margin_loss",
         lambda r: ([_randn(r, 4, 6), _randn(r, 4, 6), _randn(r, 4, 6)], {}), grads=(0, 1, 2)),
    Case("triplet-p1-swap", "triplet_margin_loss",
         lambda r: ([_randn(r, 4, 6), _randn(r, 4, 6), _randn(r, 4, 6)], {}), grads=(0, 1, 2),
         kwargs={"p": 1, "swap": True, "margin": 2.0}),
    Case("triplet-p3-eps", "triplet_margin_loss",
         lambda r: ([_randn(r, 4, 6), _randn(r, 4, 6), _randn(r, 4, 6)], {}), grads=(0, 1, 2),
         kwargs={"p": 3, "eps": 1e-3, "margin": 3.0}),
    Case("triplet-1d", "triplet_margin_loss",
         lambda r: ([_randn(r, 6), _randn(r, 6), _randn(r, 6)], {}), grads=(0, 1, 2),
         kwargs={"margin": 5.0}),
    Case("triplet_distance", "triplet_margin_with_distance_loss",
         lambda r: ([_randn(r, 4, 6), _randn(r, 4, 6), _randn(r, 4, 6)], {}), grads=(0, 1, 2),
         kwargs={"margin": 2.0}),
    Case("triplet_distance-l1-swap", "triplet_margin_with_distance_loss",
         lambda r: ([_randn(r, 4, 6), _randn(r, 4, 6), _randn(r, 4, 6)], {}), grads=(0, 1, 2),
         kwargs={"distance_function": _l1_distance, "swap": True, "margin": 4.0}),
]

def _convert(lib, value, requires_grad=False):
    if isinstance(value, np.ndarray):
        return lib.tensor(value, requires_grad=requires_grad and value.dtype.kind == "f")
    if callable(value):  # a distance function, made for this library
        return value(lib)
    return value


def _run(lib, functional, case, args, kwargs, reduction, upstream):
    """The loss and the gradients of the args in case.grads, for one library."""
    tensors = [_convert(lib, a, i in case.grads) for i, a in enumerate(args)]
    kw = {k: _convert(lib, v) for k, v in {**kwargs, **case.kwargs}.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's 'mean' warns in both libraries
        out = getattr(functional, case.fn)(*tensors, reduction=reduction, **kw)
    grads = []
    if case.grads:
        out.backward(lib.tensor(upstream(tuple(out.shape))))
        grads = [tensors[i].grad.numpy() for i in case.grads]
    return out.detach().numpy(), grads


@pytest.mark.torch
@pytest.mark.parametrize("case, reduction", [(c, r) for c in CASES for r in c.reductions],
                         ids=lambda v: v if isinstance(v, str) else v.id)
def test_loss_matches_torch(torch, case, reduction):
    args, kwargs = case.make(np.random.default_rng(0))

    def upstream(shape):
        return np.random.default_rng(1).standard_normal(shape)

    mine, my_grads = _run(lg, F, case, args, kwargs, reduction, upstream)
    theirs, their_grads = _run(torch, torch.nn.functional, case, args, kwargs, reduction,
                               upstream)
    assert mine.shape == theirs.shape, case.id
    np.testing.assert_allclose(mine, theirs, rtol=1e-7, atol=1e-10, err_msg=case.id)
    for i, mg, tg in zip(case.grads, my_grads, their_grads):
        np.testing.assert_allclose(mg, tg, rtol=1e-7, atol=1e-10,
                                   err_msg=f"{case.id}: gradient of argument {i}")


def _closure(case, reduction):
    """(fn of the differentiable tensors, those tensors) for gradcheck."""
    args, kwargs = case.make(np.random.default_rng(0))
    tensors = [_convert(lg, a, i in case.grads) for i, a in enumerate(args)]
    kw = {k: _convert(lg, v) for k, v in {**kwargs, **case.kwargs}.items()}
    fn = getattr(F, case.fn)

    def loss(*diff):
        full = list(tensors)
        for i, t in zip(case.grads, diff):
            full[i] = t
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*full, reduction=reduction, **kw)

    return loss, [tensors[i] for i in case.grads]


@pytest.mark.parametrize("reduction", ("mean", "none"))
@pytest.mark.parametrize("case", [c for c in CASES if c.gradcheck], ids=lambda c: c.id)
def test_loss_gradcheck(case, reduction):
    fn, inputs = _closure(case, reduction)
    assert gradcheck(fn, inputs), case.id


@pytest.mark.parametrize("case", [c for c in CASES if c.smooth], ids=lambda c: c.id)
def test_loss_gradgradcheck(case):
    fn, inputs = _closure(case, "sum")
    assert gradgradcheck(fn, inputs), case.id


def test_bce_with_logits_pos_weight_gradient():
    rng = np.random.default_rng(0)
    x, t = lg.tensor(rng.standard_normal((3, 4))), lg.tensor(rng.random((3, 4)))
    pos_weight = lg.tensor(rng.random(4) + 0.5, requires_grad=True)

    def loss(pw):
        return F.binary_cross_entropy_with_logits(x, t, pos_weight=pw, reduction="none")

    assert gradcheck(loss, [pos_weight])
    assert gradgradcheck(loss, [pos_weight])


def test_bce_with_logits_is_stable_for_large_logits():
    x = lg.tensor([-1000.0, 1000.0], requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, lg.tensor([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [1000.0, 1000.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 1.0])


def test_bce_clamps_log_at_minus_100():
    x = lg.tensor([0.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(x, lg.tensor([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0])
    loss.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_losses_keep_float32():
    x = lg.randn(4, 5, requires_grad=True)
    t = lg.rand(4, 5)
    for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.binary_cross_entropy_with_logits):
        loss = fn(x, t)
        assert loss.dtype == lg.float32, fn.__name__
        loss.backward()
        assert x.grad.dtype == lg.float32, fn.__name__


# ------------------------------------------------------------------ legacy arguments, warnings

@pytest.mark.parametrize("size_average, reduce, expected", [
    (None, None, "mean"), (True, None, "mean"), (False, None, "sum"), (None, False, "none"),
    (False, True, "sum"), (True, False, "none")])
def test_legacy_size_average_and_reduce(size_average, reduce, expected):
    x, t = lg.randn(3, 4), lg.randn(3, 4)
    if size_average is None and reduce is None:
        out = F.mse_loss(x, t, size_average=size_average, reduce=reduce)
    else:
        with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
            out = F.mse_loss(x, t, size_average=size_average, reduce=reduce)
    want = F.mse_loss(x, t, reduction=expected)
    np.testing.assert_allclose(out.numpy(), want.numpy())


def test_elementwise_mean_is_deprecated_mean():
    x, t = lg.randn(3, 4), lg.randn(3, 4)
    with pytest.warns(UserWarning, match="elementwise_mean"):
        out = F.l1_loss(x, t, reduction="elementwise_mean")
    np.testing.assert_allclose(out.numpy(), F.l1_loss(x, t).numpy())


def test_mismatched_target_shape_warns_and_broadcasts():
    x, t = lg.randn(4), lg.randn(4, 1)
    with pytest.warns(UserWarning, match=r"target of shape \(4, 1\) .* input's shape \(4,\)"):
        out = F.mse_loss(x, t, reduction="none")
    assert out.shape == (4, 4)


def test_kl_div_mean_warns():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(lg.randn(2, 3), lg.rand(2, 3))


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("fn, args", [
    (F.mse_loss, lambda: (lg.randn(3), lg.randn(3))),
    (F.kl_div, lambda: (lg.randn(3), lg.rand(3))),
    (F.binary_cross_entropy, lambda: (lg.rand(3), lg.rand(3))),
    (F.triplet_margin_with_distance_loss, lambda: (lg.randn(2, 3),) * 3),
])
def test_bad_reduction(fn, args):
    with pytest.raises(ValueError, match=f"{fn.__name__}: 'avg' is not a valid value for "
                                         "reduction"):
        fn(*args(), reduction="avg")


def test_shapes_that_do_not_broadcast():
    with pytest.raises(RuntimeError, match=r"mse_loss: input of shape \(3,\) and target of "
                                           r"shape \(4,\) cannot be broadcast"):
        F.mse_loss(lg.randn(3), lg.randn(4))


def test_integer_input():
    with pytest.raises(RuntimeError, match="l1_loss: expected input to be a floating point"):
        F.l1_loss(lg.tensor([1, 2]), lg.tensor([1, 2]))


def test_not_a_tensor():
    with pytest.raises(TypeError, match="mse_loss: target must be a tensor"):
        F.mse_loss(lg.randn(3), [1.0, 2.0, 3.0])


def test_elementwise_weight_shape():
    with pytest.raises(ValueError, match=r"l1_loss: weight of shape \(3,\) must have the same "
                                         r"shape as the input, \(2, 3\)"):
        F.l1_loss(lg.randn(2, 3), lg.randn(2, 3), weight=lg.ones(3))


def test_bce_errors():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target of shape \(3, 1\) must "
                                         r"have the same shape as the input, \(3,\)"):
        F.binary_cross_entropy(lg.rand(3), lg.rand(3, 1))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(lg.tensor([0.5, 1.5]), lg.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: target of shape"):
        F.binary_cross_entropy_with_logits(lg.randn(3), lg.rand(2))
    with pytest.raises(RuntimeError, match=r"pos_weight of shape \(3,\) cannot be broadcast"):
        F.binary_cross_entropy_with_logits(lg.randn(2, 4), lg.rand(2, 4), pos_weight=lg.ones(3))


def test_smooth_l1_and_huber_parameters():
    with pytest.raises(RuntimeError, match="smooth_l1_loss: beta must be non-negative"):
        F.smooth_l1_loss(lg.randn(3), lg.randn(3), beta=-1.0)
    with pytest.raises(RuntimeError, match="huber_loss: delta must be positive"):
        F.huber_loss(lg.randn(3), lg.randn(3), delta=0.0)


def test_gaussian_nll_errors():
    x = lg.randn(4, 5)
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(x, x, -lg.ones(4, 5))
    with pytest.raises(ValueError, match="var has negative"):
        F.gaussian_nll_loss(x, x, -1.0)
    with pytest.raises(ValueError, match=r"var is of incorrect size: got \(3,\)"):
        F.gaussian_nll_loss(x, x, lg.ones(3))


def test_margin_loss_errors():
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(lg.randn(2, 3), lg.tensor([0, 1]), p=3)
    with pytest.raises(IndexError, match=r"multi_margin_loss: target 3 is out of bounds"):
        F.multi_margin_loss(lg.randn(2, 3), lg.tensor([0, 3]))
    with pytest.raises(RuntimeError, match=r"multi_margin_loss: expected target of shape \(2,\) "
                                           r"with class indices \(int64\), got \(2, 1\)"):
        F.multi_margin_loss(lg.randn(2, 3), lg.tensor([[0], [1]]))
    with pytest.raises(IndexError, match="multilabel_margin_loss: target 7 is out of bounds"):
        F.multilabel_margin_loss(lg.randn(2, 3), lg.tensor([[0, 7, -1], [1, -1, 0]]))
    with pytest.raises(RuntimeError, match="cosine_embedding_loss: 1D target tensor expects 2D"):
        F.cosine_embedding_loss(lg.randn(3), lg.randn(3), lg.ones(3))
    with pytest.raises(RuntimeError, match="margin_ranking_loss: all input tensors should have"):
        F.margin_ranking_loss(lg.randn(3), lg.randn(3, 1), lg.ones(3))


def test_triplet_errors():
    a = lg.randn(2, 3)
    with pytest.raises(ValueError, match="margin must be greater than 0, got 0"):
        F.triplet_margin_loss(a, a, a, margin=0)
    with pytest.raises(RuntimeError, match="anchor 2D, positive 2D, and negative 1D"):
        F.triplet_margin_with_distance_loss(a, a, lg.randn(3))
