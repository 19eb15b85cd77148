"""nn.Flatten and nn.Unflatten."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn


@pytest.mark.torch
@pytest.mark.parametrize("args", [(), (0,), (1, 2), (-3, -2), (2, 3)])
def test_flatten_matches_torch(torch, args):
    mine, theirs = nn.Flatten(*args), torch.nn.Flatten(*args)
    assert repr(mine) == repr(theirs)
    xn = np.arange(120.0).reshape(2, 3, 4, 5)
    x = lg.tensor(xn, requires_grad=True)
    y, yt = mine(x), theirs(torch.tensor(xn))
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_array_equal(y.detach().numpy(), yt.numpy())
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones_like(xn))


@pytest.mark.torch
@pytest.mark.parametrize("dim,size", [(1, (2, 6)), (-1, [5, 1]), (1, (3, -1)), (0, (2, 1))])
def test_unflatten_matches_torch(torch, dim, size):
    mine, theirs = nn.Unflatten(dim, size), torch.nn.Unflatten(dim, size)
    assert repr(mine) == repr(theirs)
    xn = np.arange(120.0).reshape(2, 12, 5) if dim != -1 else np.arange(60.0).reshape(12, 5)
    y, yt = mine(lg.tensor(xn)), theirs(torch.tensor(xn))
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())


def test_flatten_then_unflatten_round_trip():
    x = lg.randn(2, 3, 4)
    assert lg.equal(nn.Unflatten(1, (3, 4))(nn.Flatten()(x)), x)


def test_unflatten_errors():
    with pytest.raises(TypeError, match="unflattened_size"):
        nn.Unflatten(1, 6)
    with pytest.raises(TypeError, match="dim"):
        nn.Unflatten(1.0, (2, 3))
    with pytest.raises(RuntimeError):
        nn.Unflatten(1, (4, 4))(lg.randn(2, 12))
