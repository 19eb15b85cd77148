"""Activation layers and the functional forms added here, against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn
import labgrad.nn.functional as F
from labgrad.autograd import gradcheck, gradgradcheck

# (layer name, constructor args): every layer of the brief, with non-default options
LAYERS = [("ReLU", ()), ("ReLU6", ()), ("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()),
          ("Tanh", ()), ("Sigmoid", ()), ("Softmax", (1,)), ("Softmax2d", ()),
          ("LogSoftmax", (-1,)), ("Softmin", (0,)), ("LeakyReLU", (0.2,)), ("ELU", (0.5,)),
          ("CELU", (1.5,)), ("SELU", ()), ("Softplus", (2.0, 1.0)), ("Mish", ()),
          ("Hardswish", ()), ("Hardsigmoid", ()), ("Hardtanh", (-0.5, 1.5)), ("Softsign", ()),
          ("Tanhshrink", ()), ("LogSigmoid", ()), ("Threshold", (0.1, -3.0)), ("GLU", (1,)),
          ("PReLU", ()), ("PReLU", (4,)), ("RReLU", (0.1, 0.4)), ("Hardshrink", (0.3,)),
          ("Softshrink", (0.3,))]
INPLACE = ["ReLU", "ReLU6", "SiLU", "LeakyReLU", "ELU", "CELU", "SELU", "Mish", "Hardswish",
           "Hardsigmoid", "Hardtanh", "Threshold", "RReLU"]


def _ids(case):
    return f"{case[0]}{case[1]}" if case[1] else case[0]


@pytest.mark.torch
@pytest.mark.parametrize("case", LAYERS, ids=_ids)
def test_layer_matches_torch(torch, case):
    name, args = case
    mine, theirs = getattr(nn, name)(*args).double(), getattr(torch.nn, name)(*args).double()
    if name == "RReLU":  # random in training: compare the deterministic eval mode
        mine.eval()
        theirs.eval()
    assert repr(mine) == repr(theirs)
    xn = np.random.default_rng(0).standard_normal((2, 4, 3, 2)) * 3
    x, xt = lg.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
    y, yt = mine(x), theirs(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-8)
    gn = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    y.backward(lg.tensor(gn))
    yt.backward(torch.tensor(gn))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-8)
    for (pname, p), q in zip(mine.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, err_msg=pname)


@pytest.mark.torch
@pytest.mark.parametrize("name", INPLACE)
def test_inplace_layers_match_torch(torch, name):
    args = {"Threshold": (0.1, -3.0)}.get(name, ())
    mine, theirs = getattr(nn, name)(*args, inplace=True), \
        getattr(torch.nn, name)(*args, inplace=True)
    mine.eval()
    theirs.eval()
    assert repr(mine) == repr(theirs)
    xn = np.random.default_rng(0).standard_normal((3, 4)) * 3
    leaf, leaf_t = lg.tensor(xn, requires_grad=True), torch.tensor(xn, requires_grad=True)
    x, xt = leaf * 1, leaf_t * 1
    y, yt = mine(x), theirs(xt)
    assert y is x
    np.testing.assert_allclose(x.detach().numpy(), xt.detach().numpy(), rtol=1e-6, atol=1e-8)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), leaf_t.grad.numpy(), rtol=1e-6, atol=1e-8)


FUNCTIONS = {
    "glu": lambda x: F.glu(x, 0),
    "threshold": lambda x: F.threshold(x, 0.2, 4.0),
    "hardshrink": lambda x: F.hardshrink(x, 0.2),
    "softshrink": lambda x: F.softshrink(x, 0.2),
    "softmin": lambda x: F.softmin(x, 1),
    "prelu": lambda x: F.prelu(x, lg.tensor([0.1, -0.5, 2.0], dtype=lg.float64)),
    "rrelu_eval": lambda x: F.rrelu(x),
    "relu6": lambda x: F.relu6(x * 4),
    "selu": F.selu,
    "silu": F.silu,
    "mish": F.mish,
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_functional_gradcheck(name):
    # values away from the kinks, where finite differences are exact
    xn = np.random.default_rng(0).uniform(0.3, 1.5, (4, 3)) * np.array([1, -1, 1])
    x = lg.tensor(xn, requires_grad=True)
    assert gradcheck(FUNCTIONS[name], (x,))
    assert gradgradcheck(FUNCTIONS[name], (x,))


def test_prelu_weight_gradcheck():
    x = lg.tensor(np.random.default_rng(0).standard_normal((2, 3, 2)), requires_grad=True)
    w = lg.tensor([0.1, -0.5, 2.0], dtype=lg.float64, requires_grad=True)
    assert gradcheck(F.prelu, (x, w))


def test_rrelu_training_slopes_in_range():
    lg.manual_seed(0)
    x = -lg.rand(5000) - 0.1
    slopes = (F.rrelu(x, 0.1, 0.3, training=True) / x).numpy()
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    assert lg.equal(nn.RReLU()(lg.ones(3)), lg.ones(3))


def test_gumbel_softmax():
    lg.manual_seed(0)
    logits = lg.tensor([[0.0, 3.0, 0.0]], requires_grad=True)
    soft = F.gumbel_softmax(logits, tau=0.5)
    assert abs(soft.sum().item() - 1) < 1e-6
    hard = F.gumbel_softmax(logits.expand(2000, 3), hard=True)
    assert set(np.unique(hard.detach().numpy())) == {0.0, 1.0}
    assert (hard.detach().numpy().argmax(1) == 1).mean() > 0.8
    hard[:, 1].sum().backward()
    assert logits.grad is not None and np.abs(logits.grad.numpy()).sum() > 0


def test_inplace_functional_variants():
    for fn in (F.relu_, F.elu_, F.celu_, F.selu_, F.leaky_relu_, F.hardtanh_, F.rrelu_):
        x = lg.tensor([-2.0, 0.5, 3.0])
        assert fn(x) is x
    x = lg.tensor([-2.0, 0.5])
    assert F.threshold_(x, 0.0, 9.0) is x and x.tolist() == [9.0, 0.5]
    with pytest.raises(RuntimeError, match="leaf"):
        F.relu(lg.ones(2, requires_grad=True), inplace=True)


def test_errors():
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        F.glu(lg.ones(3, 5))
    with pytest.raises(RuntimeError, match="prelu: weight of shape \\(2,\\).*\\(4, 3\\)"):
        F.prelu(lg.ones(4, 3), lg.ones(2))
    with pytest.raises(RuntimeError, match="lambda must be greater or equal to 0"):
        F.softshrink(lg.ones(2), -1.0)
    with pytest.raises(RuntimeError, match="prelu: weight.*float32.*float64"):
        F.prelu(lg.ones(2, 3, dtype=lg.float64), lg.ones(3))
    with pytest.raises(ValueError, match="3D or 4D"):
        nn.Softmax2d()(lg.ones(2, 3))
