"""Edge cases of the elementwise ops: gradients at singular points, dtypes of mixed operands,
and the discipline that lets the same ops run on CuPy (compute through the operands' array
module, never through NumPy functions on their arrays)."""
from __future__ import annotations

import builtins
from types import SimpleNamespace

import numpy as np
import pytest

import labgrad as lg
from labgrad.backend import kernels
from labgrad.ops import arithmetic
from labgrad.ops._util import xp_of_operands


@pytest.fixture
def default_float64():
    saved = lg.get_default_dtype()
    lg.set_default_dtype(lg.float64)
    yield
    lg.set_default_dtype(saved)


# ---------------------------------------------------------------- pow's gradient

def _pow_grads(lib):
    a = lib.tensor([0.0, 2.0, 0.0], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([0.0, 3.0, 2.0], dtype=lib.float64, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):  # 0 ** -1 and log(0) on the way
        (a ** b).sum().backward()
    return a.grad.numpy(), b.grad.numpy()


def test_pow_gradient_of_the_base_is_zero_at_zero_to_the_zero():
    grad_a, grad_b = _pow_grads(lg)
    np.testing.assert_array_equal(grad_a, [0.0, 12.0, 0.0])
    assert np.isfinite(grad_b).all()


@pytest.mark.torch
def test_pow_gradients_match_pytorch_at_zero(torch):
    for ours, theirs in zip(_pow_grads(lg), _pow_grads(torch)):
        np.testing.assert_allclose(ours, theirs)


# ---------------------------------------------------------------- dtypes

def test_atan2_of_integers_is_the_default_float(default_float64):
    out = lg.atan2(lg.tensor([1, -1]), lg.tensor([2, 2]))
    assert out.dtype is lg.float64
    np.testing.assert_allclose(out.numpy(), np.arctan2([1.0, -1.0], [2.0, 2.0]))
    assert lg.atan2(lg.tensor([True]), 2).dtype is lg.float64


@pytest.mark.torch
def test_atan2_of_integers_matches_pytorch_under_each_default(torch):
    saved = lg.get_default_dtype()
    try:
        for name in ("float32", "float64"):
            lg.set_default_dtype(getattr(lg, name))
            torch.set_default_dtype(getattr(torch, name))
            ours = lg.atan2(lg.tensor([1, 2]), lg.tensor([3, 4]))
            theirs = torch.atan2(torch.tensor([1, 2]), torch.tensor([3, 4]))
            assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
            np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    finally:
        lg.set_default_dtype(saved)
        torch.set_default_dtype(torch.float32)


# PyTorch promotes np.bool_ as a float (a Python bool it does not): (case, result dtype)
_NUMPY_BOOL_CASES = {
    "bool-plus": (lambda lib: lib.tensor([True, False]) + np.True_, "float32"),
    "plus-bool": (lambda lib: np.True_ + lib.tensor([True, False]), "float32"),
    "int-times": (lambda lib: lib.tensor([1, 2]) * np.True_, "float32"),
    "uint8-plus": (lambda lib: lib.tensor([1, 2], dtype=lib.uint8) + np.False_, "float32"),
    "float16-plus": (lambda lib: lib.tensor([1, 2], dtype=lib.float16) + np.True_, "float16"),
    "where": (lambda lib: lib.where(lib.tensor([True, False]), np.True_, lib.tensor([5, 6])),
              "float32"),
}


@pytest.mark.parametrize("name", sorted(_NUMPY_BOOL_CASES))
def test_numpy_bool_scalar_promotes_as_a_float(name):
    make, dtype = _NUMPY_BOOL_CASES[name]
    assert make(lg).dtype is getattr(lg, dtype)
    assert (lg.tensor([True, False]) + True).dtype is lg.bool  # a Python bool keeps bool


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(_NUMPY_BOOL_CASES))
def test_numpy_bool_scalar_matches_pytorch(name, torch):
    make, _ = _NUMPY_BOOL_CASES[name]
    ours, theirs = make(lg), make(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ---------------------------------------------------------------- errors

def test_bitwise_with_a_float_number_names_the_op():
    with pytest.raises(RuntimeError, match=r"bitwise_and: only integer and bool"):
        1.5 & lg.tensor([1, 2])
    with pytest.raises(RuntimeError, match=r"bitwise_or: only integer and bool"):
        lg.tensor([1, 2]) | 2.5
    assert (lg.tensor([6, 3]) & 2).tolist() == [2, 2]
    assert (True ^ lg.tensor([True, False])).tolist() == [False, True]


def test_neg_of_a_bool_tensor_is_refused():
    with pytest.raises(RuntimeError, match=r"neg: .*bool tensor.*`~`.*logical_not"):
        -lg.tensor([True, False])
    with pytest.raises(RuntimeError, match="neg"):
        lg.negative(lg.tensor([True]))
    assert (-lg.tensor([1, -2])).tolist() == [-1, 2]


class _OtherDevice(np.ndarray):
    """A NumPy array that claims to live on cuda:0, to check device errors without a GPU."""

    device = SimpleNamespace(id=0)


def test_where_refuses_a_condition_on_another_device():
    cond = lg.tensor([True, False])
    values = lg.Tensor._wrap(np.ones(2, np.float32).view(_OtherDevice))
    with pytest.raises(RuntimeError, match=r"where: expected all tensors on the same device.*"
                                           r"\(bool, cpu\).*\(float32, cuda:0\)"):
        lg.where(cond, values, 0.0)
    with pytest.raises(RuntimeError, match=r"where: expected all tensors on the same device"):
        lg.where(lg.Tensor._wrap(cond.numpy().view(_OtherDevice)), lg.ones(2), lg.zeros(2))


# ---------------------------------------------------------------- CuPy discipline

_through_xp = [0]  # > 0 while the stand-in module is computing


class _DeviceArray(np.ndarray):
    """Stands in for a CuPy array: ufuncs, methods and its own module (`_DeviceModule`) work;
    NumPy's functions called directly are refused (on a CuPy array they would go through
    __array_function__ to CuPy, or fail)."""

    def __array_function__(self, func, types, args, kwargs):
        if not _through_xp[0]:
            raise AssertionError(f"numpy.{func.__name__} called on a device array")
        return super().__array_function__(func, types, args, kwargs)


class _DeviceModule:
    """The stand-in's array module: NumPy's functions, allowed on device arrays."""

    def __getattr__(self, name):
        value = getattr(np, name)
        if not callable(value) or isinstance(value, (type, np.ufunc)):
            return value

        def call(*args, **kwargs):
            _through_xp[0] += 1
            try:
                out = value(*args, **kwargs)
            finally:
                _through_xp[0] -= 1
            return out.view(_DeviceArray) if type(out) is np.ndarray else out
        return call


@pytest.fixture
def device_module(monkeypatch):
    from labgrad import backend
    monkeypatch.setitem(backend._MODULE_OF_TYPE, _DeviceArray, _DeviceModule())


def _on_device(values, dtype):
    return lg.Tensor._wrap(np.asarray(values, dtype=dtype).view(_DeviceArray))


_DEVICE_OPS = {
    "floor_divide": lambda i, f: lg.floor_divide(i, i),
    "floor_divide_number": lambda i, f: lg.floor_divide(i, 2),
    "div_trunc": lambda i, f: lg.div(i, -2, rounding_mode="trunc"),
    "div_trunc_float": lambda i, f: lg.div(f, 2, rounding_mode="trunc"),
    "pow_int": lambda i, f: i ** 2,
    "pow_int_tensor": lambda i, f: i ** i,
    "pow_float": lambda i, f: f ** 2.5,
    "atan2_int": lambda i, f: lg.atan2(i, 3),
    "atan2_float": lambda i, f: lg.atan2(f, f),
    "remainder": lambda i, f: lg.remainder(i, 3),
    "maximum": lambda i, f: lg.maximum(f, f),
    "logical_and": lambda i, f: lg.logical_and(i, True),
    "bitwise_and": lambda i, f: 6 & i,
    "isclose": lambda i, f: lg.isclose(f, 1.0),
    "where": lambda i, f: lg.where(f > 1, f, 0.0),
    "uint8_wraps": lambda i, f: _on_device([1, 2, 3], np.uint8) + 300,
}


@pytest.mark.parametrize("name", sorted(_DEVICE_OPS))
def test_binary_ops_compute_through_the_operands_module(name, device_module):
    i, f = _on_device([1, 2, 3], np.int64), _on_device([0.5, 1.5, 2.5], np.float32)
    out = _DEVICE_OPS[name](i, f)
    assert isinstance(out._data, _DeviceArray)


def test_xp_of_operands_finds_the_array_on_either_side():
    arr = np.ones(2)
    assert xp_of_operands(arr, 2.0) is np
    assert xp_of_operands(2, arr) is np
    assert xp_of_operands(np.float32(2), arr) is np


def test_wrapped_int_is_a_numpy_scalar():
    # CuPy takes NumPy scalars as operands but refuses 0-d NumPy arrays
    value = arithmetic._wrapped_int(300, np.ones(2, np.uint8))
    assert isinstance(value, np.generic) and value.dtype == np.uint8 and value == 44
    assert (lg.ones(2, dtype=lg.uint8) + 300).tolist() == [45, 45]


# ---------------------------------------------------------------- no work repeated per call

def test_erf_and_gelu_import_nothing_per_call(monkeypatch):
    x = lg.tensor([0.5, -1.0])
    lg.erf(x), lg.erfinv(x * 0.5), lg.nn.functional.gelu(x)  # resolve what they need once
    imports = []
    real_import = builtins.__import__

    def counting_import(name, *args, **kwargs):
        imports.append(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", counting_import)
    lg.erf(x), lg.erfinv(x * 0.5), lg.nn.functional.gelu(x)
    monkeypatch.undo()
    assert imports == []


def test_scatter_add_accumulates_repeated_indices():
    target = np.zeros(3)
    kernels.scatter_add(target, np.array([0, 2, 0]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(target, [4.0, 0.0, 2.0])


# ---------------------------------------------------------------- on a GPU

@pytest.mark.cuda
def test_cuda_edges():
    cond = lg.tensor([True, False])
    values = lg.ones(2, device="cuda")
    with pytest.raises(RuntimeError, match=r"where: expected all tensors on the same device"):
        lg.where(cond, values, 0.0)
    assert (lg.ones(2, dtype=lg.uint8, device="cuda") + 300).tolist() == [45, 45]
    i = lg.tensor([7, -7], device="cuda")
    assert lg.div(i, 2, rounding_mode="trunc").tolist() == [3, -3]
    assert lg.div(i, 2, rounding_mode="floor").tolist() == [3, -4]
    assert (i ** 2).tolist() == [49, 49]
    with pytest.raises(RuntimeError, match="negative integer powers"):
        i ** -1
    assert lg.atan2(i, 1).dtype is lg.get_default_dtype()
    x = lg.tensor([0.5, -1.0], device="cuda")
    np.testing.assert_allclose(lg.erf(x).cpu().numpy(), lg.erf(x.cpu()).numpy(), rtol=1e-6)
    index = lg.tensor([0, 2, 0], device="cuda")
    added = lg.zeros(3, device="cuda").scatter_add(0, index, lg.tensor([1.0, 2.0, 3.0],
                                                                       device="cuda"))
    assert added.tolist() == [4.0, 0.0, 2.0]
