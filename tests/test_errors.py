"""Error messages: each names the op and the shapes or dtypes involved.

One row per error: the call, the exception type PyTorch raises for it, and the words the
message must contain. Where PyTorch is installed, it must raise the same kind of exception.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest

import labgrad as lg


@dataclass
class Case:
    name: str
    call: Callable  # call(module) with labgrad or torch
    error: type
    words: tuple  # must all appear in labgrad's message

    def __repr__(self):
        return self.name


def _int_add_float(m):
    t = m.tensor([1, 2])
    t += 1.5


def _bool_add_int(m):
    m.tensor([True, False]).add_(1)


def _setitem_out_of_range(m):
    m.ones(2, 3)[5] = 1.0


def _setitem_wrong_shape(m):
    m.ones(2, 3)[0] = m.ones(4)


CASES = [
    # broadcasting
    Case("add_broadcast", lambda m: m.ones(2, 3) + m.ones(4), RuntimeError,
         ("add", "(2, 3)", "(4,)")),
    Case("mul_broadcast", lambda m: m.ones(2, 3) * m.ones(3, 2), RuntimeError,
         ("mul", "(2, 3)", "(3, 2)")),
    Case("sub_broadcast", lambda m: m.ones(5) - m.ones(2, 4), RuntimeError,
         ("sub", "(5,)", "(2, 4)")),
    Case("add_inplace_grows", lambda m: m.ones(2, 3).add_(m.ones(2, 1, 3)), RuntimeError,
         ("add_", "(2, 3)", "(2, 2, 3)")),
    Case("maximum_broadcast", lambda m: m.maximum(m.ones(2), m.ones(3)), RuntimeError,
         ("maximum", "(2,)", "(3,)")),
    # matmul
    Case("matmul_inner", lambda m: m.ones(2, 3) @ m.ones(4, 5), RuntimeError,
         ("matmul", "3", "4", "(2, 3)", "(4, 5)")),
    Case("matmul_vectors", lambda m: m.ones(3) @ m.ones(4), RuntimeError,
         ("matmul", "(3,)", "(4,)")),
    Case("matmul_batch", lambda m: m.ones(2, 2, 3) @ m.ones(3, 3, 4), RuntimeError,
         ("matmul", "(2, 2, 3)", "(3, 3, 4)")),
    Case("matmul_0d", lambda m: m.ones(()) @ m.ones(3), RuntimeError, ("matmul", "()", "(3,)")),
    Case("mm_inner", lambda m: m.mm(m.ones(2, 3), m.ones(4, 5)), RuntimeError,
         ("mm", "(2, 3)", "(4, 5)")),
    Case("matmul_dtype", lambda m: m.ones(2, 3) @ m.ones(3, 4, dtype=m.float64), RuntimeError,
         ("matmul", "float32", "float64")),
    Case("dot_dtype", lambda m: m.dot(m.ones(3), m.ones(3, dtype=m.float64)), RuntimeError,
         ("dot", "float32", "float64")),
    # cat and stack
    Case("cat_sizes", lambda m: m.cat([m.ones(2, 3), m.ones(2, 4)]), RuntimeError,
         ("cat", "(2, 3)", "(2, 4)")),
    Case("cat_ndim", lambda m: m.cat([m.ones(2, 3), m.ones(3)]), RuntimeError,
         ("cat", "(2, 3)", "(3,)")),
    Case("cat_dim_1", lambda m: m.cat([m.ones(2, 3), m.ones(3, 3)], dim=1), RuntimeError,
         ("cat", "(2, 3)", "(3, 3)")),
    Case("cat_empty", lambda m: m.cat([]), ValueError, ("cat", "empty")),
    Case("stack_sizes", lambda m: m.stack([m.ones(2, 3), m.ones(2, 4)]), RuntimeError,
         ("stack", "(2, 3)", "(2, 4)")),
    # view and reshape
    Case("view_size", lambda m: m.ones(2, 3).view(4, 2), RuntimeError,
         ("view", "(4, 2)", "6")),
    Case("view_infer", lambda m: m.ones(2, 3).view(-1, 4), RuntimeError,
         ("view", "(-1, 4)", "6")),
    Case("view_two_minus_ones", lambda m: m.ones(2, 3).view(-1, -1), RuntimeError,
         ("view", "-1")),
    Case("view_strides", lambda m: m.ones(2, 3).t().view(6), RuntimeError,
         ("view", "reshape")),
    Case("reshape_size", lambda m: m.ones(2, 3).reshape(5), RuntimeError,
         ("reshape", "(5,)", "6")),
    Case("expand_size", lambda m: m.ones(2, 3).expand(4, 3), RuntimeError,
         ("expand", "(2, 3)", "(4, 3)")),
    # indexing
    Case("index_int", lambda m: m.ones(2, 3)[2], IndexError, ("index 2", "size 2", "(2, 3)")),
    Case("index_second_dim", lambda m: m.ones(2, 3)[0, 5], IndexError,
         ("index 5", "size 3", "(2, 3)")),
    Case("index_tensor", lambda m: m.ones(2, 3)[m.tensor([0, 4])], IndexError,
         ("4", "size 2", "(2, 3)")),
    Case("index_too_many", lambda m: m.ones(2, 3)[0, 0, 0], IndexError,
         ("too many indices", "(2, 3)")),
    Case("index_float_tensor", lambda m: m.ones(2, 3)[m.tensor([0.0])], IndexError,
         ("integer", "float32")),
    Case("setitem_out_of_range", _setitem_out_of_range, IndexError,
         ("__setitem__", "index 5", "(2, 3)")),
    Case("setitem_shape", _setitem_wrong_shape, RuntimeError, ("(4,)", "(3,)")),
    Case("gather_float_index", lambda m: m.ones(2, 3).gather(1, m.tensor([[0.5]])),
         RuntimeError, ("gather", "int64", "float32")),
    # dims of reductions and shape ops
    Case("sum_dim", lambda m: m.ones(2, 3).sum(dim=2), IndexError,
         ("sum", "2", "[-2, 1]")),
    Case("mean_dim", lambda m: m.ones(2, 3).mean(dim=-3), IndexError, ("mean", "-3", "[-2, 1]")),
    Case("squeeze_dim", lambda m: m.ones(2, 3).squeeze(3), IndexError, ("squeeze", "3")),
    Case("softmax_dim", lambda m: m.ones(2, 3).softmax(dim=2), IndexError, ("softmax", "2")),
    Case("permute_repeat", lambda m: m.ones(2, 3).permute(0, 0), RuntimeError,
         ("permute", "(0, 0)")),
    # dtypes
    Case("inplace_int_from_float", _int_add_float, RuntimeError,
         ("__iadd__", "float32", "int64", "can't be cast")),
    Case("inplace_bool_from_int", _bool_add_int, RuntimeError,
         ("add_", "int64", "bool", "can't be cast")),
    Case("requires_grad_int", lambda m: m.tensor([1, 2], requires_grad=True), RuntimeError,
         ("floating point", "int64")),
    Case("bool_sub", lambda m: m.tensor([True]) - m.tensor([False]), RuntimeError,
         ("sub", "bool")),
    Case("bitwise_float", lambda m: m.ones(2) & m.ones(2), (RuntimeError, NotImplementedError),
         ("bitwise_and", "float32")),
    Case("bitwise_float_number", lambda m: 1.5 & m.tensor([1, 2]), RuntimeError,
         ("bitwise_and", "1.5", "int64")),
    Case("bitwise_tensor_float_number", lambda m: m.tensor([1, 2]) | 2.5, RuntimeError,
         ("bitwise_or", "2.5", "int64")),
    Case("neg_bool", lambda m: -m.tensor([True, False]), RuntimeError,
         ("neg", "bool", "~", "logical_not")),
    Case("item_many", lambda m: m.ones(3).item(), RuntimeError, ("item", "3")),
    Case("bool_many", lambda m: bool(m.ones(3)), RuntimeError, ("bool", "ambiguous")),
]


def _missing_op(error):
    """An AttributeError for an op another part of the library has not got yet."""
    return isinstance(error, AttributeError) and "has no attribute" in str(error)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_error_names_the_op_and_the_operands(case):
    with pytest.raises(Exception) as info:
        case.call(lg)
    if _missing_op(info.value):
        pytest.skip(f"not in labgrad yet: {info.value}")
    assert isinstance(info.value, case.error), f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    missing = [w for w in case.words if w not in message]
    assert not missing, f"{case.name}: {missing} not in {message!r}"


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_pytorch_raises_the_same_kind_of_error(case, torch):
    with pytest.raises(case.error):
        case.call(torch)


# ------------------------------------------------------------------ autograd errors

def test_autograd_errors_say_what_to_do():
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward.*scalar outputs.*\(2,\).*ones_like"):
        (x * 2).backward()
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"MulBackward0.*second time.*retain_graph=True"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"add_.*leaf tensor that requires grad.*no_grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match=r"requires_grad.*leaf.*detach"):
        (x * 2).requires_grad = False
    with pytest.raises(RuntimeError, match=r"numpy.*requires grad.*detach"):
        x.numpy()


def test_device_mismatch_names_the_op_and_both_devices(monkeypatch):
    # No GPU here: give one tensor a pretend CUDA device; the message is what is checked.
    from labgrad.ops._util import check_same_device
    cpu, gpu = lg.ones(2), lg.ones(2)
    gpu._pretend_device = lg.device("cuda", 0)
    real = lg.Tensor.device
    monkeypatch.setattr(lg.Tensor, "device", property(
        lambda self: self.__dict__.get("_pretend_device") or real.fget(self)))
    with pytest.raises(RuntimeError, match=r"add: expected all tensors on the same device.*"
                                           r"\(float32, cpu\).*\(float32, cuda:0\)"):
        check_same_device("add", cpu, gpu)
