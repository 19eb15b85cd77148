"""RNN, LSTM, GRU, their cells and nn.utils.rnn: against PyTorch with the same weights,
gradcheck of the fused cells, and error cases."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn
from labgrad.autograd import gradcheck, gradgradcheck
from labgrad.nn.utils import rnn as rnn_utils

RNG = np.random.default_rng(0)


def _array(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _copy_weights(torch, ours, theirs):
    """Load the PyTorch module's state_dict into ours (keys must be the same)."""
    state = {k: lg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    result = ours.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys


def _assert_close(ours, theirs, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                               atol=atol)


def _pair(torch, array):
    return lg.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def _outputs(result):
    """The tensors in an RNN's (output, h_n) or (output, (h_n, c_n))."""
    output, state = result
    return [output] + (list(state) if isinstance(state, tuple) else [state])


def _compare_grads(torch, ours, theirs, inputs):
    for name, param in theirs.named_parameters():
        _assert_close(ours.get_parameter(name).grad, param.grad, rtol=1e-4, atol=1e-4)
    for a, b in inputs:
        _assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------ layers vs PyTorch

LAYER_CASES = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
    ("RNN", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("LSTM", {}),
    ("LSTM", {"num_layers": 2, "bidirectional": True}),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True, "proj_size": 3}),
    ("LSTM", {"bias": False}),
    ("GRU", {}),
    ("GRU", {"num_layers": 2, "bidirectional": True}),
    ("GRU", {"num_layers": 2, "batch_first": True, "bias": False}),
]


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("initial", [False, True], ids=["zeros", "h0"])
@pytest.mark.parametrize("kind,kwargs", LAYER_CASES,
                         ids=[f"{k}-{'-'.join(f'{a}={b}' for a, b in kw.items())}"
                              for k, kw in LAYER_CASES])
def test_layer_matches_torch(torch, kind, kwargs, initial):
    theirs = getattr(torch.nn, kind)(4, 5, **kwargs)
    ours = getattr(nn, kind)(4, 5, **kwargs)
    _copy_weights(torch, ours, theirs)
    batch_first = kwargs.get("batch_first", False)
    x, tx = _pair(torch, _array(*((3, 6, 4) if batch_first else (6, 3, 4))))
    inputs = [(x, tx)]
    hx = thx = None
    if initial:
        layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
        h, th = _pair(torch, _array(layers, 3, kwargs.get("proj_size") or 5))
        inputs.append((h, th))
        hx, thx = h, th
        if kind == "LSTM":
            c, tc = _pair(torch, _array(layers, 3, 5))
            inputs.append((c, tc))
            hx, thx = (h, c), (th, tc)
    ours_out, theirs_out = _outputs(ours(x, hx)), _outputs(theirs(tx, thx))
    weights = [_array(*t.shape) for t in theirs_out]
    sum(((o * lg.tensor(w)).sum() for o, w in zip(ours_out, weights)), lg.tensor(0.0)).backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip(theirs_out, weights)).backward()
    for a, b in zip(ours_out, theirs_out):
        assert tuple(a.shape) == tuple(b.shape)
        _assert_close(a, b)
    _compare_grads(torch, ours, theirs, inputs)


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(torch, kind):
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True)
    ours = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True)
    _copy_weights(torch, ours, theirs)
    x = _array(5, 3)
    h = _array(4, 4)
    hx, thx = lg.tensor(h), torch.tensor(h)
    if kind == "LSTM":
        hx, thx = (hx, lg.tensor(h * 2)), (thx, torch.tensor(h * 2))
    for a, b in zip(_outputs(ours(lg.tensor(x), hx)), _outputs(theirs(torch.tensor(x), thx))):
        assert tuple(a.shape) == tuple(b.shape)
        _assert_close(a, b)


@pytest.mark.torch
def test_dropout_between_layers_train_and_eval(torch):
    lstm = nn.LSTM(3, 4, num_layers=3, dropout=0.5)
    x = lg.tensor(_array(5, 2, 3))
    lg.manual_seed(0)
    a = lstm(x)[0]
    lg.manual_seed(1)
    b = lstm(x)[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())  # dropout is on
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].detach().numpy(), lstm(x)[0].detach().numpy())
    theirs = torch.nn.LSTM(3, 4, num_layers=3, dropout=0.5).eval()
    _copy_weights(torch, lstm, theirs)
    _assert_close(lstm(x)[0], theirs(torch.tensor(x.numpy()))[0])


@pytest.mark.torch
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_packed_sequence_input(torch, kind, enforce_sorted):
    lengths = [5, 4, 2] if enforce_sorted else [2, 5, 4]
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True)
    ours = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True)
    _copy_weights(torch, ours, theirs)
    x, tx = _pair(torch, _array(5, 3, 3))
    packed = rnn_utils.pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
    tpacked = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths,
                                                      enforce_sorted=enforce_sorted)
    out, state = ours(packed)
    tout, tstate = theirs(tpacked)
    assert isinstance(out, rnn_utils.PackedSequence)
    np.testing.assert_array_equal(out.batch_sizes.numpy(), tout.batch_sizes.numpy())
    _assert_close(out.data, tout.data)
    padded, _ = rnn_utils.pad_packed_sequence(out)
    tpadded, _ = torch.nn.utils.rnn.pad_packed_sequence(tout)
    ours_all = [padded] + (list(state) if kind == "LSTM" else [state])
    theirs_all = [tpadded] + (list(tstate) if kind == "LSTM" else [tstate])
    for a, b in zip(ours_all, theirs_all):
        _assert_close(a, b)
    weights = [_array(*t.shape) for t in theirs_all]
    sum(((o * lg.tensor(w)).sum() for o, w in zip(ours_all, weights)), lg.tensor(0.0)).backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip(theirs_all, weights)).backward()
    _compare_grads(torch, ours, theirs, [(x, tx)])


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_parameter_names_and_init(torch, kind):
    kwargs = {"num_layers": 2, "bidirectional": True}
    if kind == "LSTM":
        kwargs["proj_size"] = 2
    ours, theirs = getattr(nn, kind)(3, 4, **kwargs), getattr(torch.nn, kind)(3, 4, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert tuple(p.shape) == tuple(tp.shape), name
        assert np.abs(p.detach().numpy()).max() <= 0.5  # U(-1/sqrt(4), 1/sqrt(4))
    assert repr(ours) == repr(theirs)


# ------------------------------------------------------------------ cells

@pytest.mark.torch
@pytest.mark.parametrize("kind,kwargs", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
                                         ("LSTMCell", {}), ("GRUCell", {}),
                                         ("GRUCell", {"bias": False})])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_torch(torch, kind, kwargs, batched):
    theirs, ours = getattr(torch.nn, kind)(3, 4, **kwargs), getattr(nn, kind)(3, 4, **kwargs)
    _copy_weights(torch, ours, theirs)
    lead = (2,) if batched else ()
    x, tx = _pair(torch, _array(*lead, 3))
    h, th = _pair(torch, _array(*lead, 4))
    inputs = [(x, tx), (h, th)]
    if kind == "LSTMCell":
        c, tc = _pair(torch, _array(*lead, 4))
        inputs.append((c, tc))
        ours_out, theirs_out = ours(x, (h, c)), theirs(tx, (th, tc))
    else:
        ours_out, theirs_out = (ours(x, h),), (theirs(tx, th),)
    weights = [_array(*t.shape) for t in theirs_out]
    sum(((o * lg.tensor(w)).sum() for o, w in zip(ours_out, weights)), lg.tensor(0.0)).backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip(theirs_out, weights)).backward()
    for a, b in zip(ours_out, theirs_out):
        _assert_close(a, b)
    _compare_grads(torch, ours, theirs, inputs)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_gradcheck_and_gradgradcheck(kind):
    lg.manual_seed(0)
    cell = getattr(nn, kind)(3, 2).double()
    x, h, c = (lg.tensor(_array(2, n, dtype=np.float64), requires_grad=True) for n in (3, 2, 2))

    def fn(x, h, c):
        if kind == "LSTMCell":
            return cell(x, (h, c))
        return cell(x, h) * c

    assert gradcheck(fn, (x, h, c))
    assert gradgradcheck(fn, (x, h, c))


@pytest.mark.parametrize("mode,size", [("RNN", 2), ("LSTM", 8), ("GRU", 6)])
def test_fused_step_gradcheck_and_gradgradcheck(mode, size):
    """The fused step itself, with the two projections as free inputs."""
    from labgrad.nn.modules.rnn import _cell_step
    xw, hw = (lg.tensor(_array(3, size, dtype=np.float64), requires_grad=True)
              for _ in range(2))
    state = lg.tensor(_array(3, 2, dtype=np.float64), requires_grad=True)
    assert gradcheck(lambda *a: _cell_step(mode, *a), (xw, hw, state))
    assert gradgradcheck(lambda *a: _cell_step(mode, *a), (xw, hw, state))
    if mode == "RNN":
        assert gradcheck(lambda *a: _cell_step(mode, *a, "relu"), (xw, hw, state))


@pytest.mark.parametrize("kind,kwargs", [("LSTM", {"proj_size": 1}), ("GRU", {}),
                                         ("RNN", {"batch_first": True})])
def test_layer_gradcheck_and_gradgradcheck(kind, kwargs):
    """Through the whole-sequence node: its backward in time, and (gradgradcheck) the
    create_graph replay with per-step ops."""
    lg.manual_seed(0)
    layer = getattr(nn, kind)(2, 2, bidirectional=True, **kwargs).double()
    x = lg.tensor(_array(3, 2, 2, dtype=np.float64), requires_grad=True)
    batch = 3 if kwargs.get("batch_first") else 2
    h = lg.tensor(_array(2, batch, kwargs.get("proj_size", 2), dtype=np.float64),
                  requires_grad=True)

    def fn(x, h):
        state = (h, h.sum(-1, keepdim=True).expand(2, batch, 2)) if kind == "LSTM" else h
        return _outputs(layer(x, state))

    assert gradcheck(fn, (x, h))
    assert gradgradcheck(fn, (x, h))


def test_packed_gradcheck():
    lg.manual_seed(0)
    gru = nn.GRU(2, 2, bidirectional=True).double()
    x = lg.tensor(_array(3, 2, 2, dtype=np.float64), requires_grad=True)

    def fn(x):
        out, h = gru(rnn_utils.pack_padded_sequence(x, [3, 2]))
        return out.data, h

    assert gradcheck(fn, (x,))


# ------------------------------------------------------------------ errors

def test_errors():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match="input_size. Expected 3, got 5"):
        lstm(lg.zeros(2, 1, 5))
    with pytest.raises(ValueError, match="2D .* or 3D"):
        lstm(lg.zeros(2, 1, 1, 3))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 1, 4\)"):
        lstm(lg.zeros(2, 1, 3), (lg.zeros(1, 1, 4), lg.zeros(2, 1, 4)))
    with pytest.raises(RuntimeError, match="should also be 3-D"):
        nn.GRU(3, 4)(lg.zeros(2, 1, 3), lg.zeros(1, 4))
    with pytest.raises(ValueError, match="dtype"):
        nn.GRU(3, 4)(lg.zeros(2, 1, 3, dtype=lg.float64))
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.RNN(3, 4, dropout=1.5)
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.RNN(3, 4, dropout=0.5)
    with pytest.raises(RuntimeError, match="inconsistent input_size"):
        nn.GRUCell(3, 4)(lg.zeros(2, 5))


# ------------------------------------------------------------------ nn.utils.rnn

@pytest.mark.torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(torch, batch_first, padding_side):
    arrays = [_array(n, 2) for n in (2, 5, 3)]
    ours = [lg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    a = rnn_utils.pad_sequence(ours, batch_first, -1.0, padding_side)
    b = torch.nn.utils.rnn.pad_sequence(theirs, batch_first, -1.0, padding_side)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    w = _array(*b.shape)
    (a * lg.tensor(w)).sum().backward()
    (b * torch.tensor(w)).sum().backward()
    for x, y in zip(ours, theirs):
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_roundtrip_matches_torch(torch, enforce_sorted, batch_first):
    arrays = [_array(n, 2) for n in ((5, 3, 2) if enforce_sorted else (2, 5, 3))]
    ours = rnn_utils.pack_sequence([lg.tensor(a) for a in arrays], enforce_sorted)
    theirs = torch.nn.utils.rnn.pack_sequence([torch.tensor(a) for a in arrays], enforce_sorted)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    np.testing.assert_array_equal(ours.batch_sizes.numpy(), theirs.batch_sizes.numpy())
    if not enforce_sorted:
        np.testing.assert_array_equal(ours.sorted_indices.numpy(),
                                      theirs.sorted_indices.numpy())
        np.testing.assert_array_equal(ours.unsorted_indices.numpy(),
                                      theirs.unsorted_indices.numpy())
    a, la = rnn_utils.pad_packed_sequence(ours, batch_first, 7.0, total_length=6)
    b, lb = torch.nn.utils.rnn.pad_packed_sequence(theirs, batch_first, 7.0, total_length=6)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(la.numpy(), lb.numpy())
    for x, y in zip(rnn_utils.unpack_sequence(ours), arrays):
        np.testing.assert_array_equal(x.numpy(), y)


def test_pack_errors():
    x = lg.zeros(4, 2, 3)
    with pytest.raises(RuntimeError, match="decreasing"):
        rnn_utils.pack_padded_sequence(x, [2, 3])
    with pytest.raises(RuntimeError, match="greater than 0"):
        rnn_utils.pack_padded_sequence(x, [2, 0])
    with pytest.raises(RuntimeError, match="2 sequences"):
        rnn_utils.pack_padded_sequence(x, [2])
    packed = rnn_utils.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match="total_length"):
        rnn_utils.pad_packed_sequence(packed, total_length=2)
    with pytest.raises(RuntimeError, match="shape"):
        rnn_utils.pad_sequence([lg.zeros(2, 3), lg.zeros(2, 4)])
