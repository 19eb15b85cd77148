"""pad, interpolate, pixel_shuffle/unshuffle, affine_grid and the vision layers: gradients
against finite differences, values and gradients against PyTorch, and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn
import labgrad.nn.functional as F
from labgrad.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)
MODES = ["constant", "reflect", "replicate", "circular"]

# (function, input shape, positional args, keyword args)
CASES = [
    *[("pad", (2, 3, 4, 5), ((1, 2, 2, 1),), dict(mode=m)) for m in MODES],
    *[("pad", (2, 3, 5), ((2, 3),), dict(mode=m)) for m in MODES],
    *[("pad", (1, 2, 3, 4, 5), ((1, 2, 2, 1, 2, 0),), dict(mode=m)) for m in MODES],
    ("pad", (2, 3, 4, 5), ((1, -2, 2, -1),), dict(value=3.5)),
    ("pad", (2, 3, 4), ((1, 2, 0, 1, 1, 1),), dict(value=-1.0)),
    ("interpolate", (2, 3, 4, 5), (), dict(size=(7, 9))),
    ("interpolate", (2, 3, 4, 5), (), dict(scale_factor=(1.5, 2.3), mode="nearest-exact")),
    ("interpolate", (2, 3, 4, 5), (), dict(scale_factor=0.7, recompute_scale_factor=True)),
    ("interpolate", (2, 3, 4, 5), (), dict(size=(3, 8), mode="bilinear")),
    ("interpolate", (2, 3, 4, 5), (), dict(scale_factor=2, mode="bilinear",
                                           align_corners=True)),
    ("interpolate", (2, 3, 4, 5), (), dict(scale_factor=1.7, mode="bilinear",
                                           align_corners=False)),
    ("interpolate", (2, 3, 6, 5), (), dict(size=(3, 4), mode="area")),
    ("interpolate", (2, 3, 5), (), dict(size=9, mode="linear", align_corners=True)),
    ("interpolate", (2, 3, 5), (), dict(scale_factor=3, mode="nearest")),
    ("interpolate", (1, 2, 3, 4, 3), (), dict(scale_factor=2, mode="trilinear")),
    ("interpolate", (1, 2, 3, 4, 3), (), dict(size=(4, 5, 7), mode="nearest")),
    ("pixel_shuffle", (2, 12, 3, 4), (2,), {}),
    ("pixel_shuffle", (12, 3, 4), (2,), {}),
    ("pixel_unshuffle", (2, 3, 4, 6), (2,), {}),
    ("pixel_unshuffle", (1, 2, 3, 9, 6), (3,), {}),
]


def _ids(case):
    return f"{case[0]}-{case[2]}-{case[3]}"


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_vision_gradcheck(case):
    name, shape, args, kw = case
    x = lg.tensor(RNG.standard_normal(shape), requires_grad=True)
    fn = lambda t: getattr(F, name)(t, *args, **kw)  # noqa: E731
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_vision_matches_torch(torch, case, dtype):
    name, shape, args, kw = case
    tol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-12)
    x = RNG.standard_normal(shape).astype(dtype)
    lx, tx = lg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = getattr(F, name)(lx, *args, **kw)
    theirs = getattr(torch.nn.functional, name)(tx, *args, **kw)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == lx.dtype
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), *tol)
    g = RNG.standard_normal(tuple(theirs.shape)).astype(dtype)
    ours.backward(lg.tensor(g))
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), *tol)


@pytest.mark.torch
@pytest.mark.parametrize("in_size, out_size", [(3, 5), (5, 3), (7, 16), (10, 7), (13, 29)])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear"])
def test_interpolate_sizes_as_torch(torch, in_size, out_size, mode):
    """Source indices and weights follow PyTorch's float32 arithmetic at awkward ratios."""
    x = RNG.standard_normal((1, 2, in_size, in_size)).astype(np.float32)
    for kw in (dict(size=out_size), dict(scale_factor=out_size / in_size)):
        ours = F.interpolate(lg.tensor(x), mode=mode, **kw)
        theirs = torch.nn.functional.interpolate(torch.tensor(x), mode=mode, **kw)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), 1e-5, 1e-6)


@pytest.mark.torch
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 3, 2, 4, 5)])
def test_affine_grid_matches_torch(torch, size, align_corners):
    n = len(size) - 2
    theta = RNG.standard_normal((size[0], n, n + 1))
    lt, tt = lg.tensor(theta, requires_grad=True), torch.tensor(theta, requires_grad=True)
    ours = F.affine_grid(lt, size, align_corners=align_corners)
    theirs = torch.nn.functional.affine_grid(tt, size, align_corners=align_corners)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), 1e-12, 1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(lt.grad.numpy(), tt.grad.numpy(), 1e-12, 1e-12)
    assert gradcheck(lambda t: F.affine_grid(t, size, align_corners=align_corners), (lt,))


def test_pad_constant_value_and_crop():
    x = lg.arange(6.0).reshape(2, 3)
    out = F.pad(x, (1, -1), value=9.0)
    np.testing.assert_array_equal(out.numpy(), [[9, 0, 1], [9, 3, 4]])


@pytest.mark.parametrize("call, error, words", [
    (lambda x: F.pad(x, (1, 2, 3)), RuntimeError, "divisible by 2"),
    (lambda x: F.pad(x, (1,) * 10), RuntimeError, "too large"),
    (lambda x: F.pad(x, (1, 1), mode="mirror"), NotImplementedError, "padding mode"),
    (lambda x: F.pad(x, (1, 1), mode="reflect", value=2.0), RuntimeError, "value argument"),
    (lambda x: F.pad(x, (4, 4, 0, 0), mode="reflect"), RuntimeError, "less than"),
    (lambda x: F.pad(x, (5, 5, 0, 0), mode="circular"), RuntimeError, "wrapping around"),
    (lambda x: F.pad(x, (1,) * 8, mode="replicate"), NotImplementedError, "not supported"),
    (lambda x: F.pad(x, (-1, 1, 0, 0), mode="replicate"), NotImplementedError, "negative"),
    (lambda x: F.interpolate(x), ValueError, "either size or scale_factor"),
    (lambda x: F.interpolate(x, size=3, scale_factor=2), ValueError, "only one of"),
    (lambda x: F.interpolate(x, size=3, align_corners=True), ValueError, "align_corners"),
    (lambda x: F.interpolate(x, size=3, mode="linear"), NotImplementedError, "3D input"),
    (lambda x: F.interpolate(x, size=(2, 3, 4)), ValueError, "same number of spatial"),
    (lambda x: F.interpolate(x, size=3, mode="cubic"), NotImplementedError, "mode"),
    (lambda x: F.interpolate(x, size=3, recompute_scale_factor=True), ValueError,
     "not meaningful"),
    (lambda x: F.pixel_shuffle(x, 2), RuntimeError, "divisible by the square"),
    (lambda x: F.pixel_unshuffle(x, 3), RuntimeError, "divisible by downscale_factor"),
    (lambda x: F.pixel_shuffle(x, 0), RuntimeError, "positive integer"),
    (lambda x: F.affine_grid(lg.zeros(2, 2, 2), (2, 3, 4, 4)), ValueError, "theta"),
])
def test_vision_errors(call, error, words):
    with pytest.raises(error) as info:
        call(lg.randn(2, 3, 4, 4))
    assert words in str(info.value)


# ------------------------------------------------------------------ layers

LAYERS = [
    ("Upsample", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample", (), dict(size=(5, 7), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample", (), dict(scale_factor=(2, 1.5), mode="bilinear", align_corners=True),
     (2, 3, 4, 5)),
    ("UpsamplingNearest2d", (), dict(scale_factor=3), (1, 2, 3, 4)),
    ("UpsamplingBilinear2d", (), dict(size=(6, 7)), (1, 2, 3, 4)),
    ("PixelShuffle", (2,), {}, (1, 8, 3, 4)),
    ("PixelUnshuffle", (2,), {}, (1, 2, 4, 6)),
    ("ZeroPad1d", ((1, 2),), {}, (2, 3, 5)),
    ("ZeroPad2d", (1,), {}, (2, 3, 4, 5)),
    ("ZeroPad3d", ((1, 0, 2, 1, 0, 1),), {}, (1, 2, 3, 4, 5)),
    ("ConstantPad1d", (2, 3.5), {}, (2, 3, 5)),
    ("ConstantPad2d", ((1, 0, 2, 1), -1.0), {}, (2, 3, 4, 5)),
    ("ConstantPad3d", (1, 2.0), {}, (1, 2, 3, 4, 5)),
    ("ReflectionPad1d", (2,), {}, (2, 3, 5)),
    ("ReflectionPad2d", ((1, 2, 0, 3),), {}, (2, 3, 4, 5)),
    ("ReflectionPad3d", (1,), {}, (1, 2, 3, 4, 5)),
    ("ReplicationPad1d", ((3, 1),), {}, (2, 3, 5)),
    ("ReplicationPad2d", (2,), {}, (2, 3, 4, 5)),
    ("ReplicationPad3d", (1,), {}, (1, 2, 3, 4, 5)),
    ("CircularPad1d", (2,), {}, (2, 3, 5)),
    ("CircularPad2d", ((1, 2, 2, 0),), {}, (2, 3, 4, 5)),
    ("CircularPad3d", (1,), {}, (1, 2, 3, 4, 5)),
    ("Unfold", ((2, 3),), dict(padding=1, stride=2), (2, 3, 5, 6)),
    ("Fold", ((4, 5), 2), {}, (2, 12, 12)),
]


@pytest.mark.torch
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}")
def test_layer_matches_torch(torch, layer):
    name, args, kw, shape = layer
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    x = RNG.standard_normal(shape).astype(np.float32)
    lx, tx = lg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a, b = ours(lx), theirs(tx)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), 1e-5, 1e-6)
    a.pow(2).sum().backward()
    b.pow(2).sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), 1e-5, 1e-5)
