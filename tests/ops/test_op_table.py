"""Every op in the table: forward against NumPy, gradients against finite differences
(float64), second derivatives, and forward and gradients against PyTorch where installed."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

import labgrad as lg
from labgrad.autograd import gradcheck, gradgradcheck

from .cases_elementwise import CASES as ELEMENTWISE
from .op_cases import as_tuple, to_lib

CASES = list(ELEMENTWISE)
for _module in ("cases_reductions", "cases_shape", "cases_indexing", "cases_linalg"):
    try:
        CASES += importlib.import_module(f".{_module}", __package__).CASES
    except ModuleNotFoundError as error:
        if _module not in str(error):
            raise

_ids = lambda case: case.id  # noqa: E731


def _numpy(t):
    return t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)


def _float_outputs(outputs):
    return [o for o in as_tuple(outputs) if o.dtype.is_floating_point]


@pytest.mark.parametrize("case", [c for c in CASES if c.ref is not None], ids=_ids)
def test_forward_matches_numpy(case):
    arrays = case.arrays()
    ours = as_tuple(case.fn(lg, *to_lib(lg, arrays, requires_grad=False)))
    expected = as_tuple(case.ref(np, *arrays))
    for o, e in zip(ours, expected):
        np.testing.assert_allclose(_numpy(o), e, atol=case.atol, rtol=case.rtol, err_msg=case.id)


@pytest.mark.parametrize("case", [c for c in CASES if c.grad], ids=_ids)
def test_grad_matches_finite_differences(case):
    inputs = to_lib(lg, case.arrays())
    assert gradcheck(lambda *xs: case.fn(lg, *xs), inputs, atol=1e-5, rtol=1e-3), case.id


@pytest.mark.parametrize("case", [c for c in CASES if c.grad and c.gradgrad], ids=_ids)
def test_second_derivatives_match_finite_differences(case):
    inputs = to_lib(lg, case.arrays())
    assert gradgradcheck(lambda *xs: case.fn(lg, *xs), inputs, atol=1e-4, rtol=1e-3), case.id


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", [c for c in CASES if c.torch], ids=_ids)
def test_matches_pytorch(case, dtype, torch):
    arrays = case.arrays()
    ours_in = to_lib(lg, arrays, dtype, requires_grad=case.grad)
    theirs_in = to_lib(torch, arrays, dtype, requires_grad=case.grad)
    ours = as_tuple(case.fn(lg, *ours_in))
    theirs = as_tuple(case.fn(torch, *theirs_in))
    assert len(ours) == len(theirs), case.id
    tol = dict(atol=case.atol, rtol=case.rtol) if dtype == "float64" else dict(atol=1e-4, rtol=1e-3)
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape), f"{case.id}: shape {o.shape} vs {t.shape}"
        assert o.dtype.name == str(t.dtype).replace("torch.", ""), f"{case.id}: dtype"
        np.testing.assert_allclose(_numpy(o), _numpy(t), err_msg=f"{case.id} forward", **tol)
    if not case.grad:
        return
    ours_f, theirs_f = _float_outputs(ours), _float_outputs(theirs)
    rng = np.random.default_rng(1)
    seeds = [rng.standard_normal(tuple(o.shape)) for o in ours_f]
    lg.autograd.backward([o for o in ours_f if o.requires_grad],
                         [lg.tensor(s, dtype=o.dtype) for s, o in zip(seeds, ours_f) if o.requires_grad])
    torch.autograd.backward([t for t in theirs_f if t.requires_grad],
                            [torch.tensor(s, dtype=t.dtype) for s, t in zip(seeds, theirs_f) if t.requires_grad])
    for i, (a, b) in enumerate(zip(ours_in, theirs_in)):
        if b.grad is None:
            assert a.grad is None or not a.requires_grad or np.allclose(_numpy(a.grad), 0), \
                f"{case.id}: input {i} got a gradient where PyTorch gives none"
            continue
        assert a.grad is not None, f"{case.id}: input {i} got no gradient"
        np.testing.assert_allclose(_numpy(a.grad), _numpy(b.grad),
                                   err_msg=f"{case.id} gradient of input {i}", **tol)
