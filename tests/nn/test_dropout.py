"""Dropout family: masks, scaling, determinism under manual_seed, gradients, errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn
import labgrad.nn.functional as F
from labgrad.autograd import gradcheck, gradgradcheck


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_rate_and_scale(p):
    lg.manual_seed(0)
    y = F.dropout(lg.ones(20000), p)
    values = y.numpy()
    assert set(np.unique(values).round(5)) == {0.0, round(1 / (1 - p), 5)}
    assert abs((values == 0).mean() - p) < 0.02


def test_dropout_gradient_uses_the_same_mask():
    x = lg.randn(50, 40, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 1 / 0.6, 0.0), rtol=1e-6)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout1d, F.dropout3d, F.alpha_dropout,
                                F.feature_alpha_dropout])
def test_gradcheck_with_fixed_seed(fn):
    x = lg.tensor(np.random.default_rng(0).standard_normal((2, 3, 2, 2, 2)), dtype=lg.float64,
                  requires_grad=True)
    if fn is F.dropout1d:
        x = x.reshape(2, 3, 8).detach().requires_grad_()

    def seeded(x):
        lg.manual_seed(3)
        return fn(x, 0.5, True)
    assert gradcheck(seeded, (x,))
    assert gradgradcheck(seeded, (x,))


def test_manual_seed_repeats_masks():
    x = lg.randn(100)
    lg.manual_seed(7)
    a = F.dropout(x, 0.5)
    lg.manual_seed(7)
    b = F.dropout(x, 0.5)
    c = F.dropout(x, 0.5)
    assert lg.equal(a, b) and not lg.equal(a, c)


def test_eval_and_p_zero_are_identity():
    x = lg.randn(4, 5)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    layer = nn.Dropout(0.5).eval()
    assert layer(x) is x
    assert lg.equal(F.dropout(x, 1.0), lg.zeros(4, 5))


@pytest.mark.parametrize("fn,shape", [(F.dropout1d, (6, 8, 5)), (F.dropout1d, (8, 5)),
                                      (F.dropout2d, (6, 8, 3, 3)),
                                      (F.dropout3d, (6, 8, 2, 2, 2)), (F.dropout3d, (8, 2, 2, 2)),
                                      (F.feature_alpha_dropout, (6, 8, 3))])
def test_channel_dropout_drops_whole_channels(fn, shape):
    lg.manual_seed(1)
    y = fn(lg.rand(*shape) + 1, 0.5, True).numpy()
    batched = shape if len(shape) in (3, 5) or fn is F.dropout2d else (1,) + shape
    channels = y.reshape(batched[0] * batched[1], -1)
    # every channel is either all dropped or all kept
    for row in channels:
        constant = row if fn is F.feature_alpha_dropout else (row == 0)
        assert np.all(constant == constant[0]) or np.all(row != 0)
    assert 0 < (channels == channels[:, :1]).all(1).sum()


def test_alpha_dropout_keeps_moments():
    lg.manual_seed(0)
    x = lg.randn(200000)
    y = F.alpha_dropout(x, 0.3, True)
    assert abs(y.mean().item()) < 0.02 and abs(y.std().item() - 1) < 0.02
    assert F.alpha_dropout(x, 0.3) is x  # training=False by default


def test_inplace():
    x = lg.ones(1000)
    y = F.dropout(x, 0.5, inplace=True)
    assert y is x and (x.numpy() == 0).any()
    leaf = lg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        F.dropout(leaf, 0.5, inplace=True)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_bad_p(p):
    with pytest.raises(ValueError, match="between 0 and 1, but got"):
        F.dropout(lg.ones(3), p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(p)


def test_dimension_checks():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(lg.ones(2, 3, 4, 5))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F.dropout2d(lg.ones(2, 3, 4))
    assert any("dropout2d" in str(w.message) for w in caught)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
                                  "AlphaDropout", "FeatureAlphaDropout"])
def test_layers_repr_and_modes_match_torch(torch, name):
    mine, theirs = getattr(nn, name)(0.3, inplace=True), getattr(torch.nn, name)(0.3, True)
    assert repr(mine) == repr(theirs)
    assert mine.training
    x = {"Dropout3d": lg.randn(2, 3, 4, 4, 4), "Dropout2d": lg.randn(2, 3, 4, 4)}.get(
        name, lg.randn(2, 3, 4))
    assert mine.eval()(x) is x
