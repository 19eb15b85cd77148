"""Hypothesis-generated broadcastable shapes for the binary elementwise ops: forward against
NumPy, gradients summed back to each input's shape, and both against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import labgrad as lg

BINARY = {
    "add": (lambda lib, a, b: a + b, lambda a, b: a + b),
    "sub": (lambda lib, a, b: a - b, lambda a, b: a - b),
    "mul": (lambda lib, a, b: a * b, lambda a, b: a * b),
    "div": (lambda lib, a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
    "maximum": (lambda lib, a, b: lib.maximum(a, b), np.maximum),
    "atan2": (lambda lib, a, b: lib.atan2(a, b), np.arctan2),
    "where": (lambda lib, a, b: lib.where(a > b, a, b), lambda a, b: np.where(a > b, a, b)),
}
SHAPES = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3)


def _inputs(lib, arrays):
    return [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=25, deadline=None)
@given(shapes=SHAPES, seed=st.integers(0, 2 ** 16))
def test_broadcast_forward_and_gradient_shapes(name, shapes, seed):
    fn, reference = BINARY[name]
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes.input_shapes]
    a, b = _inputs(lg, arrays)
    out = fn(lg, a, b)
    assert tuple(out.shape) == shapes.result_shape
    np.testing.assert_allclose(out.detach().numpy(), reference(*arrays), rtol=1e-12, atol=1e-12)
    out.sum().backward()
    assert tuple(a.grad.shape) == tuple(a.shape) and tuple(b.grad.shape) == tuple(b.shape)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=SHAPES, seed=st.integers(0, 2 ** 16))
def test_broadcast_gradients_match_pytorch(name, shapes, seed, torch):
    fn, _ = BINARY[name]
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes.input_shapes]
    ours, theirs = _inputs(lg, arrays), _inputs(torch, arrays)
    seed_grad = rng.standard_normal(shapes.result_shape)
    fn(lg, *ours).backward(lg.tensor(seed_grad, dtype=lg.float64))
    fn(torch, *theirs).backward(torch.tensor(seed_grad, dtype=torch.float64))
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_incompatible_shapes_name_the_op_and_both_shapes():
    with pytest.raises(RuntimeError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        lg.ones(2, 3) + lg.ones(4)
