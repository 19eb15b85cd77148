"""normalize, cosine_similarity, pairwise_distance, pdist, cdist and their layers."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn
import labgrad.nn.functional as F
from labgrad.autograd import gradcheck, gradgradcheck


def _pair(shape1, shape2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape1), rng.standard_normal(shape2)


CASES = {
    "normalize": lambda a, b: F.normalize(a, p=2.0, dim=1) + b,
    "normalize_p1": lambda a, b: F.normalize(a, p=1.0, dim=0) + b,
    "cosine_similarity": lambda a, b: F.cosine_similarity(a, b),
    "cosine_similarity_dim0": lambda a, b: F.cosine_similarity(a, b, dim=0),
    "pairwise_distance": lambda a, b: F.pairwise_distance(a, b),
    "pairwise_distance_p1": lambda a, b: F.pairwise_distance(a, b, p=1.0, keepdim=True),
    "pdist": lambda a, b: F.pdist(a) + b.sum(),
    "pdist_p3": lambda a, b: F.pdist(a, p=3) + b.sum(),
    "cdist": lambda a, b: F.cdist(a, b),
    "cdist_p1": lambda a, b: F.cdist(a, b, p=1.0),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gradcheck(name):
    fn = CASES[name]
    an, bn = _pair((4, 3), (4, 3))
    args = (lg.tensor(an, requires_grad=True), lg.tensor(bn, requires_grad=True))
    assert gradcheck(fn, args)
    assert gradgradcheck(fn, args)


@pytest.mark.torch
@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("shapes", [((4, 3), (4, 3)), ((4, 3), (1, 3))])
def test_matches_torch(torch, name, shapes):
    fn = CASES[name]
    an, bn = _pair(*shapes)
    if name.startswith("pdist"):
        bn = bn[:1]
    a, b = lg.tensor(an, requires_grad=True), lg.tensor(bn, requires_grad=True)
    at, bt = torch.tensor(an, requires_grad=True), torch.tensor(bn, requires_grad=True)
    y = fn(a, b)
    yt = _torch_version(torch, name)(at, bt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-9)
    g = np.random.default_rng(3).standard_normal(tuple(yt.shape))
    y.backward(lg.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy(), rtol=1e-6, atol=1e-9)


def _torch_version(torch, name):
    TF = torch.nn.functional
    return {
        "normalize": lambda a, b: TF.normalize(a, p=2.0, dim=1) + b,
        "normalize_p1": lambda a, b: TF.normalize(a, p=1.0, dim=0) + b,
        "cosine_similarity": lambda a, b: TF.cosine_similarity(a, b),
        "cosine_similarity_dim0": lambda a, b: TF.cosine_similarity(a, b, dim=0),
        "pairwise_distance": lambda a, b: TF.pairwise_distance(a, b),
        "pairwise_distance_p1": lambda a, b: TF.pairwise_distance(a, b, p=1.0, keepdim=True),
        "pdist": lambda a, b: TF.pdist(a) + b.sum(),
        "pdist_p3": lambda a, b: TF.pdist(a, p=3) + b.sum(),
        "cdist": lambda a, b: torch.cdist(a, b),
        "cdist_p1": lambda a, b: torch.cdist(a, b, p=1.0),
    }[name]


@pytest.mark.torch
def test_layers_match_torch(torch):
    an, bn = _pair((5, 4), (5, 4))
    for mine, theirs in [(nn.CosineSimilarity(), torch.nn.CosineSimilarity()),
                         (nn.CosineSimilarity(dim=0, eps=1e-3),
                          torch.nn.CosineSimilarity(dim=0, eps=1e-3)),
                         (nn.PairwiseDistance(), torch.nn.PairwiseDistance()),
                         (nn.PairwiseDistance(1.0, 1e-3, True),
                          torch.nn.PairwiseDistance(1.0, 1e-3, True))]:
        assert repr(mine) == repr(theirs)
        y, yt = mine(lg.tensor(an), lg.tensor(bn)), theirs(torch.tensor(an), torch.tensor(bn))
        np.testing.assert_allclose(y.numpy(), yt.numpy(), rtol=1e-6)


def test_normalize_zero_vector_and_out():
    x = lg.zeros(2, 3)
    assert lg.equal(F.normalize(x), x)
    out = lg.empty(2, 3)
    assert F.normalize(lg.ones(2, 3), out=out) is out
    np.testing.assert_allclose(out.numpy(), np.full((2, 3), 1 / np.sqrt(3)), rtol=1e-6)


def test_errors():
    with pytest.raises(RuntimeError, match="pdist only supports 2D"):
        F.pdist(lg.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        F.cosine_similarity(lg.ones(2, 3), lg.ones(4, 3))
    with pytest.raises(RuntimeError, match="same number of columns"):
        F.cdist(lg.ones(2, 3), lg.ones(2, 4))
    with pytest.raises(RuntimeError, match="floating point"):
        F.normalize(lg.ones(2, 3, dtype=lg.int64))
