"""embedding, embedding_bag, one_hot and the Embedding/EmbeddingBag layers."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn
import labgrad.nn.functional as F
from labgrad.autograd import gradcheck, gradgradcheck

INDICES = np.array([[1, 2, 1, 0], [3, 3, 9, 0]])
FLAT = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0])
OFFSETS = np.array([0, 2, 2, 5])


def _weight(seed=0, rows=10, dim=4):
    values = np.random.default_rng(seed).standard_normal((rows, dim))
    return lg.tensor(values, requires_grad=True)


def test_embedding_gradcheck():
    index = lg.tensor(INDICES)
    assert gradcheck(lambda w: F.embedding(index, w), (_weight(),))
    assert gradgradcheck(lambda w: F.embedding(index, w) ** 2, (_weight(),))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(mode):
    index, offsets = lg.tensor(FLAT), lg.tensor(OFFSETS)
    assert gradcheck(lambda w: F.embedding_bag(index, w, offsets, mode=mode), (_weight(),))
    weights = lg.tensor(np.linspace(0.5, 2, 9), requires_grad=True)
    if mode == "sum":
        assert gradcheck(lambda w, p: F.embedding_bag(index, w, offsets, mode=mode,
                                                      per_sample_weights=p),
                         (_weight(), weights))


def _both(torch, seed=0):
    values = np.random.default_rng(seed).standard_normal((10, 4))
    return lg.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)


def _check(torch, mine, theirs, w, wt, extra=()):
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-6,
                               atol=1e-9)
    g = np.random.default_rng(5).standard_normal(tuple(theirs.shape))
    mine.backward(lg.tensor(g))
    theirs.backward(torch.tensor(g))
    np.testing.assert_allclose(w.grad.numpy(), wt.grad.numpy(), rtol=1e-6, atol=1e-9)
    for a, b in extra:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.torch
@pytest.mark.parametrize("options", [{}, {"padding_idx": 0}, {"padding_idx": -1},
                                     {"scale_grad_by_freq": True},
                                     {"padding_idx": 3, "scale_grad_by_freq": True}])
def test_embedding_matches_torch(torch, options):
    w, wt = _both(torch)
    _check(torch, F.embedding(lg.tensor(INDICES), w, **options),
           torch.nn.functional.embedding(torch.tensor(INDICES), wt, **options), w, wt)


@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0])
def test_max_norm_renormalizes_in_place_as_torch(torch, norm_type):
    values = np.random.default_rng(0).standard_normal((10, 4)) * 2
    w, wt = lg.tensor(values.copy()), torch.tensor(values.copy())
    F.embedding(lg.tensor(INDICES), w, max_norm=1.5, norm_type=norm_type)
    torch.nn.functional.embedding(torch.tensor(INDICES), wt, max_norm=1.5, norm_type=norm_type)
    np.testing.assert_allclose(w.numpy(), wt.numpy(), rtol=1e-6)
    assert (w.numpy()[5] == values[5]).all()  # rows not looked up are untouched


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
@pytest.mark.parametrize("include_last_offset", [False, True])
def test_embedding_bag_matches_torch(torch, mode, padding_idx, include_last_offset):
    w, wt = _both(torch)
    options = dict(mode=mode, padding_idx=padding_idx, include_last_offset=include_last_offset)
    offsets = np.append(OFFSETS, len(FLAT)) if include_last_offset else OFFSETS
    _check(torch, F.embedding_bag(lg.tensor(FLAT), w, lg.tensor(offsets), **options),
           torch.nn.functional.embedding_bag(torch.tensor(FLAT), wt, torch.tensor(offsets),
                                             **options), w, wt)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_matches_torch(torch, mode):
    w, wt = _both(torch)
    _check(torch, F.embedding_bag(lg.tensor(INDICES), w, mode=mode),
           torch.nn.functional.embedding_bag(torch.tensor(INDICES), wt, mode=mode), w, wt)


@pytest.mark.torch
def test_per_sample_weights_match_torch(torch):
    w, wt = _both(torch)
    pn = np.random.default_rng(1).standard_normal(len(FLAT))
    p, pt = lg.tensor(pn, requires_grad=True), torch.tensor(pn, requires_grad=True)
    options = dict(mode="sum", padding_idx=2)
    _check(torch, F.embedding_bag(lg.tensor(FLAT), w, lg.tensor(OFFSETS),
                                  per_sample_weights=p, **options),
           torch.nn.functional.embedding_bag(torch.tensor(FLAT), wt, torch.tensor(OFFSETS),
                                             per_sample_weights=pt, **options), w, wt,
           extra=[(p, pt)])


@pytest.mark.torch
def test_layers_match_torch(torch):
    for args, kwargs in [((10, 3), {}), ((10, 3), {"padding_idx": -2, "max_norm": 1.0}),
                         ((10, 3), {"sparse": True, "scale_grad_by_freq": True})]:
        mine, theirs = nn.Embedding(*args, **kwargs), torch.nn.Embedding(*args, **kwargs)
        assert repr(mine) == repr(theirs)
        assert list(mine.state_dict()) == list(theirs.state_dict())
        assert mine.padding_idx == theirs.padding_idx
    mine, theirs = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=1), \
        torch.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=1)
    assert repr(mine) == repr(theirs)
    assert mine(lg.tensor(INDICES)).shape == (2, 3)


def test_embedding_init_and_padding_row():
    lg.manual_seed(0)
    layer = nn.Embedding(2000, 8, padding_idx=3)
    w = layer.weight.detach().numpy()
    assert (w[3] == 0).all()
    assert abs(w.std() - 1) < 0.03 and abs(w.mean()) < 0.03
    out = layer(lg.tensor([[3, 4]]))
    out.sum().backward()
    assert (layer.weight.grad.numpy()[3] == 0).all() and (layer.weight.grad.numpy()[4] == 1).all()


def test_from_pretrained():
    table = lg.randn(5, 2)
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad
    assert lg.equal(frozen(lg.tensor([1])), table[1:2])
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad and lg.equal(trainable.weight[0], table[0])
    bag = nn.EmbeddingBag.from_pretrained(table, mode="sum")
    assert lg.allclose(bag(lg.tensor([[0, 1]])), (table[0] + table[1]).unsqueeze(0))
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(lg.randn(5))


def test_one_hot():
    out = F.one_hot(lg.tensor([[0, 2], [1, 1]]))
    assert out.dtype == lg.int64 and out.shape == (2, 2, 3)
    assert out.numpy().tolist() == [[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [0, 1, 0]]]
    assert F.one_hot(lg.tensor([1]), 4).shape == (1, 4)
    with pytest.raises(RuntimeError, match="smaller than num_classes"):
        F.one_hot(lg.tensor([5]), 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        F.one_hot(lg.tensor([-1]))
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(lg.tensor([1.0]))


def test_errors():
    w = lg.randn(10, 3)
    with pytest.raises(IndexError, match="index 10 is out of range.*10 rows"):
        F.embedding(lg.tensor([1, 10]), w)
    with pytest.raises(RuntimeError, match="integer tensor"):
        F.embedding(lg.tensor([1.0]), w)
    with pytest.raises(AssertionError, match="Padding_idx"):
        nn.Embedding(10, 3, padding_idx=10)
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(lg.tensor([1, 2]), w)
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(lg.tensor([[1, 2]]), w, lg.tensor([0]))
    with pytest.raises(ValueError, match="mode has to be one of"):
        F.embedding_bag(lg.tensor([[1, 2]]), w, mode="min")
    with pytest.raises(NotImplementedError, match="per_sample_weights"):
        F.embedding_bag(lg.tensor([[1, 2]]), w, mode="mean", per_sample_weights=lg.ones(1, 2))
