"""Convolutions (conv1d/2d/3d, conv_transpose, unfold/fold) and the Conv layers: gradients
against finite differences (first and second order), forward and gradients against PyTorch,
and the errors."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn
import labgrad.nn.functional as F
from labgrad.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)

# (name, dims, input shape, weight shape, keyword arguments)
CONV_CASES = [
    ("plain", 2, (2, 3, 6, 7), (4, 3, 3, 2), {}),
    ("stride-pad", 2, (2, 3, 6, 7), (4, 3, 3, 3), dict(stride=2, padding=1)),
    ("dilation-groups", 2, (2, 4, 7, 8), (6, 2, 3, 2),
     dict(stride=(1, 2), padding=(2, 1), dilation=(2, 1), groups=2)),
    ("same", 2, (2, 4, 5, 6), (3, 4, 2, 3), dict(padding="same", dilation=(1, 2))),
    ("valid", 2, (1, 2, 5, 5), (2, 2, 3, 3), dict(padding="valid")),
    ("pointwise", 2, (2, 4, 3, 5), (5, 4, 1, 1), {}),
    ("depthwise", 2, (2, 3, 5, 5), (3, 1, 3, 3), dict(groups=3, padding=1)),
    ("1d", 1, (2, 4, 9), (6, 2, 3), dict(stride=3, padding=2, groups=2)),
    ("1d-same", 1, (2, 3, 8), (2, 3, 4), dict(padding="same")),
    ("3d", 3, (1, 4, 4, 5, 4), (4, 2, 2, 3, 1), dict(stride=(1, 2, 1), padding=1, groups=2)),
    ("unbatched", 2, (3, 5, 6), (2, 3, 3, 3), dict(padding=1)),
]

TRANSPOSE_CASES = [
    ("plain", 2, (2, 4, 4, 5), (4, 3, 3, 2), {}),
    ("stride-outpad", 2, (2, 4, 4, 5), (4, 3, 3, 3),
     dict(stride=2, padding=1, output_padding=1)),
    ("groups-dilation", 2, (2, 4, 3, 4), (4, 2, 3, 2),
     dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2, dilation=(1, 2))),
    ("1d", 1, (2, 4, 5), (4, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("3d", 3, (1, 2, 3, 2, 3), (2, 2, 2, 2, 2), dict(stride=2)),
    ("unbatched", 2, (4, 3, 3), (4, 2, 2, 2), dict(stride=2)),
]


def _conv(dims, transpose=False):
    return getattr(F, f"conv_transpose{dims}d" if transpose else f"conv{dims}d")


def _operands(x_shape, w_shape, out_channels, dtype=np.float64):
    arrays = [RNG.standard_normal(s).astype(dtype) for s in (x_shape, w_shape, (out_channels,))]
    return arrays


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: c[0])
def test_conv_gradcheck(case):
    _, dims, xs, ws, kw = case
    x, w, b = (lg.tensor(a, requires_grad=True) for a in _operands(xs, ws, ws[0]))
    fn = lambda x, w, b: _conv(dims)(x, w, b, **kw)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=lambda c: c[0])
def test_conv_transpose_gradcheck(case):
    _, dims, xs, ws, kw = case
    out_channels = ws[1] * kw.get("groups", 1)
    x, w, b = (lg.tensor(a, requires_grad=True) for a in _operands(xs, ws, out_channels))
    fn = lambda x, w, b: _conv(dims, True)(x, w, b, **kw)  # noqa: E731
    assert gradcheck(fn, (x, w, b))
    assert gradgradcheck(fn, (x, w, b))


def _compare(torch, fn_lg, fn_torch, arrays, rtol, atol):
    """Run both on tensors made from `arrays` (all require grad); compare outputs and the
    gradients of a random weighting of the output."""
    lg_in = [lg.tensor(a, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_lg, out_t = fn_lg(*lg_in), fn_torch(*t_in)
    assert tuple(out_lg.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out_lg.detach().numpy(), out_t.detach().numpy(), rtol, atol)
    g = RNG.standard_normal(tuple(out_t.shape)).astype(arrays[0].dtype)
    out_lg.backward(lg.tensor(g))
    out_t.backward(torch.tensor(g))
    for a, b in zip(lg_in, t_in):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol, atol)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: c[0])
def test_conv_matches_torch(torch, case, dtype):
    _, dims, xs, ws, kw = case
    tol = (1e-4, 1e-5) if dtype == np.float32 else (1e-10, 1e-12)
    name = f"conv{dims}d"
    _compare(torch, lambda x, w, b: getattr(F, name)(x, w, b, **kw),
             lambda x, w, b: getattr(torch.nn.functional, name)(x, w, b, **kw),
             _operands(xs, ws, ws[0], dtype), *tol)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=lambda c: c[0])
def test_conv_transpose_matches_torch(torch, case, dtype):
    _, dims, xs, ws, kw = case
    tol = (1e-4, 1e-5) if dtype == np.float32 else (1e-10, 1e-12)
    name = f"conv_transpose{dims}d"
    _compare(torch, lambda x, w, b: getattr(F, name)(x, w, b, **kw),
             lambda x, w, b: getattr(torch.nn.functional, name)(x, w, b, **kw),
             _operands(xs, ws, ws[1] * kw.get("groups", 1), dtype), *tol)


@pytest.mark.torch
def test_conv_without_bias_and_input_grad(torch):
    """Bias None, and an input that needs no gradient (the first layer of a network)."""
    x, w, _ = _operands((2, 1, 6, 6), (3, 1, 3, 3), 3, np.float32)
    lw, tw = lg.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    F.conv2d(lg.tensor(x), lw).sum().backward()
    torch.nn.functional.conv2d(torch.tensor(x), tw).sum().backward()
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy(), 1e-4, 1e-5)


def test_conv_keeps_float32():
    x, w, b = (lg.tensor(a) for a in _operands((1, 2, 5, 5), (3, 2, 3, 3), 3, np.float32))
    assert F.conv2d(x, w, b).dtype == lg.float32


def test_conv_double_backward_values():
    """d/dx of (d/dw of sum(conv(x, w)^2)) . v, against finite differences of the first
    gradient: gradgradcheck covers this, so here only that create_graph builds a graph."""
    x = lg.tensor(RNG.standard_normal((1, 2, 4, 4)), requires_grad=True)
    w = lg.tensor(RNG.standard_normal((2, 2, 3, 3)), requires_grad=True)
    (gw,) = lg.autograd.grad(F.conv2d(x, w).pow(2).sum(), (w,), create_graph=True)
    assert gw.requires_grad
    (gx,) = lg.autograd.grad(gw.sum(), (x,))
    assert gx.shape == x.shape and float(gx.abs().sum()) > 0


# ------------------------------------------------------------------ unfold / fold

UNFOLD_CASES = [((2, 3, 5, 6), dict(kernel_size=(2, 3), padding=1, stride=(1, 2))),
                ((1, 2, 6, 6), dict(kernel_size=3, dilation=2, padding=2)),
                ((2, 5, 6), dict(kernel_size=2, stride=2))]


@pytest.mark.parametrize("shape, kw", UNFOLD_CASES)
def test_unfold_fold_gradcheck(shape, kw):
    x = lg.tensor(RNG.standard_normal(shape), requires_grad=True)
    assert gradcheck(lambda t: F.unfold(t, **kw), (x,))
    assert gradgradcheck(lambda t: F.unfold(t, **kw), (x,))
    cols = F.unfold(x, **kw).detach().requires_grad_()
    size = shape[-2:]
    assert gradcheck(lambda t: F.fold(t, size, **kw), (cols,))
    assert gradgradcheck(lambda t: F.fold(t, size, **kw), (cols,))


@pytest.mark.torch
@pytest.mark.parametrize("shape, kw", UNFOLD_CASES)
def test_unfold_fold_match_torch(torch, shape, kw):
    x = RNG.standard_normal(shape)
    tf = torch.nn.functional
    _compare(torch, lambda t: F.unfold(t, **kw), lambda t: tf.unfold(t, **kw), [x], 1e-12,
             1e-12)
    cols = tf.unfold(torch.tensor(x), **kw).numpy()
    size = shape[-2:]
    _compare(torch, lambda t: F.fold(t, size, **kw), lambda t: tf.fold(t, size, **kw), [cols],
             1e-12, 1e-12)


def test_unfold_fold_modules():
    x = lg.tensor(RNG.standard_normal((1, 2, 4, 4)))
    cols = nn.Unfold(2, stride=2)(x)
    assert cols.shape == (1, 8, 4)
    # Non-overlapping blocks: fold undoes unfold exactly.
    np.testing.assert_array_equal(nn.Fold((4, 4), 2, stride=2)(cols).numpy(), x.numpy())


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("call, error, words", [
    (lambda x, w: F.conv2d(x[0, 0], w), RuntimeError, "3D (unbatched) or 4D"),
    (lambda x, w: F.conv2d(x, w[:, :2]), RuntimeError, "to have 2 channels"),
    (lambda x, w: F.conv2d(x, w, groups=2), RuntimeError, "groups=2"),
    (lambda x, w: F.conv2d(x, w, stride=2, padding="same"), RuntimeError, "strided"),
    (lambda x, w: F.conv2d(x, w, padding="full"), ValueError, "padding string"),
    (lambda x, w: F.conv2d(x, w, padding=-1), RuntimeError, "negative padding"),
    (lambda x, w: F.conv2d(x, w, stride=0), RuntimeError, "non-positive stride"),
    (lambda x, w: F.conv2d(x[..., :2, :2], w), RuntimeError, "Kernel size can't be greater"),
    (lambda x, w: F.conv2d(x, w.double()), RuntimeError, "same dtype"),
    (lambda x, w: F.conv2d(x, w, lg.zeros(5)), RuntimeError, "bias of shape (4,)"),
    (lambda x, w: F.conv2d(x.long(), w.long()), RuntimeError, "floating point"),
    (lambda x, w: F.conv2d(x, w, stride=(1, 2, 3)), RuntimeError, "stride"),
    (lambda x, w: F.conv_transpose2d(x, w), RuntimeError, "transposed"),
    (lambda x, w: F.conv_transpose2d(x, w.transpose(0, 1), stride=2, output_padding=2),
     RuntimeError, "output padding must be smaller"),
    (lambda x, w: F.unfold(x[0, 0], 2), NotImplementedError, "3-D (unbatched) or 4-D"),
    (lambda x, w: F.fold(x[0], (5, 5), 2), RuntimeError, "divisible by the product"),
    (lambda x, w: F.fold(lg.randn(1, 4, 5), (5, 5), 2), RuntimeError, "sliding blocks"),
])
def test_conv_errors(call, error, words):
    x = lg.randn(2, 3, 5, 5)
    w = lg.randn(4, 3, 3, 3)
    with pytest.raises(error) as info:
        call(x, w)
    assert words in str(info.value)


# ------------------------------------------------------------------ layers

LAYERS = [
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=1), (2, 3, 9)),
    ("Conv2d", (3, 4, 3), {}, (2, 3, 6, 6)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 0), dilation=2, groups=2,
                                    bias=False), (2, 4, 7, 7)),
    ("Conv2d", (3, 4, 3), dict(padding="same", padding_mode="reflect"), (2, 3, 5, 6)),
    ("Conv2d", (3, 4, 4), dict(padding="same", padding_mode="circular"), (2, 3, 5, 6)),
    ("Conv2d", (3, 4, 3), dict(padding=2, padding_mode="replicate"), (2, 3, 5, 6)),
    ("Conv3d", (2, 3, 2), dict(padding=1), (1, 2, 3, 4, 3)),
    ("ConvTranspose1d", (3, 4, 3), dict(stride=2, padding=1, output_padding=1), (2, 3, 5)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, groups=2, dilation=(1, 2)), (2, 4, 3, 4)),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2, bias=False), (1, 2, 2, 3, 2)),
]


def _copy_parameters(src, dst, torch):
    with torch.no_grad():
        for name, p in dst.named_parameters():
            p.copy_(torch.tensor(getattr(src, name).detach().numpy()))


@pytest.mark.torch
@pytest.mark.parametrize("layer", LAYERS, ids=lambda c: f"{c[0]}-{c[2]}")
def test_layer_matches_torch(torch, layer):
    name, args, kw, shape = layer
    ours = getattr(nn, name)(*args, **kw)
    theirs = getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in ours.state_dict().items():
        assert tuple(value.shape) == tuple(theirs.state_dict()[key].shape)
    _copy_parameters(ours, theirs, torch)
    x = RNG.standard_normal(shape).astype(np.float32)
    lx, tx = lg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_lg, out_t = ours(lx), theirs(tx)
    np.testing.assert_allclose(out_lg.detach().numpy(), out_t.detach().numpy(), 1e-4, 1e-5)
    out_lg.pow(2).sum().backward()
    out_t.pow(2).sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), 1e-4, 1e-4)
    for (n1, p1), (_, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p1.grad.numpy(), p2.grad.numpy(), 1e-4, 1e-4, err_msg=n1)


@pytest.mark.parametrize("name, args", [("Conv2d", (8, 16, 3)), ("Conv1d", (4, 6, 5)),
                                        ("ConvTranspose2d", (8, 4, 3))])
def test_layer_default_init_bounds(name, args):
    """kaiming_uniform_(a=sqrt(5)) on the weight and the bias: uniform in +-1/sqrt(fan_in)."""
    lg.manual_seed(0)
    layer = getattr(nn, name)(*args)
    fan_in = layer.weight.shape[1] * int(np.prod(layer.weight.shape[2:]))
    bound = 1 / np.sqrt(fan_in)
    for p in (layer.weight, layer.bias):
        values = p.detach().numpy()
        assert values.max() <= bound and values.min() >= -bound
        assert values.max() > 0.8 * bound and values.min() < -0.8 * bound


@pytest.mark.torch
def test_conv_transpose_output_size(torch):
    ours = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    _copy_parameters(ours, theirs, torch)
    x = RNG.standard_normal((1, 2, 4, 4)).astype(np.float32)
    for size in [(7, 7), (8, 8), (1, 3, 8, 7)]:
        a, b = ours(lg.tensor(x), output_size=size), theirs(torch.tensor(x), output_size=size)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), 1e-4, 1e-5)
    with pytest.raises(ValueError, match="valid sizes range from"):
        ours(lg.tensor(x), output_size=(9, 9))


@pytest.mark.parametrize("call, words", [
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "in_channels (3) must be divisible by groups"),
    (lambda: nn.Conv2d(4, 3, 3, groups=2), "out_channels (3) must be divisible by groups"),
    (lambda: nn.Conv2d(4, 4, 3, groups=0), "groups must be a positive integer"),
    (lambda: nn.Conv2d(4, 4, 3, padding="full"), "invalid padding string"),
    (lambda: nn.Conv2d(4, 4, 3, stride=2, padding="same"), "strided"),
    (lambda: nn.Conv2d(4, 4, 3, padding_mode="mirror"), "padding_mode must be one of"),
    (lambda: nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect"), 'Only "zeros"'),
])
def test_layer_errors(call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)
