"""scaled_dot_product_attention, multi_head_attention_forward and nn.MultiheadAttention:
gradcheck in float64, comparison with PyTorch (same weights, inputs and masks: outputs,
weights, input and parameter gradients), and error cases."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn
import labgrad.nn.functional as F
from labgrad.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def _array(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _pair(torch, array):
    return lg.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def _assert_close(ours, theirs, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                               atol=atol)


# ------------------------------------------------------------------ sdpa

def _bool_mask(*shape, empty_row=True):
    mask = RNG.random(shape) > 0.4
    mask[..., 0] = True
    if empty_row:
        mask[..., 1, :] = False  # a query that may attend to nothing: zeros, as PyTorch
    return mask


SDPA_CASES = {
    "plain": {},
    "causal": {"is_causal": True},
    "bool-mask": {"mask": "bool"},
    "float-mask": {"mask": "float"},
    "scale": {"scale": 0.3},
    "broadcast-batch": {"q_shape": (2, 3, 5, 4), "kv_batch": (1, 3)},
    "gqa": {"q_shape": (2, 4, 5, 4), "kv_batch": (2, 2), "enable_gqa": True},
    "3d": {"q_shape": (3, 5, 4), "kv_batch": (3,)},
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(SDPA_CASES))
def test_sdpa_matches_torch(torch, name):
    case = SDPA_CASES[name]
    q_shape = case.get("q_shape", (2, 3, 5, 4))
    kv_batch = case.get("kv_batch", q_shape[:-2])
    (q, tq), (k, tk), (v, tv) = (_pair(torch, _array(*s)) for s in
                                 (q_shape, kv_batch + (6, 4), kv_batch + (6, 3)))
    mask = tmask = None
    if case.get("mask") == "bool":
        m = _bool_mask(5, 6)
        mask, tmask = lg.tensor(m), torch.tensor(m)
    elif case.get("mask") == "float":
        m = _array(q_shape[-3], 5, 6)
        mask, tmask = _pair(torch, m)
    kwargs = {k: case[k] for k in ("is_causal", "scale", "enable_gqa") if k in case}
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, **kwargs)
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=tmask,
                                                            **kwargs)
    assert tuple(out.shape) == tuple(tout.shape)
    _assert_close(out, tout)
    w = _array(*tout.shape)
    (out * lg.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    pairs = [(q, tq), (k, tk), (v, tv)] + ([(mask, tmask)] if case.get("mask") == "float" else [])
    for a, b in pairs:
        _assert_close(a.grad, b.grad)


@pytest.mark.parametrize("masking", ["none", "bool", "float", "causal"])
def test_sdpa_gradcheck_and_gradgradcheck(masking):
    q, k, v = (lg.tensor(_array(2, n, 3, dtype=np.float64), requires_grad=True)
               for n in (3, 4, 4))
    inputs = [q, k, v]
    kwargs = {}
    if masking == "bool":
        kwargs["attn_mask"] = lg.tensor(_bool_mask(3, 4, empty_row=False))
    elif masking == "causal":
        kwargs["is_causal"] = True
    elif masking == "float":
        inputs.append(lg.tensor(_array(3, 4, dtype=np.float64), requires_grad=True))

    def fn(q, k, v, *mask):
        return F.scaled_dot_product_attention(q, k, v, *mask, **kwargs)

    assert gradcheck(fn, tuple(inputs))
    assert gradgradcheck(fn, tuple(inputs))


def test_sdpa_dropout_is_random_and_scaled():
    q = k = v = lg.ones(1, 1, 4, 4)
    lg.manual_seed(0)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    # each weight is 1/4, kept (times 2) or dropped: outputs are multiples of 0.5
    values = out.numpy()
    assert np.allclose(values * 2, np.round(values * 2))
    assert len(np.unique(values)) > 1
    lg.manual_seed(0)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy(),
                                  values)


def test_sdpa_errors():
    q = lg.zeros(2, 3, 4)
    with pytest.raises(RuntimeError, match="same last dimension"):
        F.scaled_dot_product_attention(q, lg.zeros(2, 3, 5), lg.zeros(2, 3, 4))
    with pytest.raises(RuntimeError, match="source length"):
        F.scaled_dot_product_attention(q, lg.zeros(2, 3, 4), lg.zeros(2, 5, 4))
    with pytest.raises(RuntimeError, match="same floating point dtype"):
        F.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=lg.zeros(2, 3, 5))
    with pytest.raises(RuntimeError, match="bool or floating"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=lg.zeros(3, 3, dtype=lg.int64))
    with pytest.raises(RuntimeError, match="enable_gqa"):
        F.scaled_dot_product_attention(lg.zeros(1, 4, 3, 2), lg.zeros(1, 2, 3, 2),
                                       lg.zeros(1, 2, 3, 2))
    with pytest.raises(RuntimeError, match="multiple"):
        F.scaled_dot_product_attention(lg.zeros(1, 3, 3, 2), lg.zeros(1, 2, 3, 2),
                                       lg.zeros(1, 2, 3, 2), enable_gqa=True)
    with pytest.raises(RuntimeError, match="should not be set when is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=lg.ones(3, 3, dtype=lg.bool),
                                       is_causal=True)
    with pytest.raises(ValueError, match="dropout_p"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.0)


# ------------------------------------------------------------------ MultiheadAttention

def _load(ours, theirs):
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: lg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})


MHA_CASES = {
    "cross": ({}, {}),
    "self-batch_first-masks": ({"batch_first": True}, {"self": True, "kpm": "bool",
                                                       "attn": "bool"}),
    "float-masks-per-head": ({"batch_first": True}, {"self": True, "kpm": "float",
                                                     "attn": "float3d", "average": False}),
    "kdim-vdim": ({"kdim": 4, "vdim": 3}, {"kpm": "bool"}),
    "bias_kv-zero_attn": ({"add_bias_kv": True, "add_zero_attn": True},
                          {"kpm": "bool", "attn": "bool"}),
    "no-bias-no-weights": ({"bias": False}, {"need_weights": False}),
    "kv-shared": ({}, {"kv_same": True, "attn": "float"}),
    "causal-hint": ({"batch_first": True}, {"self": True, "attn": "causal", "is_causal": True,
                                            "need_weights": False}),
    "eval-dropout": ({"dropout": 0.5}, {"eval": True}),
}


def _mha_masks(torch, case, batch, length, source, heads):
    masks = {}
    if case.get("kpm"):
        m = np.zeros((batch, source), bool)
        m[0, -2:] = True
        masks["key_padding_mask"] = m if case["kpm"] == "bool" else \
            np.where(m, -1e4, 0.0).astype(np.float32)
    attn = case.get("attn")
    if attn in ("bool", "causal"):
        masks["attn_mask"] = np.triu(np.ones((length, source), bool), 1)
    elif attn == "float":
        masks["attn_mask"] = _array(length, source)
    elif attn == "float3d":
        masks["attn_mask"] = _array(batch * heads, length, source)
    return ({k: lg.tensor(v) for k, v in masks.items()},
            {k: torch.tensor(v) for k, v in masks.items()})


@pytest.mark.torch
@pytest.mark.parametrize("name", list(MHA_CASES))
def test_multihead_attention_matches_torch(torch, name):
    kwargs, case = MHA_CASES[name]
    theirs = torch.nn.MultiheadAttention(8, 2, **kwargs)
    ours = nn.MultiheadAttention(8, 2, **kwargs)
    _load(ours, theirs)
    if case.get("eval"):
        ours.eval()
        theirs.eval()
    batch, length, source = 3, 5, 5 if case.get("self") else 6
    batch_first = kwargs.get("batch_first", False)

    def shape(n, e):
        return (batch, n, e) if batch_first else (n, batch, e)

    (q, tq), (k, tk), (v, tv) = (_pair(torch, _array(*shape(n, e))) for n, e in
                                 ((length, 8), (source, kwargs.get("kdim", 8)),
                                  (source, kwargs.get("vdim", 8))))
    if case.get("self"):
        k = v = q
        tk = tv = tq
    elif case.get("kv_same"):
        v, tv = k, tk
    masks, tmasks = _mha_masks(torch, case, batch, length, source, 2)
    options = {"need_weights": case.get("need_weights", True),
               "average_attn_weights": case.get("average", True),
               "is_causal": case.get("is_causal", False)}
    out, weights = ours(q, k, v, **masks, **options)
    tout, tweights = theirs(tq, tk, tv, **tmasks, **options)
    _assert_close(out, tout)
    if tweights is None:
        assert weights is None
    else:
        assert tuple(weights.shape) == tuple(tweights.shape)
        _assert_close(weights, tweights)
    w = _array(*tout.shape)
    (out * lg.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for pname, p in theirs.named_parameters():
        _assert_close(ours.get_parameter(pname).grad, p.grad, atol=1e-4)
    for a, b in ((q, tq), (k, tk), (v, tv)):
        _assert_close(a.grad, b.grad, atol=1e-4)


@pytest.mark.torch
def test_multihead_attention_unbatched(torch):
    theirs = torch.nn.MultiheadAttention(6, 3, batch_first=True)
    ours = nn.MultiheadAttention(6, 3, batch_first=True)
    _load(ours, theirs)
    q, kv = _array(4, 6), _array(5, 6)
    kpm = np.array([False, False, False, True, True])
    out, weights = ours(lg.tensor(q), lg.tensor(kv), lg.tensor(kv),
                        key_padding_mask=lg.tensor(kpm), average_attn_weights=False)
    tout, tweights = theirs(torch.tensor(q), torch.tensor(kv), torch.tensor(kv),
                            key_padding_mask=torch.tensor(kpm), average_attn_weights=False)
    assert tuple(out.shape) == (4, 6) and tuple(weights.shape) == (3, 4, 5)
    _assert_close(out, tout)
    _assert_close(weights, tweights)


@pytest.mark.torch
def test_multi_head_attention_forward_functional(torch):
    theirs = torch.nn.MultiheadAttention(8, 4)
    q, k = _array(5, 2, 8), _array(6, 2, 8)
    params = [theirs.in_proj_weight, theirs.in_proj_bias, theirs.out_proj.weight,
              theirs.out_proj.bias]
    ours_params = [lg.tensor(p.detach().numpy(), requires_grad=True) for p in params]

    def call(fn, w, b, out_w, out_b, q, k):
        return fn(q, k, k, 8, 4, w, b, None, None, False, 0.0, out_w, out_b)

    out, weights = call(F.multi_head_attention_forward, *ours_params, lg.tensor(q),
                        lg.tensor(k))
    tout, tweights = call(torch.nn.functional.multi_head_attention_forward, *params,
                          torch.tensor(q), torch.tensor(k))
    _assert_close(out, tout)
    _assert_close(weights, tweights)
    out.sum().backward()
    tout.sum().backward()
    for a, b in zip(ours_params, params):
        _assert_close(a.grad, b.grad, atol=1e-4)


@pytest.mark.torch
def test_multihead_attention_init_and_names(torch):
    ours = nn.MultiheadAttention(16, 4, kdim=8, vdim=8, add_bias_kv=True)
    theirs = torch.nn.MultiheadAttention(16, 4, kdim=8, vdim=8, add_bias_kv=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.in_proj_weight is None
    for name, p in theirs.named_parameters():
        assert tuple(ours.get_parameter(name).shape) == tuple(p.shape), name
    bound = np.sqrt(6 / (16 + 16))
    assert np.abs(ours.q_proj_weight.detach().numpy()).max() <= bound
    assert not ours.in_proj_bias.detach().numpy().any()
    assert not ours.out_proj.bias.detach().numpy().any()
    assert repr(ours) == repr(theirs)


def test_multihead_attention_gradcheck():
    lg.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2).double()
    q = lg.tensor(_array(3, 2, 4, dtype=np.float64), requires_grad=True)
    kv = lg.tensor(_array(5, 2, 4, dtype=np.float64), requires_grad=True)
    mask = lg.tensor(np.triu(np.ones((3, 5), bool), 3))
    assert gradcheck(lambda q, kv: mha(q, kv, kv, attn_mask=mask)[0], (q, kv))


def test_multihead_attention_errors():
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(10, 3)
    with pytest.raises(ValueError, match="greater than 0"):
        nn.MultiheadAttention(0, 1)
    mha = nn.MultiheadAttention(4, 2)
    x = lg.zeros(3, 2, 4)
    with pytest.raises(RuntimeError, match="2-D .* or 3-D"):
        mha(lg.zeros(1, 3, 2, 4), x, x)
    with pytest.raises(RuntimeError, match=r"should be \(3, 3\)"):
        mha(x, x, x, attn_mask=lg.zeros(3, 4, dtype=lg.bool))
    with pytest.raises(RuntimeError, match=r"should be \(2, 3\)"):
        mha(x, x, x, key_padding_mask=lg.zeros(3, 3, dtype=lg.bool))
    with pytest.raises(RuntimeError, match="only bool and floating"):
        mha(x, x, x, key_padding_mask=lg.zeros(2, 3, dtype=lg.int64))
    with pytest.raises(RuntimeError, match="is_causal=True needs attn_mask"):
        mha(x, x, x, is_causal=True)
    with pytest.warns(UserWarning, match="mismatched"):
        mha(x, x, x, key_padding_mask=lg.zeros(2, 3, dtype=lg.bool),
            attn_mask=lg.zeros(3, 3))
