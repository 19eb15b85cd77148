"""nn.functional.linear/bilinear and nn.Identity/Linear/Bilinear/LazyLinear."""
from __future__ import annotations

import math

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


@pytest.mark.parametrize("shape", [(5,), (3, 5), (2, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(shape, bias):
    x, w = _t(shape, 0), _t((4, 5), 1)
    args = (x, w, _t((4,), 2)) if bias else (x, w)
    assert gradcheck(F.linear, args)
    assert gradgradcheck(F.linear, args)


def test_bilinear_gradcheck():
    args = (_t((3, 2), 0), _t((3, 4), 1), _t((5, 2, 4), 2), _t((5,), 3))
    assert gradcheck(F.bilinear, args)
    assert gradgradcheck(F.bilinear, args)


def _copy_params(mine, theirs, torch):
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.tensor(getattr(mine, name).detach().numpy()))


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(4,), (6, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(torch, shape, bias):
    mine = nn.Linear(4, 3, bias=bias)
    theirs = torch.nn.Linear(4, 3, bias=bias)
    _copy_params(mine, theirs, torch)
    xn = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x, xt = lg.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
    y, yt = mine(x), theirs(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    gn = np.random.default_rng(1).standard_normal(yt.shape).astype(np.float32)
    y.backward(lg.tensor(gn))
    yt.backward(torch.tensor(gn))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(mine, name).grad.numpy(), p.grad.numpy(),
                                   rtol=1e-4, atol=1e-5)


@pytest.mark.torch
def test_bilinear_matches_torch(torch):
    mine, theirs = nn.Bilinear(2, 3, 4), torch.nn.Bilinear(2, 3, 4)
    _copy_params(mine, theirs, torch)
    an, bn = np.random.default_rng(0).standard_normal((2, 5, 2)), np.ones((2, 5, 3))
    a, at = lg.tensor(an, dtype=lg.float32, requires_grad=True), \
        torch.tensor(an, dtype=torch.float32, requires_grad=True)
    y, yt = mine(a, lg.tensor(bn, dtype=lg.float32)), theirs(at, torch.tensor(bn).float())
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(mine.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4)


@pytest.mark.torch
def test_state_dict_and_repr_match_torch(torch):
    for mine, theirs in [(nn.Linear(4, 3), torch.nn.Linear(4, 3)),
                         (nn.Linear(4, 3, bias=False), torch.nn.Linear(4, 3, bias=False)),
                         (nn.Bilinear(2, 3, 4), torch.nn.Bilinear(2, 3, 4))]:
        assert list(mine.state_dict()) == list(theirs.state_dict())
        assert repr(mine) == repr(theirs)
        for (name, p), q in zip(mine.state_dict().items(), theirs.state_dict().values()):
            assert tuple(p.shape) == tuple(q.shape), name


def test_linear_init_bounds():
    lg.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # uniform on (-bound, bound): variance bound**2 / 3
    assert abs(w.var() - bound ** 2 / 3) < 0.05 * bound ** 2
    assert abs(w.mean()) < 0.02 * bound
    assert layer.weight.requires_grad and layer.weight.dtype == lg.float32


def test_linear_dtype_and_identity():
    layer = nn.Linear(3, 2, dtype=lg.float64)
    assert layer.weight.dtype == lg.float64 and layer.bias.dtype == lg.float64
    x = lg.randn(2, 3)
    assert nn.Identity(5, unused=1)(x) is x


def test_lazy_linear():
    layer = nn.LazyLinear(3)
    assert layer.has_uninitialized_params()
    y = layer(lg.randn(2, 7))
    assert y.shape == (2, 3) and layer.weight.shape == (3, 7)
    assert type(layer) is nn.Linear and layer.in_features == 7


def test_linear_errors_name_layer_and_shapes():
    layer = nn.Linear(4, 3)
    with pytest.raises(RuntimeError, match=r"Linear\(in_features=4.*\(2, 5\).*\(3, 4\)"):
        layer(lg.randn(2, 5))
    with pytest.raises(RuntimeError, match="same dtype"):
        F.linear(lg.randn(2, 4, dtype=f64), lg.randn(3, 4))
    with pytest.raises(RuntimeError, match="bias"):
        F.linear(lg.randn(2, 4), lg.randn(3, 4), lg.randn(5))
    with pytest.raises(RuntimeError, match="floating point"):
        F.linear(lg.ones(2, 4, dtype=lg.int64), lg.ones(3, 4, dtype=lg.int64))
    with pytest.raises(RuntimeError, match="bilinear"):
        F.bilinear(lg.randn(2, 3), lg.randn(2, 4), lg.randn(5, 3, 3))


def test_linear_without_grad_records_nothing():
    layer = nn.Linear(4, 3)
    with lg.no_grad():
        y = layer(lg.randn(2, 4))
    assert y.grad_fn is None and not y.requires_grad
