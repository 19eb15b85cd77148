"""The Tensor's own semantics, as PyTorch's: attributes, Size, autograd state, conversions to
Python, NumPy and other dtypes and devices, and the Python protocols."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import labgrad as lg


def _name(dtype) -> str:
    return str(dtype).split(".")[-1]


def _outcome(make):
    """What a call gives: a comparable value, or the class of the error it raises."""
    try:
        value = make()
    except Exception as error:  # noqa: BLE001 - the error type is the outcome compared
        return type(error)
    if hasattr(value, "dtype") and hasattr(value, "shape") and hasattr(value, "tolist"):
        return ("tensor", _name(value.dtype), tuple(value.shape), value.tolist(),
                bool(getattr(value, "requires_grad", False)))
    if isinstance(value, (tuple, list)) and type(value).__name__ == "Size":
        return ("Size", tuple(value))
    text = repr(value) if not isinstance(value, (bool, int, float, str, type(None))) else value
    return text.replace("torch.", "labgrad.") if isinstance(text, str) else text


def _error_family(error):
    for family in (TypeError, IndexError, ValueError, RuntimeError):
        if issubclass(error, family):
            return family
    return error


def _same_outcome(ours, theirs):
    if isinstance(theirs, type):
        assert isinstance(ours, type), f"PyTorch raised {theirs.__name__}, labgrad gave {ours!r}"
        assert _error_family(ours) is _error_family(theirs), (ours, theirs)
    else:
        assert ours == theirs


def _x(m):
    return m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


# ---------------------------------------------------------------- compared with PyTorch

BEHAVIOUR = {
    "shape": lambda m: _x(m).shape,
    "size": lambda m: _x(m).size(),
    "size-dim": lambda m: _x(m).size(1),
    "size-negative-dim": lambda m: _x(m).size(-1),
    "size-bad-dim": lambda m: _x(m).size(5),
    "dim": lambda m: _x(m).dim(),
    "ndim": lambda m: _x(m).ndim,
    "ndimension": lambda m: _x(m).ndimension(),
    "numel": lambda m: _x(m).numel(),
    "nelement": lambda m: _x(m).nelement(),
    "numel-0d": lambda m: m.tensor(3).numel(),
    "dtype": lambda m: _x(m).dtype,
    "device": lambda m: _x(m).device,
    "is_leaf": lambda m: _x(m).is_leaf,
    "is_leaf-result": lambda m: (m.ones(2, requires_grad=True) * 2).is_leaf,
    "is_leaf-no-grad-result": lambda m: (m.ones(2) * 2).is_leaf,
    "requires_grad": lambda m: _x(m).requires_grad,
    "requires_grad-result": lambda m: (m.ones(2, requires_grad=True) * 2).requires_grad,
    "grad": lambda m: _x(m).grad,
    "grad_fn": lambda m: _x(m).grad_fn,
    "grad_fn-name": lambda m: (m.ones(2, requires_grad=True) * 2).grad_fn.name(),
    "T": lambda m: _x(m).T,
    "T-1d": lambda m: m.tensor([1, 2]).T,
    "mT": lambda m: _x(m).mT,
    "mT-3d": lambda m: m.zeros(2, 3, 4).mT.shape,
    "mT-1d": lambda m: m.tensor([1, 2]).mT,
    "data": lambda m: _x(m).data,
    "data-requires-grad": lambda m: m.ones(2, requires_grad=True).data.requires_grad,
    "data-is-leaf": lambda m: (m.ones(2, requires_grad=True) * 2).data.is_leaf,
    "item-float": lambda m: m.tensor(2.5).item(),
    "item-float-value": lambda m: m.tensor(0.1).item(),
    "item-int": lambda m: m.tensor(2).item(),
    "item-bool": lambda m: m.tensor(True).item(),
    "item-half": lambda m: m.tensor(2.5, dtype=m.float16).item(),
    "item-bfloat16": lambda m: m.tensor(0.1, dtype=m.bfloat16).item(),
    "item-uint8": lambda m: m.tensor(200, dtype=m.uint8).item(),
    "item-one-element": lambda m: m.tensor([[3]]).item(),
    "item-many": lambda m: m.tensor([1, 2]).item(),
    "item-empty": lambda m: m.tensor([]).item(),
    "item-type-f64": lambda m: type(m.tensor(2.5, dtype=m.float64).item()).__name__,
    "item-type-i32": lambda m: type(m.tensor(2, dtype=m.int32).item()).__name__,
    "item-type-bool": lambda m: type(m.tensor(True).item()).__name__,
    "item-type-f16": lambda m: type(m.tensor(1, dtype=m.float16).item()).__name__,
    "tolist": lambda m: _x(m).tolist(),
    "tolist-0d": lambda m: m.tensor(3.5).tolist(),
    "tolist-int": lambda m: m.tensor([[1, 2]]).tolist(),
    "tolist-bool": lambda m: m.tensor([True, False]).tolist(),
    "tolist-half": lambda m: m.tensor([0.1, 1 / 3], dtype=m.float16).tolist(),
    "tolist-bfloat16": lambda m: m.tensor([0.1, 1 / 3], dtype=m.bfloat16).tolist(),
    "tolist-float32-values": lambda m: m.tensor([0.1]).tolist(),
    "tolist-types": lambda m: [type(v).__name__ for v in m.tensor([1, 2], dtype=m.int8).tolist()],
    "tolist-empty": lambda m: m.zeros(2, 0).tolist(),
    "numpy-requires-grad": lambda m: m.ones(2, requires_grad=True).numpy(),
    "numpy": lambda m: m.ones(2).numpy().tolist(),
    "numpy-force": lambda m: m.ones(2, requires_grad=True).numpy(force=True).tolist(),
    "array": lambda m: np.asarray(m.ones(2)).tolist(),
    "array-requires-grad": lambda m: np.asarray(m.ones(2, requires_grad=True)),
    "array-dtype": lambda m: str(np.asarray(m.ones(2), dtype=np.float64).dtype),
    "array-0d": lambda m: np.asarray(m.tensor(3)).tolist(),
    "to-dtype": lambda m: _x(m).to(m.float64),
    "to-device-string": lambda m: _x(m).to("cpu"),
    "to-device": lambda m: _x(m).to(m.device("cpu")),
    "to-dtype-keyword": lambda m: _x(m).to(dtype=m.int32),
    "to-both-keywords": lambda m: _x(m).to(device="cpu", dtype=m.float16),
    "to-other": lambda m: _x(m).to(m.tensor([1], dtype=m.int8)),
    "to-device-dtype": lambda m: _x(m).to("cpu", m.float64),
    "to-device-dtype-flags": lambda m: _x(m).to("cpu", m.float64, False, True),
    "to-dtype-flags": lambda m: _x(m).to(m.float64, False, True),
    "to-same-is-self": lambda m: (lambda t: t.to(m.float32) is t)(_x(m)),
    "to-copy-is-new": lambda m: (lambda t: t.to(m.float32, copy=True) is t)(_x(m)),
    "to-python-float": lambda m: _x(m).to(float),
    "to-python-int": lambda m: _x(m).to(int),
    "to-python-bool": lambda m: _x(m).to(bool),
    "to-dtype-name-is-a-device": lambda m: _x(m).to("float64"),
    "to-bad-device": lambda m: _x(m).to("xyz"),
    "to-none": lambda m: _x(m).to(None),
    "to-dtype-then-device": lambda m: _x(m).to(m.float64, "cpu"),
    "to-non-blocking": lambda m: _x(m).to("cpu", non_blocking=True),
    "to-keeps-graph": lambda m: m.ones(2, requires_grad=True).to(m.float64).grad_fn.name(),
    "to-int-drops-grad": lambda m: m.ones(2, requires_grad=True).to(m.int64).requires_grad,
    "float": lambda m: m.tensor([1, 2]).float(),
    "double": lambda m: m.tensor([1, 2]).double(),
    "half": lambda m: m.tensor([1, 2]).half(),
    "bfloat16": lambda m: m.tensor([1, 2]).bfloat16(),
    "long": lambda m: _x(m).long(),
    "int": lambda m: (_x(m) * 1.7).int(),
    "short": lambda m: _x(m).short(),
    "char": lambda m: _x(m).char(),
    "byte": lambda m: _x(m).byte(),
    "bool": lambda m: m.tensor([0.0, 2.0]).bool(),
    "type_as": lambda m: _x(m).type_as(m.tensor([1])),
    "type-name": lambda m: _x(m).type(),
    "type-name-int": lambda m: m.tensor([1]).type(),
    "type-name-bool": lambda m: m.tensor([True]).type(),
    "type-name-half": lambda m: m.tensor([1.0], dtype=m.float16).type(),
    "type-name-bfloat16": lambda m: m.tensor([1.0], dtype=m.bfloat16).type(),
    "type-string": lambda m: _x(m).type(f"{m.__name__}.IntTensor"),
    "type-bad-string": lambda m: _x(m).type("IntTensor"),
    "type-dtype": lambda m: _x(m).type(m.float64),
    "type-same-is-self": lambda m: (lambda t: t.type(m.float32) is t)(_x(m)),
    "cpu": lambda m: _x(m).cpu(),
    "cpu-is-self": lambda m: (lambda t: t.cpu() is t)(_x(m)),
    "len": lambda m: len(_x(m)),
    "len-0d": lambda m: len(m.tensor(1)),
    "iter": lambda m: [t.tolist() for t in m.tensor([[1, 2], [3, 4]])],
    "iter-0d": lambda m: list(m.tensor(1)),
    "bool-many": lambda m: bool(m.tensor([1, 2])),
    "bool-one": lambda m: bool(m.tensor([0])),
    "bool-empty": lambda m: bool(m.tensor([])),
    "bool-float": lambda m: bool(m.tensor(0.5)),
    "int()": lambda m: int(m.tensor(2.7)),
    "int()-one-element": lambda m: int(m.tensor([-2.7])),
    "int()-many": lambda m: int(m.tensor([1, 2])),
    "float()": lambda m: float(m.tensor(2)),
    "float()-nested": lambda m: float(m.tensor([[2]])),
    "complex()": lambda m: complex(m.tensor(2.5)),
    "index": lambda m: [1, 2, 3][m.tensor(1)],
    "index-bool": lambda m: [1, 2, 3][m.tensor(True)],
    "index-float": lambda m: [1, 2, 3][m.tensor(1.0)],
    "index-many": lambda m: [1, 2, 3][m.tensor([1, 2])],
    "range-index": lambda m: list(range(m.tensor(3))),
    "format-0d-spec": lambda m: f"{m.tensor(2.5):.2f}",
    "format-0d-plain": lambda m: f"{m.tensor(2.5)}",
    "format-0d-int": lambda m: f"{m.tensor(3):>5}",
    "format-1d-plain": lambda m: f"{m.tensor([2.5])}",
    "format-1d-spec": lambda m: f"{m.tensor([2.5]):.2f}",
    "str": lambda m: str(m.tensor([1.5, 2.0])),
    "Size": lambda m: m.Size([2, 3]),
    "Size-numel": lambda m: m.Size([2, 3]).numel(),
    "Size-numel-empty": lambda m: m.Size([]).numel(),
    "Size-slice": lambda m: m.zeros(2, 3, 4).shape[1:],
    "Size-item-type": lambda m: type(m.zeros(2, 3).shape[0]).__name__,
    "Size-plus-tuple": lambda m: m.zeros(2).shape + (3,),
    "tuple-plus-Size": lambda m: (4,) + m.zeros(2, 3).shape,
    "Size-times": lambda m: m.Size([2, 3]) * 2,
    "Size-equals-tuple": lambda m: m.zeros(2).shape == (2,),
    "Size-equals-list": lambda m: m.zeros(2).shape == [2],
    "Size-str": lambda m: str(m.zeros(2, 3).shape),
    "Size-repr-empty": lambda m: repr(m.Size([])),
    "Size-float": lambda m: m.Size([2.5]),
    "Size-numpy-int": lambda m: m.Size([np.int64(2)]),
    "Size-tensor-int": lambda m: m.Size([m.tensor(2)]),
    "Size-int": lambda m: m.Size(3),
    "stride": lambda m: _x(m).stride(),
    "stride-dim": lambda m: _x(m).stride(0),
    "stride-T": lambda m: _x(m).T.stride(),
    "is_contiguous": lambda m: _x(m).is_contiguous(),
    "is_contiguous-T": lambda m: _x(m).T.is_contiguous(),
    "element_size": lambda m: _x(m).element_size(),
    "element_size-half": lambda m: _x(m).half().element_size(),
    "itemsize": lambda m: _x(m).itemsize,
    "nbytes": lambda m: _x(m).nbytes,
    "is_floating_point": lambda m: m.tensor([1]).is_floating_point(),
    "is_floating_point-half": lambda m: m.tensor([1.0], dtype=m.float16).is_floating_point(),
    "is_complex": lambda m: _x(m).is_complex(),
    "is_cuda": lambda m: _x(m).is_cuda,
    "is_cpu": lambda m: _x(m).is_cpu,
    "requires_grad_-int": lambda m: m.tensor([1]).requires_grad_(),
    "requires_grad_-non-leaf-off": lambda m: (m.ones(2, requires_grad=True) * 2)
    .requires_grad_(False),
    "requires_grad_-non-leaf-on": lambda m: (m.ones(2, requires_grad=True) * 2)
    .requires_grad_(True).requires_grad,
    "requires_grad_-returns-self": lambda m: (lambda t: t.requires_grad_() is t)(m.ones(2)),
    "detach": lambda m: m.ones(2, requires_grad=True).detach(),
    "detach-shares": lambda m: (lambda t: (t.detach().add_(1), t)[1])(m.ones(2)),
    "retains_grad": lambda m: (m.ones(2, requires_grad=True) * 2).retains_grad,
    "version": lambda m: m.ones(2)._version,
    "version-after-inplace": lambda m: m.ones(2).add_(1)._version,
    "grad-wrong-size": lambda m: setattr(m.ones(2), "grad", m.ones(3)),
    "grad-wrong-dtype": lambda m: setattr(m.ones(2), "grad", m.ones(2, dtype=m.float64)),
    "grad-not-a-tensor": lambda m: setattr(m.ones(2), "grad", 3),
    "grad-self": lambda m: (lambda t: setattr(t, "grad", t))(m.ones(2)),
    "grad-ok": lambda m: (lambda t: (setattr(t, "grad", m.ones(2)), t.grad)[1])(m.zeros(2)),
    "grad-int-tensor": lambda m: (lambda t: (setattr(t, "grad", t + 1), t.grad)[1])(
        m.ones(2, dtype=m.int64)),
    "grad-delete": lambda m: (lambda t: (setattr(t, "grad", m.ones(2)), delattr(t, "grad"),
                                         t.grad)[2])(m.zeros(2)),
    "backward-fills-grad": lambda m: (lambda t: ((t * t).sum().backward(), t.grad)[1])(
        m.tensor([1.0, 2.0], requires_grad=True)),
    "is_tensor": lambda m: m.is_tensor(_x(m)),
    "is_tensor-list": lambda m: m.is_tensor([1]),
    "numel-function": lambda m: m.numel(_x(m)),
    "is_floating_point-function": lambda m: m.is_floating_point(_x(m)),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(BEHAVIOUR))
def test_tensor_behaviour_matches_pytorch(case, torch):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's deprecation warnings (x.T on 1-d, ...)
        theirs = _outcome(lambda: BEHAVIOUR[case](torch))
    _same_outcome(_outcome(lambda: BEHAVIOUR[case](lg)), theirs)


# ---------------------------------------------------------------- without PyTorch

def test_attributes():
    t = lg.zeros(2, 3)
    assert isinstance(t.shape, lg.Size) and isinstance(t.shape, tuple)
    assert t.shape == (2, 3) and t.size() == (2, 3) and t.size(0) == 2 and t.size(-1) == 3
    assert t.dim() == t.ndim == 2 and t.numel() == 6
    assert t.dtype is lg.float32 and t.device == lg.device("cpu")
    assert t.is_leaf and not t.requires_grad and t.grad is None and t.grad_fn is None
    assert t.T.shape == (3, 2) and t.mT.shape == (3, 2)
    with pytest.raises(IndexError, match="out of range"):
        t.size(2)


def test_size_is_a_tuple_that_stays_a_size():
    s = lg.Size([2, 3, 4])
    assert repr(s) == "labgrad.Size([2, 3, 4])" and str(s) == repr(s)
    assert isinstance(s[1:], lg.Size) and s[1:] == (3, 4)
    assert isinstance(s + (5,), lg.Size) and isinstance((1,) + s, lg.Size)
    assert isinstance(s * 2, lg.Size) and isinstance(2 * s, lg.Size)
    assert s.numel() == 24 and lg.Size([]).numel() == 1
    assert type(s[0]) is int
    assert copy.deepcopy(s) == s and isinstance(copy.deepcopy(s), lg.Size)
    with pytest.raises(TypeError):
        lg.Size([2.5])
    assert lg.Size([np.int64(2), lg.tensor(3)]) == (2, 3)


def test_item_returns_python_numbers():
    assert type(lg.tensor(2.5).item()) is float
    assert type(lg.tensor(2, dtype=lg.int32).item()) is int
    assert type(lg.tensor(True).item()) is bool
    assert type(lg.tensor(1.5, dtype=lg.bfloat16).item()) is float
    assert lg.tensor([[7]]).item() == 7
    with pytest.raises(RuntimeError, match="2 elements cannot be converted"):
        lg.tensor([1, 2]).item()


def test_tolist_gives_python_values():
    assert lg.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert lg.tensor(3.5).tolist() == 3.5
    assert all(type(v) is float for v in lg.tensor([1.0], dtype=lg.bfloat16).tolist())
    assert lg.tensor([True]).tolist() == [True]


def test_numpy_shares_memory_and_refuses_grad():
    t = lg.zeros(3)
    array = t.numpy()
    array[0] = 5.0
    assert t[0].item() == 5.0
    t[1] = 6.0
    assert array[1] == 6.0
    assert np.asarray(t) is array or np.shares_memory(np.asarray(t), array)
    needs_grad = lg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="requires grad"):
        needs_grad.numpy()
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(needs_grad)
    assert needs_grad.numpy(force=True).tolist() == [1.0, 1.0]
    assert needs_grad.detach().numpy().tolist() == [1.0, 1.0]


def test_array_protocol_with_dtype_and_copy():
    t = lg.arange(3)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    copied = np.array(t, copy=True)
    copied[0] = 9
    assert t[0].item() == 0
    with pytest.raises(ValueError):
        np.asarray(t, dtype=np.float32, copy=False)


def test_to_and_its_shortcuts():
    t = lg.tensor([1.5, -2.5])
    assert t.to(lg.float64).dtype is lg.float64
    assert t.to(float).dtype is lg.float64  # Python float means float64
    assert t.to(int).tolist() == [1, -2]
    assert t.to(t) is t
    assert t.to("cpu") is t and t.cpu() is t
    assert t.to(lg.float32, copy=True) is not t
    assert t.to(device="cpu", dtype=lg.int32).dtype is lg.int32
    assert t.to("cpu", lg.float16).dtype is lg.float16
    shortcuts = {"float": lg.float32, "double": lg.float64, "half": lg.float16,
                 "bfloat16": lg.bfloat16, "long": lg.int64, "int": lg.int32,
                 "short": lg.int16, "char": lg.int8, "byte": lg.uint8, "bool": lg.bool}
    if lg.bfloat16 is None:  # without ml_dtypes there is no bfloat16
        del shortcuts["bfloat16"]
    for method, dtype in shortcuts.items():
        assert getattr(t, method)().dtype is dtype
    assert t.type() == "labgrad.FloatTensor"
    assert t.type("labgrad.DoubleTensor").dtype is lg.float64
    assert t.type("torch.LongTensor").dtype is lg.int64
    assert t.type_as(lg.tensor([1], dtype=lg.int8)).dtype is lg.int8
    with pytest.raises(TypeError):
        t.to("cpu", lg.float32, "yes")
    with pytest.raises(TypeError):
        t.to(object())
    with pytest.raises(RuntimeError):
        t.to("float64")  # a string is always a device, as in PyTorch
    with pytest.raises(ValueError):
        t.type("FloatTensor")


def test_to_is_differentiable():
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(lg.float64)
    assert y.grad_fn is not None and y.grad_fn.name() == "ToCopyBackward0"
    (y * y).sum().backward()
    assert x.grad.dtype is lg.float32 and x.grad.tolist() == [2.0, 4.0]


def test_requires_grad_rules():
    assert lg.ones(2).requires_grad_().requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        lg.tensor([1]).requires_grad_()
    y = lg.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    assert y.requires_grad_(True) is y


def test_grad_assignment_is_checked():
    t = lg.zeros(2)
    t.grad = lg.ones(2)
    assert t.grad.tolist() == [1.0, 1.0]
    del t.grad
    assert t.grad is None
    with pytest.raises(RuntimeError, match="size"):
        t.grad = lg.ones(3)
    with pytest.raises(RuntimeError, match="dtype"):
        t.grad = lg.ones(2, dtype=lg.float64)
    with pytest.raises(TypeError):
        t.grad = [1.0, 1.0]
    with pytest.raises(RuntimeError):
        t.grad = t
    t.grad = None
    assert t.grad is None
    assert not (lg.ones(2, requires_grad=True) * 2).retains_grad


def test_python_protocols():
    assert len(lg.zeros(4, 2)) == 4
    with pytest.raises(TypeError):
        len(lg.tensor(1))
    assert [r.tolist() for r in lg.tensor([[1, 2], [3, 4]])] == [[1, 2], [3, 4]]
    with pytest.raises(TypeError):
        iter(lg.tensor(1))
    assert bool(lg.tensor([1])) and not bool(lg.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(lg.tensor([1, 2]))
    assert int(lg.tensor(2.7)) == 2 and float(lg.tensor(2)) == 2.0
    with pytest.raises(ValueError):
        int(lg.tensor([1, 2]))
    assert [10, 20, 30][lg.tensor(2)] == 30
    with pytest.raises(TypeError):
        [1, 2][lg.tensor(1.0)]
    assert f"{lg.tensor(2.5):.2f}" == "2.50" and f"{lg.tensor(2.5)}" == "2.5"
    assert f"{lg.tensor([2.5])}" == "tensor([2.5000])"
    with pytest.raises(TypeError):
        f"{lg.tensor([2.5]):.2f}"
    a, b = lg.ones(2), lg.ones(2)
    assert hash(a) != hash(b) and len({a, b}) == 2


def test_deepcopy_keeps_values_grad_and_flags():
    t = lg.tensor([1.0, 2.0], requires_grad=True)
    (t * 3).sum().backward()
    clone = copy.deepcopy(t)
    assert clone is not t and clone.requires_grad and clone.is_leaf
    assert clone.tolist() == [1.0, 2.0] and clone.grad.tolist() == [3.0, 3.0]
    clone.data[0] = 9.0
    assert t[0].item() == 1.0
    with pytest.raises(RuntimeError, match="leaf"):
        copy.deepcopy(t * 2)


def test_data_and_detach_share_memory():
    t = lg.ones(2, requires_grad=True)
    d = t.detach()
    assert not d.requires_grad and d.is_leaf
    d[0] = 5.0
    assert t[0].item() == 5.0
    data = t.data
    assert not data.requires_grad
    data[1] = 7.0
    assert t[1].item() == 7.0
    t.data = lg.zeros(2)
    assert t.tolist() == [0.0, 0.0] and t.requires_grad


def test_subclasses_keep_their_type():
    class Marked(lg.Tensor):
        pass

    made = lg.Tensor._make_subclass(Marked, lg.ones(2), True)
    assert type(made) is Marked and made.requires_grad and made.is_leaf
    assert repr(made).startswith("Marked(")
    legacy = Marked([1, 2])
    assert type(legacy) is Marked and legacy.dtype is lg.float32
