"""ctc_loss and nn.CTCLoss: against PyTorch (padded and concatenated targets, unequal
lengths, repeated labels, impossible alignments with and without zero_infinity), a brute-force
sum over alignments, and errors."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn
import labgrad.nn.functional as F


def _log_softmax(x):
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _batch(seed=0):
    """(log_probs (T, N, C), padded targets, input lengths, target lengths): sequence 1 has a
    repeated label, sequence 2 is padded with -1, sequence 3 cannot be aligned (2 steps for
    3 labels)."""
    rng = np.random.default_rng(seed)
    log_probs = _log_softmax(rng.standard_normal((9, 4, 5)))
    targets = rng.integers(1, 5, (4, 4))
    targets[1, 1] = targets[1, 0]
    targets[2, 2:] = -1
    return log_probs, targets, np.array([9, 8, 6, 2]), np.array([4, 3, 2, 3])


def _run(lib, functional, log_probs, targets, input_lengths, target_lengths, **kwargs):
    x = lib.tensor(log_probs, requires_grad=True)
    out = functional.ctc_loss(x, lib.tensor(targets), lib.tensor(input_lengths),
                              lib.tensor(target_lengths), **kwargs)
    g = np.random.default_rng(1).standard_normal(tuple(out.shape))
    out.backward(lib.tensor(g))
    return out.detach().numpy(), x.grad.numpy()


def _assert_same(mine, theirs):
    for m, t in zip(mine, theirs):
        assert m.shape == t.shape
        np.testing.assert_allclose(m, t, rtol=1e-7, atol=1e-12)  # nan where torch has nan


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_matches_torch(torch, reduction, zero_infinity, concatenated):
    log_probs, targets, input_lengths, target_lengths = _batch()
    if concatenated:
        targets = np.concatenate([row[:n] for row, n in zip(targets, target_lengths)])
    kwargs = {"reduction": reduction, "zero_infinity": zero_infinity}
    mine = _run(lg, F, log_probs, targets, input_lengths, target_lengths, **kwargs)
    theirs = _run(torch, torch.nn.functional, log_probs, targets, input_lengths,
                  target_lengths, **kwargs)
    _assert_same(mine, theirs)


@pytest.mark.torch
def test_ctc_unbatched_blank_and_float32_match_torch(torch):
    log_probs, targets, _, _ = _batch()
    single = log_probs[:, 0].astype(np.float32)
    labels = np.where(targets[0] == 2, 0, targets[0])  # blank=2: no label may be 2
    mine = _run(lg, F, single, labels, np.array(9), np.array(4), blank=2, reduction="none")
    theirs = _run(torch, torch.nn.functional, single, labels, np.array(9), np.array(4),
                  blank=2, reduction="none")
    assert mine[0].shape == () and mine[1].dtype == np.float32
    for m, t in zip(mine, theirs):
        np.testing.assert_allclose(m, t, rtol=1e-5, atol=1e-6)


@pytest.mark.torch
def test_ctc_layer_matches_torch(torch):
    log_probs, targets, input_lengths, target_lengths = _batch()
    mine, theirs = nn.CTCLoss(blank=0, zero_infinity=True), torch.nn.CTCLoss(zero_infinity=True)
    assert repr(mine) == repr(theirs)
    args = (targets, input_lengths, target_lengths)
    want = theirs(torch.tensor(log_probs), *map(torch.tensor, args))
    got = mine(lg.tensor(log_probs), *map(lg.tensor, args))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-7)


def test_ctc_is_the_sum_over_alignments():
    """Brute force: every path of length T that collapses (merge repeats, drop blanks) to
    the target."""
    rng = np.random.default_rng(0)
    log_probs = _log_softmax(rng.standard_normal((4, 1, 3)))
    target = (1, 1)
    total = 0.0
    for path in itertools.product(range(3), repeat=4):
        merged = [k for i, k in enumerate(path) if i == 0 or k != path[i - 1]]
        if tuple(k for k in merged if k != 0) == target:
            total += np.exp(sum(log_probs[t, 0, k] for t, k in enumerate(path)))
    loss = F.ctc_loss(lg.tensor(log_probs), lg.tensor([list(target)]), [4], [2],
                      reduction="sum")
    np.testing.assert_allclose(loss.item(), -np.log(total), rtol=1e-10)


def test_ctc_lengths_as_lists():
    log_probs, targets, input_lengths, target_lengths = _batch()
    a = F.ctc_loss(lg.tensor(log_probs), lg.tensor(targets), input_lengths.tolist(),
                   tuple(target_lengths.tolist()), reduction="none")
    b = F.ctc_loss(lg.tensor(log_probs), lg.tensor(targets), lg.tensor(input_lengths),
                   lg.tensor(target_lengths), reduction="none")
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_ctc_second_derivative_is_not_implemented():
    log_probs, targets, input_lengths, target_lengths = _batch()
    x = lg.tensor(log_probs, requires_grad=True)
    loss = F.ctc_loss(x, lg.tensor(targets), input_lengths, target_lengths)
    with pytest.raises(NotImplementedError, match="ctc_loss: the second derivative"):
        lg.autograd.grad(loss, [x], create_graph=True)


def test_ctc_errors():
    log_probs, targets, input_lengths, target_lengths = _batch()
    x, t = lg.tensor(log_probs), lg.tensor(targets)
    with pytest.raises(RuntimeError, match=r"input_lengths must be in \[0, 9\]"):
        F.ctc_loss(x, t, [10, 8, 6, 2], target_lengths)
    with pytest.raises(RuntimeError, match="target_lengths must have one length for each of "
                                           "the 4 sequences, got 3"):
        F.ctc_loss(x, t, input_lengths, [1, 2, 3])
    bad = targets.copy()
    bad[1, 2] = 7
    with pytest.raises(IndexError, match=r"target label 7 is out of bounds: labels must be in "
                                         r"\[0, 5\)"):
        F.ctc_loss(x, lg.tensor(bad), input_lengths, target_lengths)
    with pytest.raises(RuntimeError, match="blank=5 must be a class index"):
        F.ctc_loss(x, t, input_lengths, target_lengths, blank=5)
    with pytest.raises(RuntimeError, match="1-d concatenated with sum"):
        F.ctc_loss(x, lg.tensor([1, 2, 3]), input_lengths, target_lengths)
    with pytest.raises(RuntimeError, match=r"expected log_probs of shape \(T, N, C\)"):
        F.ctc_loss(lg.randn(2, 3, 4, 5), t, input_lengths, target_lengths)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_ctc_gradcheck_through_log_softmax(reduction):
    """PyTorch's CTC gradient is exact for log-softmax outputs (it leaves out a term that
    log_softmax's backward cancels), so check it from the logits."""
    from labgrad.autograd import gradcheck
    _, targets, input_lengths, target_lengths = _batch()
    logits = lg.tensor(np.random.default_rng(2).standard_normal((9, 4, 5)), requires_grad=True)

    def loss(x):
        return F.ctc_loss(x.log_softmax(2), lg.tensor(targets), input_lengths[:3].tolist() + [9],
                          target_lengths, reduction=reduction)

    assert gradcheck(loss, [logits])
