"""Tensor repr: character for character PyTorch's, with 'torch.' read as 'labgrad.'."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import labgrad as lg
from labgrad import _formatting

_rs = np.random.RandomState(0)
_RANDN = _rs.randn(50, 50).astype(np.float32)

CASES = {
    "floats": lambda m: m.tensor([0.1, 0.25, -3.5]),
    "integer-valued-floats": lambda m: m.tensor([1.0, 2.0, -3.0]),
    "zeros": lambda m: m.zeros(3),
    "0d-float": lambda m: m.tensor(3.25),
    "0d-integer-valued": lambda m: m.tensor(3.0),
    "0d-nan": lambda m: m.tensor(float("nan")),
    "0d-inf": lambda m: m.tensor(float("-inf")),
    "0d-big": lambda m: m.tensor(1e20),
    "0d-small": lambda m: m.tensor(1e-20),
    "0d-float64": lambda m: m.tensor(2.5, dtype=m.float64),
    "0d-int": lambda m: m.tensor(5),
    "0d-int32": lambda m: m.tensor(2, dtype=m.int32),
    "0d-bool": lambda m: m.tensor(False),
    "big-and-small": lambda m: m.tensor([1e10, 1.5]),
    "tiny": lambda m: m.tensor([1e-5, 1.0]),
    "ratio-over-1000": lambda m: m.tensor([0.001, 1000.0]),
    "ratio-under-1000": lambda m: m.tensor([0.01, 100.0]),
    "integers-1e8": lambda m: m.tensor([1e8, 1.0]),
    "integers-1e9": lambda m: m.tensor([1e9, 1.0]),
    "integers-wide-range": lambda m: m.tensor([100000.0, 2.0]),
    "integers-huge": lambda m: m.tensor([1e15, 2e15]),
    "nan-inf": lambda m: m.tensor([float("nan"), float("inf"), -float("inf"), 1.5]),
    "nan-only": lambda m: m.tensor([float("nan")]),
    "inf-and-integers": lambda m: m.tensor([float("inf"), 1.0, 2.0]),
    "negative-zero": lambda m: m.tensor([-0.0, 1.0]),
    "2d": lambda m: m.tensor([[1.5, -2.25], [3.125, 4.0]]),
    "3d": lambda m: m.arange(24.0).reshape(2, 3, 4) / 7,
    "4d": lambda m: m.ones(2, 1, 2, 2),
    "wide-magnitudes": lambda m: m.tensor([0.5, 123.456]),
    "six-digits": lambda m: m.tensor([123456.789, 0.5]),
    "1e-4": lambda m: m.tensor([1e-4, 1.0]),
    "small-only": lambda m: m.tensor([1e-4, 5e-4]),
    "negative-integers": lambda m: m.tensor([-1.0, -10.0, 100.0]),
    "very-small": lambda m: m.tensor([1e-8, 1e-9]),
    "sci-with-zero": lambda m: m.tensor([1e-10, 1e10, 0.0]),
    "three-digits": lambda m: m.tensor([123.5, 0.25]),
    "five-digits": lambda m: m.tensor([12345.5, 0.25]),
    "eight-digits": lambda m: m.tensor([99999999.5, 0.25]),
    "negative-small": lambda m: m.tensor([-0.0001234, 0.5]),
    "randn": lambda m: m.tensor(_RANDN[:4, :5]),
    "randn-big": lambda m: m.tensor(_RANDN),
    "randn-scaled": lambda m: m.tensor(_RANDN[:3, :3] * 1e5),
    "float64": lambda m: m.tensor([1.5, 2.0], dtype=m.float64),
    "float64-precision": lambda m: m.tensor([0.123456789], dtype=m.float64),
    "float16": lambda m: m.tensor([1.5, 2.0], dtype=m.float16),
    "float16-wide": lambda m: m.tensor([60000.0, 0.001], dtype=m.float16),
    "bfloat16": lambda m: m.tensor([1.5, 2.0, 0.1], dtype=m.bfloat16),
    "ints": lambda m: m.tensor([1, -20, 300]),
    "int32": lambda m: m.tensor([1, 2], dtype=m.int32),
    "int8": lambda m: m.tensor([1, 2], dtype=m.int8),
    "uint8": lambda m: m.tensor([1, 2], dtype=m.uint8),
    "int16": lambda m: m.tensor([-1, 2], dtype=m.int16),
    "ints-2d": lambda m: m.tensor([[1, 22], [333, -4]]),
    "big-ints": lambda m: m.tensor([2 ** 40, -1]),
    "bools": lambda m: m.tensor([True, False]),
    "bools-2d": lambda m: m.tensor([[True], [False]]),
    "empty": lambda m: m.tensor([]),
    "empty-2d": lambda m: m.zeros(2, 0),
    "empty-rows": lambda m: m.zeros(0, 3),
    "empty-int": lambda m: m.tensor([], dtype=m.int64),
    "empty-int32": lambda m: m.tensor([], dtype=m.int32),
    "empty-float64-2d": lambda m: m.zeros(0, 2, dtype=m.float64),
    "empty-bool-2d": lambda m: m.zeros(0, 0, dtype=m.bool),
    "summarized-floats": lambda m: m.arange(2000.0),
    "summarized-ints": lambda m: m.arange(2000),
    "summarized-2d": lambda m: m.arange(10000.0).reshape(100, 100),
    "summarized-3d": lambda m: m.arange(3000).reshape(10, 10, 30),
    "summarized-randn": lambda m: m.tensor(_RANDN),
    "summarized-bools": lambda m: m.arange(1500) % 3 == 0,
    "1000-elements": lambda m: m.arange(1000.0),
    "1001-elements": lambda m: m.arange(1001.0),
    "long-row": lambda m: m.arange(30.0) / 3,
    "long-row-ints": lambda m: m.arange(40) * 1000,
    "single": lambda m: m.tensor([7.0]),
    "requires-grad": lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    "requires-grad-0d": lambda m: m.tensor(1.0, requires_grad=True),
    "requires-grad-float64": lambda m: m.tensor([1.0, 2.0], dtype=m.float64,
                                                requires_grad=True),
    "grad-fn-mul": lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2,
    "grad-fn-add": lambda m: m.tensor([1.0, 2.0], requires_grad=True) + 2,
    "grad-fn-float64": lambda m: m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True) * 2,
    "grad-fn-sum": lambda m: m.tensor([1.0, 2.0], requires_grad=True).sum(),
    "grad-fn-wraps-suffix": lambda m: m.arange(9.0, dtype=m.float64).requires_grad_() * 1.5,
    "suffix-at-the-line-end": lambda m: m.tensor([-5.6811, 16.2884, -26.1729, 11.8707,
                                                  -6.3088], dtype=m.float64),
    "suffix-at-the-line-end-bf16": lambda m: m.tensor([940.0, -float("inf"), -680.0, 228.0,
                                                       924.0, -1544.0], dtype=m.bfloat16),
    "detached": lambda m: (m.tensor([1.0], requires_grad=True) * 2).detach(),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(CASES))
def test_repr_matches_pytorch(case, torch):
    ours, theirs = CASES[case](lg), CASES[case](torch)
    assert repr(ours) == repr(theirs).replace("torch.", "labgrad.")
    assert str(ours) == repr(ours)


def test_repr_examples_without_torch():
    assert repr(lg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(lg.tensor([0.1, -2.0])) == "tensor([ 0.1000, -2.0000])"
    assert repr(lg.tensor(3)) == "tensor(3)"
    assert repr(lg.tensor([True, False])) == "tensor([ True, False])"
    assert repr(lg.tensor([1, 2], dtype=lg.int32)) == "tensor([1, 2], dtype=labgrad.int32)"
    assert repr(lg.tensor([1.5], dtype=lg.float64)) == \
        "tensor([1.5000], dtype=labgrad.float64)"
    assert repr(lg.tensor([])) == "tensor([])"
    assert repr(lg.zeros(2, 0)) == "tensor([], size=(2, 0))"
    assert repr(lg.tensor([], dtype=lg.int64)) == "tensor([], dtype=labgrad.int64)"
    assert repr(lg.tensor([1e10, 1.5])) == "tensor([1.0000e+10, 1.5000e+00])"
    assert repr(lg.tensor([float("nan"), 1.5])) == "tensor([   nan, 1.5000])"
    assert repr(lg.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(lg.tensor([1.0], requires_grad=True) * 2) == "tensor([2.], grad_fn=<MulBackward0>)"
    assert repr(lg.arange(2000)) == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"
    assert repr(lg.tensor([[1, 22], [333, -4]])) == "tensor([[  1,  22],\n        [333,  -4]])"


def test_repr_reads_the_default_dtype():
    saved = lg.get_default_dtype()
    try:
        lg.set_default_dtype(lg.float64)
        assert repr(lg.tensor([1.5])) == "tensor([1.5000])"
        assert repr(lg.tensor([1.5], dtype=lg.float32)) == \
            "tensor([1.5000], dtype=labgrad.float32)"
        assert repr(lg.tensor([], dtype=lg.float64)) == "tensor([])"
    finally:
        lg.set_default_dtype(saved)


@pytest.mark.torch
def test_repr_with_float64_default_matches_pytorch(torch):
    saved = lg.get_default_dtype()
    try:
        lg.set_default_dtype(lg.float64)
        torch.set_default_dtype(torch.float64)
        for make in (lambda m: m.tensor([1.5]), lambda m: m.tensor([1.5], dtype=m.float32),
                     lambda m: m.zeros(0), lambda m: m.zeros(0, dtype=m.float32),
                     lambda m: m.tensor([1, 2])):
            assert repr(make(lg)) == repr(make(torch)).replace("torch.", "labgrad.")
    finally:
        lg.set_default_dtype(saved)
        torch.set_default_dtype(torch.float32)


PRINT_OPTIONS = [dict(precision=2), dict(precision=6), dict(threshold=5), dict(edgeitems=1,
                 threshold=10), dict(linewidth=40), dict(sci_mode=True), dict(sci_mode=False),
                 dict(profile="short"), dict(profile="full")]


@pytest.mark.torch
@pytest.mark.parametrize("options", PRINT_OPTIONS, ids=str)
def test_print_options_match_pytorch(options, torch):
    makes = [lambda m: m.tensor([0.123456789, -2.5, 1e-3]), lambda m: m.arange(30.0) / 7,
             lambda m: m.arange(2000).reshape(40, 50), lambda m: m.tensor([1e10, 1.0]),
             lambda m: m.tensor([1.0, 2.0])]
    try:
        _formatting.set_printoptions(**options)
        torch.set_printoptions(**options)
        for make in makes:
            assert repr(make(lg)) == repr(make(torch)).replace("torch.", "labgrad.")
    finally:
        _formatting.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_print_options_round_trip():
    before = _formatting.get_printoptions()
    try:
        _formatting.set_printoptions(precision=2)
        assert repr(lg.tensor([0.123])) == "tensor([0.12])"
        with pytest.raises(ValueError):
            _formatting.set_printoptions(profile="nope")
    finally:
        _formatting.set_printoptions(profile="default")
    assert _formatting.get_printoptions() == before


_floats = hnp.arrays(
    dtype=st.sampled_from([np.float32, np.float64]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=12),
    elements=st.one_of(st.floats(-2.0 ** 36, 2.0 ** 36, width=32),
                       st.integers(-10 ** 6, 10 ** 6).map(float),
                       st.sampled_from([0.0, -0.0, float("nan"), float("inf"), -float("inf"),
                                        1e-7, 0.5])))
_ints = hnp.arrays(dtype=st.sampled_from([np.int64, np.int32, np.uint8, np.bool_]),
                   shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=12))


@pytest.mark.torch
@settings(max_examples=300, deadline=None)
@given(array=st.one_of(_floats, _ints), requires_grad=st.booleans())
def test_repr_matches_pytorch_for_random_arrays(array, requires_grad):
    import torch
    requires_grad = requires_grad and array.dtype.kind == "f"
    ours = lg.tensor(array, requires_grad=requires_grad)
    theirs = torch.tensor(array, requires_grad=requires_grad)
    assert repr(ours) == repr(theirs).replace("torch.", "labgrad.")


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(shape=st.sampled_from([(1001,), (40, 30), (3, 400), (11, 11, 11), (2, 3, 200)]),
       scale=st.sampled_from([1.0, 1e-5, 1e5, 1e9]), integer=st.booleans())
def test_summarized_repr_matches_pytorch(shape, scale, integer):
    import torch
    values = np.random.RandomState(len(shape)).randn(*shape) * scale
    array = (np.round(values) if integer else values).astype(np.float32)
    assert repr(lg.tensor(array)) == repr(torch.tensor(array)).replace("torch.", "labgrad.")
