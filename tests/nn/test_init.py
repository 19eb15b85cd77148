"""nn.init: gains and fans against PyTorch, distributions by their statistics, determinism."""
from __future__ import annotations

import math

import numpy as np
import pytest

import labgrad
from labgrad.nn import init

SHAPES = [(3, 4), (5, 2, 3), (8, 4, 3, 3), (2, 6, 1, 2, 3), (7, 1), (1, 7, 0)]
GAINS = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
         ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
         ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
         ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)]


@pytest.mark.torch
@pytest.mark.parametrize("nonlinearity,param", GAINS)
def test_calculate_gain_matches_torch(torch, nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == \
        torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.torch
@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_torch(torch, shape):
    ours = init._calculate_fan_in_and_fan_out(labgrad.empty(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(labgrad.empty(5))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(labgrad.empty(3, 3), mode="fan_avg")


def _sample(fn, shape=(256, 128, 3), **kwargs):
    t = labgrad.empty(*shape)
    assert fn(t, **kwargs) is t
    return t.numpy()


def test_uniform_and_normal_statistics():
    u = _sample(init.uniform_, a=-2.0, b=3.0)
    assert u.min() >= -2.0 and u.max() < 3.0 and abs(u.mean() - 0.5) < 0.02
    n = _sample(init.normal_, mean=1.0, std=2.0)
    assert abs(n.mean() - 1.0) < 0.02 and abs(n.std() - 2.0) < 0.02


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", math.sqrt(5)),
                                            ("tanh", 0)])
def test_kaiming_statistics(mode, nonlinearity, a):
    shape = (256, 64, 3)
    fan = (64 if mode == "fan_in" else 256) * 3
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    u = _sample(init.kaiming_uniform_, shape, a=a, mode=mode, nonlinearity=nonlinearity)
    bound = math.sqrt(3.0) * std
    assert np.abs(u).max() <= bound and np.abs(u).max() > 0.99 * bound
    assert abs(u.std() / std - 1) < 0.02
    n = _sample(init.kaiming_normal_, shape, a=a, mode=mode, nonlinearity=nonlinearity)
    assert abs(n.std() / std - 1) < 0.02 and abs(n.mean()) < 0.05 * std


def test_xavier_statistics():
    shape = (200, 100, 3)
    u = _sample(init.xavier_uniform_, shape, gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / (300 + 600))
    assert np.abs(u).max() <= bound and np.abs(u).max() > 0.99 * bound
    n = _sample(init.xavier_normal_, shape, gain=0.5)
    assert abs(n.std() / (0.5 * math.sqrt(2.0 / 900)) - 1) < 0.02


@pytest.mark.parametrize("mean,std,a,b", [(0.5, 1.0, -1.0, 1.5),  # most mass: redrawing
                                           (0.0, 1.0, 1.0, 3.0)])  # a tail: inverse CDF
def test_trunc_normal_statistics(mean, std, a, b):
    t = _sample(init.trunc_normal_, (100, 200), mean=mean, std=std, a=a, b=b)
    assert t.min() >= a and t.max() <= b
    # the truncated normal's mean: mu + sigma * (pdf(alpha) - pdf(beta)) / (cdf(b) - cdf(a))
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: (1 + math.erf(z / math.sqrt(2))) / 2  # noqa: E731
    alpha, beta = (a - mean) / std, (b - mean) / std
    expected = mean + std * (pdf(alpha) - pdf(beta)) / (cdf(beta) - cdf(alpha))
    assert abs(t.mean() - expected) < 0.01


def test_trunc_normal_narrow_and_warning():
    narrow = _sample(init.trunc_normal_, std=0.02)
    assert abs(narrow.std() - 0.02) < 0.001 and np.abs(narrow).max() <= 2.0
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(labgrad.empty(3), mean=10.0)


def test_constant_ones_zeros_eye():
    assert (init.constant_(labgrad.empty(2, 3), 0.5).numpy() == 0.5).all()
    assert (init.ones_(labgrad.empty(4)).numpy() == 1).all()
    assert (init.zeros_(labgrad.empty(4)).numpy() == 0).all()
    assert np.array_equal(init.eye_(labgrad.empty(2, 3)).numpy(), np.eye(2, 3))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(labgrad.empty(2, 2, 2))


@pytest.mark.torch
@pytest.mark.parametrize("shape,groups", [((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((4, 6, 3, 3), 2),
                                          ((2, 2, 3, 3, 3), 1), ((6, 2, 5), 3)])
def test_dirac_matches_torch(torch, shape, groups):
    ours = init.dirac_(labgrad.empty(*shape), groups).numpy()
    theirs = torch.nn.init.dirac_(torch.empty(*shape), groups).numpy()
    assert np.array_equal(ours, theirs)


def test_dirac_errors():
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(labgrad.empty(3, 3))
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(labgrad.empty(5, 2, 3), groups=2)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 2, 3), (3, 3)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    w = init.orthogonal_(labgrad.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w.T @ w if rows >= cols else w @ w.T
    assert np.allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-4)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(labgrad.empty(3))


def test_sparse_zeros_a_fraction_of_every_column():
    w = init.sparse_(labgrad.empty(10, 50), sparsity=0.3, std=0.5).numpy()
    assert ((w == 0).sum(axis=0) == 3).all()
    assert abs(w[w != 0].std() - 0.5) < 0.06
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.sparse_(labgrad.empty(3), 0.1)


RANDOM_INITS = [(init.uniform_, {}), (init.normal_, {}), (init.trunc_normal_, {}),
                (init.xavier_uniform_, {}), (init.xavier_normal_, {}),
                (init.kaiming_uniform_, {}), (init.kaiming_normal_, {}),
                (init.orthogonal_, {}), (init.sparse_, {"sparsity": 0.5})]


@pytest.mark.parametrize("fn,kwargs", RANDOM_INITS, ids=lambda v: getattr(v, "__name__", ""))
def test_seeded_and_generator_determinism(fn, kwargs):
    labgrad.manual_seed(3)
    a = fn(labgrad.empty(4, 5), **kwargs).numpy().copy()
    labgrad.manual_seed(3)
    b = fn(labgrad.empty(4, 5), **kwargs).numpy()
    assert np.array_equal(a, b)
    g1, g2 = labgrad.Generator().manual_seed(7), labgrad.Generator().manual_seed(7)
    c = fn(labgrad.empty(4, 5), generator=g1, **kwargs).numpy().copy()
    d = fn(labgrad.empty(4, 5), generator=g2, **kwargs).numpy()
    assert np.array_equal(c, d) and not np.array_equal(a, c)


def test_inits_run_on_parameters_without_recording():
    p = labgrad.nn.Parameter(labgrad.empty(3, 4))
    version = p._version
    for fn in (init.kaiming_uniform_, init.xavier_normal_, init.zeros_, init.orthogonal_,
               init.trunc_normal_, init.eye_):
        out = fn(p)
        assert out is p and p.grad_fn is None and p.requires_grad
    assert p._version > version


def test_zero_element_tensors_warn_and_are_left_alone():
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(labgrad.empty(0, 3))
    with pytest.warns(UserWarning, match="zero-element"):
        init.xavier_normal_(labgrad.empty(3, 0))


def test_deprecated_names_warn_and_work():
    with pytest.warns(FutureWarning, match="deprecated in favor of `nn.init.normal_`"):
        init.normal(labgrad.empty(2))
    with pytest.warns(FutureWarning):
        assert (init.constant(labgrad.empty(2), 3.0).numpy() == 3).all()
