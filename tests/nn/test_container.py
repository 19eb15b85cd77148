"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import labgrad
from labgrad import nn


class Scale(nn.Module):
    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, x):
        return x * self.k

    def extra_repr(self):
        return f"k={self.k}"


def _ks(container):
    return [m.k for m in container]


# ------------------------------------------------------------------ Sequential

def test_sequential_runs_in_order_and_names_children():
    seq = nn.Sequential(Scale(2), Scale(3))
    assert seq(labgrad.ones(1)).item() == 6.0
    assert list(seq._modules) == ["0", "1"]
    named = nn.Sequential(OrderedDict([("a", Scale(1)), ("b", Scale(5))]))
    assert list(named._modules) == ["a", "b"] and named.b.k == 5
    assert nn.Sequential()(labgrad.ones(1)).item() == 1.0  # empty: the identity


def test_sequential_indexing_slicing_and_assignment():
    seq = nn.Sequential(*(Scale(k) for k in range(5)))
    assert seq[-1].k == 4 and seq[1].k == 1
    part = seq[1:4:2]
    assert type(part) is nn.Sequential and _ks(part) == [1, 3]
    assert list(part._modules) == ["1", "3"]  # slicing keeps the names, as PyTorch
    seq[0] = Scale(9)
    assert seq[0].k == 9
    with pytest.raises(IndexError, match="index 5 is out of range"):
        seq[5]
    with pytest.raises(IndexError):
        seq[-6] = Scale(0)
    assert len(seq) == 5 and _ks(iter(seq)) == [9, 1, 2, 3, 4]


def test_sequential_deletion_renumbers():
    seq = nn.Sequential(*(Scale(k) for k in range(5)))
    del seq[1]
    assert _ks(seq) == [0, 2, 3, 4] and list(seq._modules) == ["0", "1", "2", "3"]
    del seq[::2]
    assert _ks(seq) == [2, 4] and list(seq._modules) == ["0", "1"]
    assert seq.pop(0).k == 2 and _ks(seq) == [4]
    assert list(seq.state_dict()) == []


def test_sequential_append_insert_extend_add_mul():
    seq = nn.Sequential(Scale(1))
    assert seq.append(Scale(2)) is seq
    seq.insert(0, Scale(0))
    seq.insert(-1, Scale(5))
    assert _ks(seq) == [0, 1, 5, 2]
    seq.extend([Scale(7)])
    assert _ks(seq) == [0, 1, 5, 2, 7]
    with pytest.raises(IndexError, match="Index out of range"):
        seq.insert(10, Scale(0))
    with pytest.raises(AssertionError, match="module should be of type"):
        seq.insert(0, 3)
    a, b = nn.Sequential(Scale(1)), nn.Sequential(Scale(2))
    both = a + b
    assert _ks(both) == [1, 2] and both[0] is a[0]
    with pytest.raises(ValueError, match="only objects of Sequential"):
        a + [Scale(3)]
    a += b
    assert _ks(a) == [1, 2]
    tripled = b * 3
    assert _ks(tripled) == [2, 2, 2] and tripled[0] is tripled[2]
    assert _ks(2 * b) == [2, 2]
    b *= 2
    assert _ks(b) == [2, 2]
    with pytest.raises(ValueError, match="Non-positive"):
        b * 0
    with pytest.raises(TypeError):
        b * 1.5


def test_sequential_parameters_and_gradients_flow():
    seq = nn.Sequential(OrderedDict(first=nn.Module(), second=nn.Module()))
    seq.first.forward = lambda x: x  # an instance-level forward, as some code does
    seq.second.w = nn.Parameter(labgrad.tensor([2.0]))
    seq.second.forward = lambda x: x * seq.second.w
    x = labgrad.tensor([3.0], requires_grad=True)
    seq(x).sum().backward()
    assert [n for n, _ in seq.named_parameters()] == ["second.w"]
    assert seq.second.w.grad.item() == 3.0 and x.grad.item() == 2.0


# ------------------------------------------------------------------ ModuleList

def test_module_list_api():
    ml = nn.ModuleList([Scale(0), Scale(1)])
    ml.append(Scale(2))
    ml.extend([Scale(3)])
    ml += [Scale(4)]
    ml.insert(1, Scale(9))
    assert _ks(ml) == [0, 9, 1, 2, 3, 4] and len(ml) == 6
    assert ml[-1].k == 4 and _ks(ml[1:3]) == [9, 1] and type(ml[1:3]) is nn.ModuleList
    ml[0] = Scale(7)
    del ml[1]
    assert _ks(ml) == [7, 1, 2, 3, 4] and list(ml._modules) == ["0", "1", "2", "3", "4"]
    assert ml.pop(-1).k == 4
    combined = ml + nn.ModuleList([Scale(8)])
    assert _ks(combined) == [7, 1, 2, 3, 8] and combined[0] is ml[0]
    del ml[::2]
    assert _ks(ml) == [1, 3]
    with pytest.raises(IndexError, match="out of range"):
        ml[2]
    with pytest.raises(TypeError, match="extend should be called with an iterable"):
        ml.extend(Scale(1))
    with pytest.raises(NotImplementedError, match="missing the required"):
        ml(labgrad.ones(1))


def test_module_list_registers_parameters():
    ml = nn.ModuleList(nn.ModuleList() for _ in range(2))
    ml[1].append(nn.Module())
    ml[1][0].w = nn.Parameter(labgrad.zeros(2))
    assert [n for n, _ in ml.named_parameters()] == ["1.0.w"]
    assert "0" not in dir(ml)


# ------------------------------------------------------------------ ModuleDict

def test_module_dict_api():
    md = nn.ModuleDict({"b": Scale(1), "a": Scale(2)})
    assert list(md) == ["b", "a"]  # insertion order (no sorting for modules)
    md["c"] = Scale(3)
    md.update([("d", Scale(4))])
    md.update(nn.ModuleDict({"e": Scale(5)}))
    assert list(md.keys()) == ["b", "a", "c", "d", "e"] and "c" in md and len(md) == 5
    assert [k for k, _ in md.items()] == list(md.keys()) and md["a"].k == 2
    assert md.pop("b").k == 1 and "b" not in md
    del md["a"]
    assert _ks(md.values()) == [3, 4, 5]
    md.clear()
    assert len(md) == 0
    with pytest.raises(TypeError, match="iterable of key/value pairs"):
        md.update(3)
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        md.update([("x", Scale(1), 3)])
    with pytest.raises(TypeError, match="should be Iterable"):
        md.update([5])


# ------------------------------------------------------------------ ParameterList / Dict

def test_parameter_list_api():
    pl = nn.ParameterList([labgrad.zeros(2), nn.Parameter(labgrad.ones(3))])
    assert all(type(p) is nn.Parameter for p in pl) and len(pl) == 2
    pl.append(labgrad.ones(1))
    pl.extend([labgrad.zeros(4)])
    pl += [labgrad.zeros(5)]
    assert [p.shape[0] for p in pl] == [2, 3, 1, 4, 5]
    assert [p.shape[0] for p in pl[1::2]] == [3, 4] and type(pl[1::2]) is nn.ParameterList
    assert pl[-1].shape == (5,)
    pl[0] = labgrad.full((2,), 7.0)
    assert pl[0].tolist() == [7.0, 7.0]
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2", "3", "4"]
    with pytest.raises(TypeError, match="extend should be called with an iterable"):
        pl.extend(labgrad.zeros(2))
    with pytest.raises(RuntimeError, match="should not be called"):
        pl(1)
    with pytest.raises(IndexError):
        pl[9]


def test_parameter_dict_api():
    pd = nn.ParameterDict({"z": labgrad.zeros(1), "a": labgrad.ones(2)})
    assert list(pd) == ["a", "z"]  # a plain dict is added in sorted order, as PyTorch
    pd2 = nn.ParameterDict(OrderedDict([("z", labgrad.zeros(1)), ("a", labgrad.ones(2))]))
    assert list(pd2) == ["z", "a"]
    pd["m"] = labgrad.zeros(3)
    assert type(pd["m"]) is nn.Parameter and "m" in pd and len(pd) == 3
    assert pd.get("nope") is None and pd.setdefault("n", labgrad.ones(1)).shape == (1,)
    key, value = pd.popitem()
    assert key == "n" and value.shape == (1,)
    assert pd.pop("m").shape == (3,)
    assert list(reversed(pd)) == ["z", "a"]
    copied = pd.copy()
    assert copied["a"] is pd["a"] and list(copied) == list(pd)
    merged = pd | nn.ParameterDict({"q": labgrad.zeros(1)})
    assert list(merged) == ["a", "z", "q"] and list(pd) == ["a", "z"]
    pd |= nn.ParameterDict({"r": labgrad.zeros(1)})
    assert list(pd) == ["a", "z", "r"]
    assert list(pd.fromkeys(["x", "y"], labgrad.zeros(1))) == ["x", "y"]
    assert [n for n, _ in pd.named_parameters()] == ["a", "z", "r"]
    del pd["a"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []
    with pytest.raises(TypeError, match="not a string"):
        pd[1] = labgrad.zeros(1)
    with pytest.raises(RuntimeError, match="should not be called"):
        pd(1)


# ------------------------------------------------------------------ vs torch

def _containers(t):
    tnn = t.nn
    m = tnn.Module()
    m.seq = tnn.Sequential(tnn.Sequential(), tnn.Module())
    m.blocks = tnn.ModuleList([tnn.Sequential(tnn.Module()) for _ in range(3)])
    m.blocks.append(tnn.Module())
    m.heads = tnn.ModuleDict({"b": tnn.Module(), "a": tnn.ModuleList()})
    m.pl = tnn.ParameterList([t.zeros(2, 3), tnn.Parameter(t.ones(4, dtype=t.float64))])
    m.pd = tnn.ParameterDict({"w": t.zeros(1, 2), "b": t.zeros(3)})
    m.one = tnn.ParameterList([t.zeros(1)])
    return m


@pytest.mark.torch
def test_reprs_and_state_dict_keys_match_torch(torch):
    ours, theirs = _containers(labgrad), _containers(torch)
    assert repr(ours) == repr(theirs).replace("torch", "labgrad")
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy()), name
