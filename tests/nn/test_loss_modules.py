"""nn loss layers: constructor arguments, buffers, state_dict keys and repr as PyTorch's, and
the forward pass (value and input gradients) against PyTorch's layer of the same name."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn


def _randn(rng, *shape):
    return rng.standard_normal(shape)


def _signs(rng, *shape):
    return rng.choice([-1.0, 1.0], size=shape)


def _pair(rng):
    return [_randn(rng, 4, 5), _randn(rng, 4, 5)]


def _classes(rng):
    return [_randn(rng, 4, 5), rng.integers(0, 5, 4)]


def _probabilities(rng):
    return [rng.uniform(0.05, 0.95, (4, 5)), rng.random((4, 5))]


def _distribution(rng):
    p = rng.random((4, 5)) + 0.01
    return p / p.sum(1, keepdims=True)


def _triplet(rng):
    return [_randn(rng, 4, 6), _randn(rng, 4, 6), _randn(rng, 4, 6)]


# (layer, constructor kwargs (NumPy arrays become tensors), inputs(rng), differentiable inputs)
LAYERS = [
    ("L1Loss", {}, _pair, (0, 1)),
    ("L1Loss", {"reduction": "sum"}, _pair, (0, 1)),
    ("MSELoss", {}, _pair, (0, 1)),
    ("MSELoss", {"reduction": "none"}, _pair, (0, 1)),
    ("SmoothL1Loss", {"beta": 0.5}, _pair, (0, 1)),
    ("HuberLoss", {"delta": 0.5, "reduction": "sum"}, _pair, (0, 1)),
    ("CrossEntropyLoss", {}, _classes, (0,)),
    ("CrossEntropyLoss", {"weight": np.linspace(0.5, 2, 5), "ignore_index": 1,
                          "label_smoothing": 0.1, "reduction": "sum"}, _classes, (0,)),
    ("NLLLoss", {"weight": np.linspace(0.5, 2, 5)}, _classes, (0,)),
    ("BCELoss", {"weight": np.linspace(0.5, 2, 5)}, _probabilities, (0, 1)),
    ("BCEWithLogitsLoss", {}, _pair, (0,)),
    ("BCEWithLogitsLoss", {"weight": np.linspace(0.5, 2, 5), "pos_weight": np.arange(1.0, 6)},
     _probabilities, (0, 1)),
    ("KLDivLoss", {"reduction": "batchmean"},
     lambda r: [np.log(_distribution(r)), _distribution(r)], (0, 1)),
    ("KLDivLoss", {"reduction": "sum", "log_target": True},
     lambda r: [np.log(_distribution(r)), np.log(_distribution(r))], (0, 1)),
    ("PoissonNLLLoss", {"full": True},
     lambda r: [_randn(r, 4, 5), r.poisson(3.0, (4, 5)).astype(float)], (0,)),
    ("PoissonNLLLoss", {"log_input": False, "eps": 1e-4},
     lambda r: [r.random((4, 5)), r.poisson(3.0, (4, 5)).astype(float)], (0,)),
    ("GaussianNLLLoss", {"full": True, "eps": 1e-3},
     lambda r: [_randn(r, 4, 5), _randn(r, 4, 5), r.random((4, 5))], (0, 2)),
    ("CosineEmbeddingLoss", {"margin": 0.2},
     lambda r: [_randn(r, 4, 5), _randn(r, 4, 5), _signs(r, 4)], (0, 1)),
    ("MarginRankingLoss", {"margin": 0.3},
     lambda r: [_randn(r, 6), _randn(r, 6), _signs(r, 6)], (0, 1)),
    ("HingeEmbeddingLoss", {"margin": 0.5}, lambda r: [_randn(r, 4, 5), _signs(r, 4, 5)], (0,)),
    ("SoftMarginLoss", {}, lambda r: [_randn(r, 4, 5), _signs(r, 4, 5)], (0,)),
    ("MultiLabelSoftMarginLoss", {"weight": np.linspace(0.5, 2, 5)},
     lambda r: [_randn(r, 4, 5), r.integers(0, 2, (4, 5)) * 1.0], (0,)),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": np.linspace(0.5, 2, 5)}, _classes,
     (0,)),
    ("MultiLabelMarginLoss", {},
     lambda r: [_randn(r, 2, 4), np.array([[3, 0, -1, 1], [1, 2, 0, -1]])], (0,)),
    ("TripletMarginLoss", {"margin": 2.0, "p": 1, "swap": True}, _triplet, (0, 1, 2)),
    ("TripletMarginWithDistanceLoss", {"margin": 2.0}, _triplet, (0, 1, 2)),
]


def _layer_id(layer):
    name, kwargs = layer[0], layer[1]
    return name + "".join(f"-{k}" for k in kwargs)


def _make(lib, name, kwargs):
    made = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    return getattr(lib.nn, name)(**made)


@pytest.mark.torch
@pytest.mark.parametrize("layer", LAYERS, ids=_layer_id)
def test_layer_matches_torch(torch, layer):
    name, kwargs, make_inputs, grads = layer
    inputs = make_inputs(np.random.default_rng(0))
    results = []
    for lib in (lg, torch):
        module = _make(lib, name, kwargs)
        tensors = [lib.tensor(a, requires_grad=i in grads) for i, a in enumerate(inputs)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = module(*tensors)
        g = np.random.default_rng(1).standard_normal(tuple(out.shape))
        out.backward(lib.tensor(g))
        results.append((module, out.detach().numpy(), [tensors[i].grad.numpy() for i in grads]))
    (mine, my_out, my_grads), (theirs, their_out, their_grads) = results
    assert repr(mine) == repr(theirs)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(mine.state_dict()[key].numpy(), value.numpy())
    assert mine.reduction == theirs.reduction
    assert np.isfinite(their_out).all()
    np.testing.assert_allclose(my_out, their_out, rtol=1e-7, atol=1e-10)
    for mg, tg in zip(my_grads, their_grads):
        np.testing.assert_allclose(mg, tg, rtol=1e-7, atol=1e-10)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted({layer[0] for layer in LAYERS}))
def test_default_settings_match_torch(torch, name):
    mine, theirs = getattr(nn, name)(), getattr(torch.nn, name)()
    settings = ("reduction", "ignore_index", "label_smoothing", "beta", "delta", "margin", "p",
                "eps", "swap", "full", "log_input", "log_target")
    for attr in settings:
        assert getattr(mine, attr, None) == getattr(theirs, attr, None), (name, attr)
    assert repr(mine) == repr(theirs)


def test_weights_are_buffers():
    loss = nn.CrossEntropyLoss(weight=lg.ones(3))
    assert [name for name, _ in loss.named_buffers()] == ["weight"]
    assert list(loss.parameters()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=lg.ones(3)).state_dict()) == ["pos_weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []


def test_weight_buffer_follows_dtype_conversion():
    loss = nn.NLLLoss(weight=lg.tensor([1.0, 2.0, 3.0])).double()
    assert loss.weight.dtype == lg.float64
    out = loss(lg.randn(2, 3, dtype=lg.float64), lg.tensor([0, 2]))
    assert out.dtype == lg.float64


def test_legacy_constructor_arguments():
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(size_average=False).reduction == "sum"
    with pytest.warns(UserWarning, match="reduction='none'"):
        assert nn.CrossEntropyLoss(reduce=False).reduction == "none"
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        assert isinstance(nn.NLLLoss2d(), nn.NLLLoss)


def test_custom_distance_function():
    def distance(a, b):
        return (a - b).abs().sum(-1)

    loss = nn.TripletMarginWithDistanceLoss(distance_function=distance, margin=0.5)
    a, p, n = lg.randn(3, 4), lg.randn(3, 4), lg.randn(3, 4)
    want = (0.5 + distance(a, p) - distance(a, n)).clamp_min(0).mean()
    np.testing.assert_allclose(loss(a, p, n).numpy(), want.numpy(), rtol=1e-6)


def test_constructor_errors():
    with pytest.raises(TypeError, match="delta must be a float or int"):
        nn.HuberLoss(delta="1")
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="expected weight to be None or 1D tensor, got 2D"):
        nn.MultiMarginLoss(weight=lg.ones(2, 3))
    with pytest.raises(ValueError, match="expected margin to be greater than 0, got -1"):
        nn.TripletMarginLoss(margin=-1)
    with pytest.raises(ValueError, match="expected margin to be greater than 0, got 0"):
        nn.TripletMarginWithDistanceLoss(margin=0)


def test_layer_errors_name_the_loss():
    with pytest.raises(RuntimeError, match=r"cross_entropy: expected target of shape \(2,\)"):
        nn.CrossEntropyLoss()(lg.randn(2, 3), lg.tensor([[0], [1]]))
