"""nn.utils: gradient clipping and parameters <-> vector, against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad
from labgrad import nn
from labgrad.autograd import gradcheck

SHAPES = [(3, 4), (5,), (2, 1, 3)]


def _params_with_grads(t, seed=0, scale=3.0, skip_last_grad=False):
    rng = np.random.default_rng(seed)
    params = []
    for i, shape in enumerate(SHAPES):
        p = t.nn.Parameter(t.tensor(rng.standard_normal(shape).astype(np.float32)))
        grad = (rng.standard_normal(shape) * scale).astype(np.float32)
        if not (skip_last_grad and i == len(SHAPES) - 1):
            p.grad = t.tensor(grad)
        params.append(p)
    return params


def _grads(params):
    return [None if p.grad is None else p.grad.numpy().copy() for p in params]


@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e4])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm):
    ours, theirs = _params_with_grads(labgrad), _params_with_grads(torch)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, labgrad.Tensor) and total.dim() == 0
    assert np.allclose(total.item(), expected.item(), rtol=1e-5)
    for a, b in zip(_grads(ours), _grads(theirs)):
        assert np.allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.torch
def test_clip_grad_norm_skips_missing_grads_and_takes_generators(torch):
    ours = _params_with_grads(labgrad, skip_last_grad=True)
    theirs = _params_with_grads(torch, skip_last_grad=True)
    total = nn.utils.clip_grad_norm_((p for p in ours), 1.0)
    expected = torch.nn.utils.clip_grad_norm_((p for p in theirs), 1.0)
    assert np.isclose(total.item(), expected.item(), rtol=1e-5)
    assert ours[-1].grad is None
    single = _params_with_grads(labgrad)[0]
    assert nn.utils.clip_grad_norm_(single, 1.0).item() > 1.0  # a lone tensor works too
    assert np.isclose(np.linalg.norm(single.grad.numpy()), 1.0, rtol=1e-5)
    assert nn.utils.clip_grad_norm_([nn.Parameter(labgrad.zeros(2))], 1.0).item() == 0.0


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")  # 0 * inf, as intended
def test_clip_grad_norm_nonfinite():
    params = _params_with_grads(labgrad)
    params[0].grad[0, 0] = float("inf")
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    total = nn.utils.clip_grad_norm_(params, 1.0)
    assert np.isinf(total.item())


@pytest.mark.torch
def test_get_total_norm_and_clip_grads_with_norm_match_torch(torch):
    ours, theirs = _params_with_grads(labgrad), _params_with_grads(torch)
    total = nn.utils.get_total_norm([p.grad for p in ours], 3.0)
    expected = torch.nn.utils.get_total_norm([p.grad for p in theirs], 3.0)
    assert np.isclose(total.item(), expected.item(), rtol=1e-5)
    nn.utils.clip_grads_with_norm_(ours, 2.0, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 2.0, expected)
    for a, b in zip(_grads(ours), _grads(theirs)):
        assert np.allclose(a, b, rtol=1e-5, atol=1e-6)
    assert nn.utils.get_total_norm([]).item() == 0.0


@pytest.mark.torch
@pytest.mark.parametrize("clip_value", [0.5, 2])
def test_clip_grad_value_matches_torch(torch, clip_value):
    ours, theirs = _params_with_grads(labgrad), _params_with_grads(torch)
    assert nn.utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for a, b in zip(_grads(ours), _grads(theirs)):
        assert np.array_equal(a, b)


def test_clipping_does_not_record_a_graph():
    p = nn.Parameter(labgrad.ones(3))
    p.grad = labgrad.full((3,), 5.0)
    nn.utils.clip_grad_norm_([p], 1.0)
    nn.utils.clip_grad_value_([p], 0.1)
    assert p.grad.grad_fn is None and not p.grad.requires_grad


def test_deprecated_clip_grad_norm_warns():
    params = _params_with_grads(labgrad)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        nn.utils.clip_grad_norm(params, 1.0)


@pytest.mark.torch
def test_parameters_to_vector_and_back_match_torch(torch):
    ours, theirs = _params_with_grads(labgrad), _params_with_grads(torch)
    vec = nn.utils.parameters_to_vector(ours)
    expected = torch.nn.utils.parameters_to_vector(theirs)
    assert np.array_equal(vec.detach().numpy(), expected.detach().numpy())
    new = labgrad.arange(vec.numel(), dtype=labgrad.float32)
    nn.utils.vector_to_parameters(new, ours)
    torch.nn.utils.vector_to_parameters(torch.arange(vec.numel(), dtype=torch.float32), theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == tuple(b.shape)
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    new[0] = 100.0  # the parameters now share the vector's memory, as in PyTorch
    assert ours[0][0, 0].item() == 100.0


def test_parameters_to_vector_is_differentiable():
    params = [labgrad.randn(2, 2, dtype=labgrad.float64, requires_grad=True),
              labgrad.randn(3, dtype=labgrad.float64, requires_grad=True)]
    assert gradcheck(lambda a, b: nn.utils.parameters_to_vector([a, b]) ** 2, params)


def test_vector_to_parameters_errors():
    params = _params_with_grads(labgrad)
    with pytest.raises(TypeError, match="expected labgrad.Tensor"):
        nn.utils.vector_to_parameters([1.0, 2.0], params)
    with pytest.raises(RuntimeError, match="at least 23 elements"):
        nn.utils.vector_to_parameters(labgrad.zeros(5), params)
