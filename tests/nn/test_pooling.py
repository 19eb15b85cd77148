"""Pooling (max, average, adaptive, power-average, unpooling) and the pooling layers:
gradients against finite differences, values, indices and gradients against PyTorch, ties,
and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn
import labgrad.nn.functional as F
from labgrad.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)

# (function, input shape, positional args, keyword args)
CASES = [
    ("max_pool2d", (2, 3, 8, 9), (2,), {}),
    ("max_pool2d", (2, 3, 8, 9), (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", (2, 3, 8, 9), ((3, 2),), dict(stride=(2, 1), padding=1, dilation=(2, 1))),
    ("max_pool2d", (3, 7, 6), (2,), dict(stride=1)),
    ("max_pool1d", (2, 3, 9), (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("max_pool3d", (1, 2, 4, 5, 6), (2,), dict(stride=(1, 2, 2), padding=1)),
    ("avg_pool2d", (2, 3, 8, 9), (2,), {}),
    ("avg_pool2d", (2, 3, 8, 9), (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 8, 9), (3,), dict(stride=2, padding=1, ceil_mode=True,
                                            count_include_pad=False)),
    ("avg_pool2d", (2, 3, 8, 9), ((3, 2),), dict(stride=(2, 1), padding=1,
                                                 divisor_override=5)),
    ("avg_pool1d", (2, 3, 9), (3,), dict(stride=2, padding=1, ceil_mode=True,
                                         count_include_pad=False)),
    ("avg_pool3d", (1, 2, 4, 5, 6), (2,), dict(stride=(1, 2, 2), padding=1, ceil_mode=True)),
    ("adaptive_avg_pool2d", (2, 3, 8, 9), ((3, 4),), {}),
    ("adaptive_avg_pool2d", (2, 3, 8, 9), ((4, 3),), {}),
    ("adaptive_avg_pool2d", (2, 3, 8, 9), ((None, 5),), {}),
    ("adaptive_avg_pool2d", (3, 8, 9), (1,), {}),
    ("adaptive_avg_pool1d", (2, 3, 9), (4,), {}),
    ("adaptive_avg_pool3d", (1, 2, 5, 6, 7), ((2, 3, 4),), {}),
    ("adaptive_max_pool2d", (2, 3, 8, 9), ((3, 4),), {}),
    ("adaptive_max_pool2d", (2, 3, 8, 9), (1,), {}),
    ("adaptive_max_pool1d", (2, 3, 9), (4,), {}),
    ("adaptive_max_pool3d", (1, 2, 5, 6, 7), ((2, 3, 4),), {}),
    ("lp_pool2d", (2, 3, 8, 9), (2, 3), dict(stride=2)),
    ("lp_pool1d", (2, 3, 9), (1.5, 3), {}),
]
SMOOTH = [c for c in CASES if not c[0].startswith("lp")]  # lp_pool's root has kinks at 0


def _ids(case):
    return f"{case[0]}-{case[2]}-{case[3]}"


@pytest.mark.parametrize("case", SMOOTH, ids=_ids)
def test_pool_gradcheck(case):
    name, shape, args, kw = case
    # Distinct values a little apart, so that finite differences never swap a maximum.
    values = RNG.permutation(np.prod(shape)).reshape(shape) / np.prod(shape)
    x = lg.tensor(values, requires_grad=True)
    fn = lambda t: getattr(F, name)(t, *args, **kw)  # noqa: E731
    assert gradcheck(fn, (x,), eps=1e-6 / np.prod(shape))
    assert gradgradcheck(fn, (x,), eps=1e-6 / np.prod(shape))


def test_lp_pool_gradcheck():
    x = lg.tensor(RNG.uniform(0.5, 1.5, (1, 2, 5, 5)), requires_grad=True)
    assert gradcheck(lambda t: F.lp_pool2d(t, 3, 2), (x,))


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_pool_matches_torch(torch, case, dtype):
    name, shape, args, kw = case
    tol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-12)
    x = RNG.standard_normal(shape).astype(dtype)
    if name.startswith("lp"):
        x = np.abs(x)
    lx, tx = lg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = getattr(F, name)(lx, *args, **kw)
    theirs = getattr(torch.nn.functional, name)(tx, *args, **kw)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), *tol)
    g = RNG.standard_normal(tuple(theirs.shape)).astype(dtype)
    ours.backward(lg.tensor(g))
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), *tol)


@pytest.mark.torch
@pytest.mark.parametrize("case", [c for c in CASES if "max" in c[0]], ids=_ids)
def test_max_pool_indices_match_torch(torch, case):
    name, shape, args, kw = case
    x = RNG.standard_normal(shape)
    _, ours = getattr(F, name)(lg.tensor(x), *args, return_indices=True, **kw)
    _, theirs = getattr(torch.nn.functional, name)(torch.tensor(x), *args, return_indices=True,
                                                   **kw)
    assert ours.dtype == lg.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda f, x: f.max_pool2d(x, 2, return_indices=True),
    lambda f, x: f.max_pool2d(x, 3, stride=1, return_indices=True),
    lambda f, x: f.adaptive_max_pool2d(x, 3, return_indices=True),
])
def test_max_pool_ties_and_nan_as_torch(torch, call):
    """Ties go to the first maximum in row-major order; a NaN is the maximum."""
    x = np.zeros((1, 2, 4, 4))
    x[0, 1, 1, 2] = np.nan
    ours = call(F, lg.tensor(x))
    theirs = call(torch.nn.functional, torch.tensor(x))
    np.testing.assert_array_equal(ours[0].numpy(), theirs[0].numpy())
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())


@pytest.mark.torch
@pytest.mark.parametrize("shape, args", [((2, 3, 8, 8), dict(kernel_size=2)),
                                         ((2, 3, 7, 9), dict(kernel_size=3, stride=2,
                                                             padding=1))])
def test_max_unpool_matches_torch(torch, shape, args):
    x = RNG.standard_normal(shape)
    size = shape[-2:]
    tf = torch.nn.functional
    pooled, index = tf.max_pool2d(torch.tensor(x), return_indices=True, **args)
    theirs = tf.max_unpool2d(pooled, index, output_size=size, **args)
    lp = lg.tensor(pooled.numpy(), requires_grad=True)
    ours = F.max_unpool2d(lp, lg.tensor(index.numpy()), output_size=size, **args)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.numpy())
    ours.sum().backward()
    np.testing.assert_array_equal(lp.grad.numpy(), np.ones(pooled.shape))
    layer = nn.MaxUnpool2d(**args)
    np.testing.assert_array_equal(layer(lp, lg.tensor(index.numpy()), size).detach().numpy(),
                                  theirs.numpy())


@pytest.mark.parametrize("call, error, words", [
    (lambda x: F.max_pool2d(x, 3, padding=2), RuntimeError, "at most half"),
    (lambda x: F.max_pool2d(x, 0), RuntimeError, "greater than zero"),
    (lambda x: F.max_pool2d(x[0, 0, 0], 2), RuntimeError, "3D (unbatched) or 4D"),
    (lambda x: F.max_pool2d(x, 9), RuntimeError, "output size is too small"),
    (lambda x: F.max_pool2d(x.long(), 2), RuntimeError, "floating point"),
    (lambda x: F.avg_pool2d(x, 2, divisor_override=0), RuntimeError, "divisor"),
    (lambda x: F.adaptive_avg_pool2d(x, (1, 2, 3)), RuntimeError, "2 elements"),
    (lambda x: F.adaptive_max_pool2d(x, 0), RuntimeError, "positive"),
    (lambda x: F.max_unpool2d(x, lg.zeros(1, dtype=lg.int64), 2), RuntimeError, "shape"),
    (lambda x: F.max_unpool2d(x, lg.full(x.shape, 999, dtype=lg.int64), 2), RuntimeError,
     "invalid max index"),
])
def test_pool_errors(call, error, words):
    with pytest.raises(error) as info:
        call(lg.randn(2, 3, 6, 6))
    assert words in str(info.value)


# ------------------------------------------------------------------ layers

LAYERS = [
    ("MaxPool2d", (2,), {}, (2, 3, 6, 6)),
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 7, 7)),
    ("MaxPool1d", (3,), dict(stride=1, dilation=2), (2, 3, 9)),
    ("MaxPool3d", (2,), {}, (1, 2, 4, 4, 4)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1), (2, 3, 9)),
    ("AvgPool2d", ((2, 3),), dict(count_include_pad=False, padding=1), (2, 3, 6, 7)),
    ("AvgPool3d", (2,), dict(divisor_override=3), (1, 2, 4, 4, 4)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveAvgPool2d", ((None, 3),), {}, (2, 3, 6, 7)),
    ("AdaptiveAvgPool3d", (2,), {}, (1, 2, 4, 5, 4)),
    ("AdaptiveMaxPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool2d", ((2, 3),), {}, (2, 3, 6, 7)),
    ("AdaptiveMaxPool3d", (2,), {}, (1, 2, 4, 5, 4)),
    ("LPPool1d", (2, 3), {}, (2, 3, 9)),
    ("LPPool2d", (2, 2), dict(stride=1), (2, 3, 5, 5)),
]


@pytest.mark.torch
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_layer_matches_torch(torch, layer):
    name, args, kw, shape = layer
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    x = np.abs(RNG.standard_normal(shape)).astype(np.float32)
    lx, tx = lg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a, b = ours(lx), theirs(tx)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), 1e-5, 1e-6)
    a.pow(2).sum().backward()
    b.pow(2).sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), 1e-5, 1e-6)


@pytest.mark.torch
def test_layer_return_indices(torch):
    x = RNG.standard_normal((2, 3, 6, 6))
    for name, arg in (("MaxPool2d", 2), ("AdaptiveMaxPool2d", 4)):
        out, index = getattr(nn, name)(arg, return_indices=True)(lg.tensor(x))
        out_t, index_t = getattr(torch.nn, name)(arg, return_indices=True)(torch.tensor(x))
        np.testing.assert_array_equal(index.numpy(), index_t.numpy())
