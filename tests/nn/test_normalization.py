"""Normalization: functional forms (gradcheck) and layers against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn
import labgrad.nn.functional as F
from labgrad.autograd import gradcheck, gradgradcheck

f64 = lg.float64


def _t(shape, seed=0, requires_grad=True):
    rng = np.random.default_rng(seed)
    return lg.tensor(rng.standard_normal(shape), dtype=f64, requires_grad=requires_grad)


FUNCTIONAL = {
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (5,), w, b), (3, 4, 5), (5,)),
    "layer_norm_2d": (lambda x, w, b: F.layer_norm(x, (4, 5), w, b), (3, 4, 5), (4, 5)),
    "batch_norm": (lambda x, w, b: F.batch_norm(x, None, None, w, b, True), (3, 4, 5), (4,)),
    "batch_norm_2d": (lambda x, w, b: F.batch_norm(x, None, None, w, b, True), (3, 2, 2, 2),
                      (2,)),
    "batch_norm_eval": (lambda x, w, b: F.batch_norm(
        x, lg.arange(4.0, dtype=f64), lg.ones(4, dtype=f64) * 2, w, b, False), (3, 4, 5), (4,)),
    "instance_norm": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (2, 4, 5), (4,)),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), (2, 4, 3), (4,)),
    "rms_norm": (lambda x, w, b: F.rms_norm(x, (5,), w) + b, (3, 5), (5,)),
    "local_response_norm": (lambda x, w, b: F.local_response_norm(x * w.sum() + b.sum(), 3),
                            (2, 5, 3), (2,)),
}


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_gradcheck(name):
    fn, shape, pshape = FUNCTIONAL[name]
    args = (_t(shape, 0), _t(pshape, 1), _t(pshape, 2))
    assert gradcheck(fn, args), name
    assert gradgradcheck(fn, args), name


def test_gradcheck_without_affine():
    x = _t((3, 4, 5))
    assert gradcheck(lambda x: F.layer_norm(x, (5,)), (x,))
    assert gradgradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x,))


def _same_params(mine, theirs, torch):
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            values = np.random.default_rng(len(name)).uniform(0.5, 1.5, tuple(p.shape))
            p.copy_(torch.tensor(values))
            getattr(mine, name).data = lg.tensor(values, dtype=getattr(mine, name).dtype)


def _compare(mine, theirs, torch, shape, steps=1, rtol=1e-4, atol=1e-5):
    """Run both layers `steps` times on the same inputs; compare outputs, input and
    parameter gradients and buffers."""
    rng = np.random.default_rng(0)
    for _ in range(steps):
        xn = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
        gn = rng.standard_normal(shape).astype(np.float32)
        x, xt = lg.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
        y, yt = mine(x), theirs(xt)
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=rtol,
                                   atol=atol)
        y.backward(lg.tensor(gn))
        yt.backward(torch.tensor(gn))
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=atol)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(mine, name).grad.numpy(), p.grad.numpy(),
                                   rtol=rtol, atol=atol * 10, err_msg=name)
    for name, b in theirs.named_buffers():
        np.testing.assert_allclose(getattr(mine, name).numpy(), b.numpy(), rtol=rtol,
                                   atol=atol, err_msg=name)


BATCH_NORMS = [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 2, 3)),
               ("BatchNorm3d", (2, 3, 2, 2, 2))]


@pytest.mark.torch
@pytest.mark.parametrize("cls,shape", BATCH_NORMS)
@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"affine": False},
                                     {"track_running_stats": False}, {"momentum": 0.3}])
def test_batch_norm_matches_torch(torch, cls, shape, options):
    mine, theirs = getattr(nn, cls)(3, **options), getattr(torch.nn, cls)(3, **options)
    _same_params(mine, theirs, torch)
    _compare(mine, theirs, torch, shape, steps=3)
    if options.get("track_running_stats", True):
        assert int(mine.num_batches_tracked) == 3
    mine.eval()
    theirs.eval()
    _compare(mine, theirs, torch, shape)


@pytest.mark.torch
@pytest.mark.parametrize("normalized_shape,options", [
    (5, {}), ((4, 5), {}), (5, {"elementwise_affine": False}), (5, {"bias": False}),
    (5, {"eps": 1e-3})])
def test_layer_norm_matches_torch(torch, normalized_shape, options):
    mine = nn.LayerNorm(normalized_shape, **options)
    theirs = torch.nn.LayerNorm(normalized_shape, **options)
    _same_params(mine, theirs, torch)
    _compare(mine, theirs, torch, (2, 3, 4, 5))
    assert repr(mine) == repr(theirs)


@pytest.mark.torch
@pytest.mark.parametrize("make,shape", [
    (lambda nn: nn.GroupNorm(2, 4), (3, 4, 5)),
    (lambda nn: nn.GroupNorm(1, 4, affine=False), (3, 4, 2, 2)),
    (lambda nn: nn.InstanceNorm1d(3), (2, 3, 5)),
    (lambda nn: nn.InstanceNorm1d(3), (3, 5)),
    (lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True), (2, 3, 4, 4)),
    (lambda nn: nn.InstanceNorm3d(3, affine=True), (2, 3, 2, 2, 3)),
    (lambda nn: nn.RMSNorm(5), (3, 4, 5)),
    (lambda nn: nn.RMSNorm((4, 5), eps=1e-5), (3, 4, 5)),
    (lambda nn: nn.LocalResponseNorm(3), (2, 6, 4)),
    (lambda nn: nn.LocalResponseNorm(2, alpha=0.1, beta=0.5, k=2.0), (2, 6, 2, 2)),
])
def test_other_norms_match_torch(torch, make, shape):
    mine, theirs = make(nn), make(torch.nn)
    _same_params(mine, theirs, torch)
    _compare(mine, theirs, torch, shape, steps=2)
    assert repr(mine) == repr(theirs)
    mine.eval()
    theirs.eval()
    _compare(mine, theirs, torch, shape)


@pytest.mark.torch
def test_state_dict_keys_and_loading_match_torch(torch):
    mine, theirs = nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert repr(mine) == repr(theirs)
    assert mine.num_batches_tracked.dtype == lg.int64
    state = {k: lg.tensor(v.numpy()) for k, v in theirs.state_dict().items()}
    state["running_mean"] = lg.arange(4.0)
    del state["num_batches_tracked"]  # an old checkpoint
    mine.num_batches_tracked.fill_(5)
    mine.load_state_dict(state)
    assert int(mine.num_batches_tracked) == 0
    np.testing.assert_array_equal(mine.running_mean.numpy(), np.arange(4.0))


def test_functional_batch_norm_updates_running_stats():
    x = lg.tensor(np.random.default_rng(0).standard_normal((8, 2)), dtype=lg.float32)
    mean, var = lg.zeros(2), lg.ones(2)
    F.batch_norm(x, mean, var, training=True, momentum=0.5)
    xn = x.numpy()
    np.testing.assert_allclose(mean.numpy(), 0.5 * xn.mean(0), rtol=1e-5)
    np.testing.assert_allclose(var.numpy(), 0.5 + 0.5 * xn.var(0, ddof=1), rtol=1e-5)


def test_cumulative_momentum_averages_batches():
    layer = nn.BatchNorm1d(2, momentum=None)
    batches = [lg.randn(5, 2) + i for i in range(3)]
    for batch in batches:
        layer(batch)
    expected = np.mean([b.numpy().mean(0) for b in batches], axis=0)
    np.testing.assert_allclose(layer.running_mean.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3.*\(2, 4, 3, 3\)"):
        nn.BatchNorm2d(3)(lg.randn(2, 4, 3, 3))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(lg.randn(2, 3, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(lg.randn(1, 3))
    with pytest.raises(RuntimeError, match=r"LayerNorm\(\(5,\).*\(2, 4\)"):
        nn.LayerNorm(5)(lg.randn(2, 4))
    with pytest.raises(RuntimeError, match="num_groups must divide"):
        F.group_norm(lg.randn(2, 4, 3), 3)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(RuntimeError, match="floating point"):
        F.layer_norm(lg.ones(2, 3, dtype=lg.int64), (3,))


def test_rms_norm_default_eps_is_finfo_eps():
    x = lg.tensor([[1e-5, 0.0]], dtype=lg.float32)
    expected = 1e-5 / np.sqrt(1e-10 / 2 + np.finfo(np.float32).eps)
    assert abs(F.rms_norm(x, (2,))[0, 0].item() - expected) < 1e-3 * expected


def test_layer_norm_without_grad_records_nothing():
    x = lg.randn(3, 4, requires_grad=True)
    with lg.no_grad():
        y = nn.LayerNorm(4)(x)
    assert y.grad_fn is None
