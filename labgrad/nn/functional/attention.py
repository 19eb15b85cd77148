"""Attention, as torch.nn.functional: scaled_dot_product_attention and
multi_head_attention_forward (the computation behind nn.MultiheadAttention).

Both come down to softmax(Q K^T * scale + mask) V. The two products are labgrad's batched
matmul; between them one fused op, `_masked_softmax`, scales, masks and normalizes the scores
in a single node (one pass over the scores instead of four ops, each with its own copy). Its
backward is written with labgrad ops, so create_graph=True gives higher-order gradients.

A row of scores that is masked out entirely gets weights of zero (so an output of zero and no
gradient), as PyTorch's scaled_dot_product_attention on the CPU gives, not NaN.
"""
from __future__ import annotations

import math
import warnings

from ...autograd import grad_mode
from ...autograd.graph import Node, record
from ...ops._util import check_same_device, describe, shape_str, xp_of
from ...ops.joining import cat
from ...ops.linalg import matmul
from ...tensor import Tensor
from . import dropout as _dropout_module
from .linear import linear

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

_wrap = Tensor._wrap
_state = grad_mode.state


# ------------------------------------------------------------------ the fused softmax

class MaskedSoftmaxBackward0(Node):
    """y = softmax(x * scale + bias) over the last dim, with masked places at -inf.
    With dz = y * (g - sum(g * y)): dx = dz * scale and dbias = dz."""

    def backward(self, grad):
        (y,) = self.saved_tensors
        need_scores, need_bias = self.needs_input_grad
        dz = y * (grad - (grad * y).sum(-1, keepdim=True))
        return (dz * self.scale if need_scores else None), (dz if need_bias else None)


def _broadcast_shape(*shapes):
    """The shape that the given shapes broadcast to (they are known to be compatible)."""
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    return tuple(max(sizes) if 0 not in sizes else 0 for sizes in zip(*padded))


def _masked_softmax(scores, scale, keep=None, bias=None):
    """softmax(scores * scale + bias) over the last dim, where `keep` (a bool array,
    broadcastable to the scores; True = take part) is True, and 0 elsewhere.

    Rows with nothing left to attend to give zeros, not NaN.
    """
    s = scores._data
    xp = xp_of(s)
    masks = [m for m in (keep, None if bias is None else bias._data) if m is not None]
    shape = _broadcast_shape(s.shape, *(m.shape for m in masks))
    x = s * s.dtype.type(scale)
    if x.shape != shape:  # a mask with more batch dims than the scores
        x = xp.broadcast_to(x, shape).copy()
    if bias is not None:
        x += bias._data
    if keep is not None:
        xp.copyto(x, x.dtype.type(-math.inf), where=~keep)
    if x.size:
        top = x.max(-1, keepdims=True)
        if keep is not None or bias is not None:
            top[~xp.isfinite(top)] = 0  # a row all -inf: exp(-inf) = 0 below, not NaN
        x -= top
        xp.exp(x, out=x)
        total = x.sum(-1, keepdims=True)
        if keep is not None or bias is not None:
            total[total == 0] = 1
        x /= total
    out = _wrap(x)
    if _state.grad_enabled and (scores._rg or (bias is not None and bias._rg)):
        record(MaskedSoftmaxBackward0, (scores, bias), out, saved=(out,)).scale = scale
    return out


def _attend(query, key, value, keep=None, bias=None, dropout_p=0.0, scale=None):
    """(output, weights) of softmax(query key^T * scale + bias, masked by keep) value,
    with dropout on the weights. Shapes (..., L, E), (..., S, E), (..., S, Ev)."""
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    scores = matmul(query, key.transpose(-2, -1))
    weights = _masked_softmax(scores, scale, keep, bias)
    if dropout_p > 0.0:
        weights = _dropout_module.dropout(weights, dropout_p, True)
    return matmul(weights, value), weights


# ------------------------------------------------------------------ scaled_dot_product_attention

def _causal_keep(xp, length, source_length):
    """True on and below the diagonal of an (L, S) grid (aligned at the top left)."""
    return xp.tril(xp.ones((length, source_length), dtype=bool))


def _check_sdpa(query, key, value, attn_mask, dropout_p):
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a tensor, got {describe(t)}")
        if t.ndim < 2:
            raise RuntimeError(f"{op}: {name} must have at least 2 dimensions (..., length, "
                               f"features), got shape {shape_str(t.shape)}")
    if not (query.dtype == key.dtype == value.dtype) or not query.dtype.is_floating_point:
        raise RuntimeError(f"{op}: expected query, key and value to have the same floating "
                           f"point dtype, got query {query.dtype.name}, key {key.dtype.name} "
                           f"and value {value.dtype.name}")
    if attn_mask is not None and not isinstance(attn_mask, Tensor):
        raise TypeError(f"{op}: attn_mask must be a tensor or None, got {describe(attn_mask)}")
    check_same_device(op, query, key, value, attn_mask)
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"{op}: query {shape_str(query.shape)} and key {shape_str(key.shape)}"
                           f" must have the same last dimension (the features compared)")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: key {shape_str(key.shape)} and value "
                           f"{shape_str(value.shape)} must have the same source length "
                           "(dimension -2)")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1), got {dropout_p}")
    if attn_mask is not None and attn_mask.dtype.name != "bool" \
            and not attn_mask.dtype.is_floating_point:
        raise RuntimeError(f"{op}: attn_mask must be a bool or floating point tensor, got "
                           f"{describe(attn_mask)}")


def _check_broadcast(op, names_shapes, tail):
    """Raise unless the batch dims of the named shapes broadcast (last `tail` dims excluded)."""
    batch = [(n, s[:len(s) - tail]) for n, s in names_shapes]
    ndim = max(len(b) for _, b in batch)
    for axis in range(ndim):
        sizes = {b[axis - ndim] for _, b in batch if axis - ndim >= -len(b)} - {1}
        if len(sizes) > 1:
            listed = ", ".join(f"{n} {shape_str(s)}" for n, s in names_shapes)
            raise RuntimeError(f"{op}: the batch dimensions of {listed} cannot be broadcast "
                               "together (each must match or be 1); for grouped-query "
                               "attention with fewer key/value heads pass enable_gqa=True")


def _repeat_heads(op, query, tensor, name):
    """key or value with each head repeated to match the query's heads (grouped queries)."""
    if query.ndim < 3 or tensor.ndim < 3:
        raise RuntimeError(f"{op}: enable_gqa needs query and {name} with a heads dimension "
                           f"(-3), got {shape_str(query.shape)} and {shape_str(tensor.shape)}")
    heads, kv_heads = query.shape[-3], tensor.shape[-3]
    if heads == kv_heads:
        return tensor
    if heads % kv_heads:
        raise RuntimeError(f"{op}: with enable_gqa the number of query heads ({heads}) must be "
                           f"a multiple of the {name} heads ({kv_heads})")
    return tensor.repeat_interleave(heads // kv_heads, dim=-3)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value, with dropout on the weights.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the batch dims
    broadcast. attn_mask broadcasts to (..., L, S): a bool mask says which places take part
    (True), a float mask is added to the scores. is_causal masks out the places above the
    diagonal (top-left aligned), instead of an attn_mask. scale defaults to 1 / sqrt(E).
    enable_gqa lets key and value have fewer heads (dim -3) than query, each shared by a
    group of query heads.
    """
    op = "scaled_dot_product_attention"
    _check_sdpa(query, key, value, attn_mask, dropout_p)
    if enable_gqa:
        key = _repeat_heads(op, query, key, "key")
        value = _repeat_heads(op, query, value, "value")
    length, source_length = query.shape[-2], key.shape[-2]
    shapes = [("query", query.shape), ("key", key.shape), ("value", value.shape)]
    _check_broadcast(op, shapes, 2)
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{op}: explicit attn_mask should not be set when is_causal=True; "
                           "pass one or the other (for both, combine them into attn_mask)")
    keep = bias = None
    if attn_mask is not None:
        mask_shape = tuple(attn_mask.shape)
        ok = len(mask_shape) >= 1 and all(
            m in (1, n) for m, n in zip(mask_shape[::-1], (source_length, length)))
        if not ok:
            raise RuntimeError(f"{op}: attn_mask of shape {shape_str(mask_shape)} does not "
                               f"broadcast to the scores' (..., L={length}, S={source_length})")
        _check_broadcast(op, shapes[:1] + [("attn_mask", mask_shape)], 2)
        if attn_mask.dtype.name == "bool":
            keep = attn_mask._data
        else:
            bias = attn_mask if attn_mask.dtype == query.dtype else attn_mask.to(query.dtype)
    if is_causal:
        keep = _causal_keep(xp_of(query._data), length, source_length)
    return _attend(query, key, value, keep, bias, dropout_p, scale)[0]


# ------------------------------------------------------------------ multi-head attention

def _mask_as(op, name, mask):
    """A MultiheadAttention mask as it is given: None, a bool tensor (True = masked out) or
    a float tensor (added to the scores)."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}: {name} must be a tensor or None, got {describe(mask)}")
    if mask.dtype.name != "bool" and not mask.dtype.is_floating_point:
        raise RuntimeError(f"{op}: only bool and floating point {name} is supported, got "
                           f"{describe(mask)}; convert it with .bool()")
    return mask


def _as_bias(mask, dtype):
    """A bool mask (True = masked out) as an additive float mask: -inf where True."""
    if mask.dtype.name != "bool":
        return mask if mask.dtype == dtype else mask.to(dtype)
    xp = xp_of(mask._data)
    data = xp.zeros(mask.shape, dtype=dtype.np)
    data[mask._data] = -math.inf
    return _wrap(data)


def _pad_mask_column(mask):
    """The mask with one more source position at the end that is not masked."""
    if mask is None:
        return None
    xp = xp_of(mask._data)
    column = xp.zeros(tuple(mask.shape[:-1]) + (1,), dtype=mask._data.dtype)
    if not mask._rg:
        return _wrap(xp.concatenate([mask._data, column], axis=-1))
    return cat([mask, _wrap(column)], -1)


def _check_mha_shapes(op, query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the inputs are batched (3-d); raise, naming the shapes, unless they fit."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a tensor, got {describe(t)}")
    if query.ndim not in (2, 3):
        raise RuntimeError(f"{op}: query must be 2-D (unbatched) or 3-D (batched), got shape "
                           f"{shape_str(query.shape)}")
    batched = query.ndim == 3
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise RuntimeError(f"{op}: for a {query.ndim}-D query, key and value must be "
                           f"{query.ndim}-D too, got {shape_str(key.shape)} and "
                           f"{shape_str(value.shape)}")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise RuntimeError(f"{op}: key_padding_mask must be {query.ndim - 1}-D for a "
                           f"{query.ndim}-D query ((batch, S) or (S,)), got shape "
                           f"{shape_str(key_padding_mask.shape)}")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise RuntimeError(f"{op}: attn_mask must be 2-D (L, S) or 3-D (batch * num_heads, "
                           f"L, S), got shape {shape_str(attn_mask.shape)}")
    return batched


def _project(query, key, value, in_proj_weight, in_proj_bias, separate):
    """q, k, v: the input projections. Self-attention projects once and splits the result."""
    if separate is not None:
        w_q, w_k, w_v = separate
        b_q = b_k = b_v = None
        if in_proj_bias is not None:
            b_q, b_k, b_v = in_proj_bias.chunk(3)
        return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
    if query is key and key is value:
        return linear(query, in_proj_weight, in_proj_bias).chunk(3, -1)
    embed_dim = query.shape[-1]
    if key is value:
        w_q, w_kv = in_proj_weight.split([embed_dim, 2 * embed_dim])
        b_q = b_kv = None
        if in_proj_bias is not None:
            b_q, b_kv = in_proj_bias.split([embed_dim, 2 * embed_dim])
        return (linear(query, w_q, b_q),) + linear(key, w_kv, b_kv).chunk(2, -1)
    w_q, w_k, w_v = in_proj_weight.chunk(3)
    b_q = b_k = b_v = None
    if in_proj_bias is not None:
        b_q, b_k, b_v = in_proj_bias.chunk(3)
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def _split_heads(x, num_heads, batch_first):
    """(N, L, E) or (L, N, E) -> (N, H, L, E / H), a view."""
    if batch_first:
        n, length, embed = x.shape
        return x.view(n, length, num_heads, embed // num_heads).permute(0, 2, 1, 3)
    length, n, embed = x.shape
    return x.view(length, n, num_heads, embed // num_heads).permute(1, 2, 0, 3)


def _static(op, name, t, batch, num_heads, head_dim):
    """static_k / static_v (N * H, S, E / H) as (N, H, S, E / H)."""
    if t.ndim != 3 or t.shape[0] != batch * num_heads or t.shape[2] != head_dim:
        raise RuntimeError(f"{op}: {name} must have shape (batch * num_heads, S, head_dim) = "
                           f"({batch * num_heads}, S, {head_dim}), got {shape_str(t.shape)}")
    return t.view(batch, num_heads, t.shape[1], head_dim)


def _merge_masks(op, attn_mask, key_padding_mask, batch, num_heads, length, source_length,
                 dtype):
    """(keep, bias) for _attend from MultiheadAttention's masks, as (N, H, L, S)-broadcastable
    arrays: both bool masks stay bool (one `keep`); a float one makes both additive."""
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (length, source_length):
                raise RuntimeError(f"{op}: the 2-D attn_mask has shape "
                                   f"{shape_str(attn_mask.shape)}, but should be "
                                   f"{(length, source_length)} (L, S)")
        elif tuple(attn_mask.shape) != (batch * num_heads, length, source_length):
            raise RuntimeError(f"{op}: the 3-D attn_mask has shape {shape_str(attn_mask.shape)}"
                               f", but should be {(batch * num_heads, length, source_length)} "
                               "(batch * num_heads, L, S)")
        else:
            attn_mask = attn_mask.view(batch, num_heads, length, source_length)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (batch, source_length):
            raise RuntimeError(f"{op}: key_padding_mask has shape "
                               f"{shape_str(key_padding_mask.shape)}, but should be "
                               f"{(batch, source_length)} (batch, S)")
        key_padding_mask = key_padding_mask.view(batch, 1, 1, source_length)
    masks = [m for m in (attn_mask, key_padding_mask) if m is not None]
    if not masks:
        return None, None
    if all(m.dtype.name == "bool" for m in masks):
        blocked = masks[0]._data if len(masks) == 1 else masks[0]._data | masks[1]._data
        return ~blocked, None
    biases = [_as_bias(m, dtype) for m in masks]
    return None, biases[0] if len(biases) == 1 else biases[0] + biases[1]


def _multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                          bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight,
                          out_proj_bias, training=True, key_padding_mask=None,
                          need_weights=True, attn_mask=None, separate=None, static_k=None,
                          static_v=None, average_attn_weights=True, is_causal=False,
                          batch_first=False, op="multi_head_attention_forward"):
    """multi_head_attention_forward, with inputs batch first when `batch_first` (so that
    nn.MultiheadAttention(batch_first=True) needs no transposes) and the three projection
    weights as `separate` when they are not packed into in_proj_weight."""
    key_padding_mask = _mask_as(op, "key_padding_mask", key_padding_mask)
    attn_mask = _mask_as(op, "attn_mask", attn_mask)
    if key_padding_mask is not None and attn_mask is not None \
            and key_padding_mask.dtype != attn_mask.dtype:
        warnings.warn(f"{op}: support for mismatched key_padding_mask and attn_mask is "
                      "deprecated (as in PyTorch); use the same type for both instead",
                      stacklevel=3)
    batched = _check_mha_shapes(op, query, key, value, key_padding_mask, attn_mask, num_heads)
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{op}: is_causal=True needs attn_mask (is_causal is only a hint "
                           "that attn_mask is causal); make one with "
                           "nn.Transformer.generate_square_subsequent_mask(L)")
    seq_dim = 1 if batch_first else 0
    if not batched:  # one sequence: add a batch dim of 1
        query, key, value = (t.unsqueeze(1 - seq_dim) for t in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    embed_dim = query.shape[-1]
    batch, length = query.shape[1 - seq_dim], query.shape[seq_dim]
    if embed_dim % num_heads:
        raise RuntimeError(f"{op}: embed_dim {embed_dim} is not divisible by num_heads "
                           f"{num_heads}")
    if separate is None and tuple(key.shape) != tuple(value.shape):
        raise RuntimeError(f"{op}: key {shape_str(key.shape)} and value "
                           f"{shape_str(value.shape)} must have the same shape")
    if key.shape[:2] != value.shape[:2] or key.shape[1 - seq_dim] != batch:
        raise RuntimeError(f"{op}: query {shape_str(query.shape)}, key {shape_str(key.shape)} "
                           f"and value {shape_str(value.shape)} must have the same batch size, "
                           "and key and value the same source length")
    head_dim = embed_dim // num_heads
    q, k, v = _project(query, key, value, in_proj_weight, in_proj_bias, separate)

    if (bias_k is None) != (bias_v is None):
        raise RuntimeError(f"{op}: bias_k and bias_v must be given together")
    if bias_k is not None:
        if static_k is not None or static_v is not None:
            raise RuntimeError(f"{op}: bias_k/bias_v cannot be added to static_k/static_v")
        one = (batch, 1, embed_dim) if batch_first else (1, batch, embed_dim)
        k = cat([k, bias_k.reshape(1, 1, embed_dim).expand(one)], seq_dim)
        v = cat([v, bias_v.reshape(1, 1, embed_dim).expand(one)], seq_dim)
        attn_mask, key_padding_mask = _pad_mask_column(attn_mask), \
            _pad_mask_column(key_padding_mask)

    q = _split_heads(q, num_heads, batch_first)
    k = _split_heads(k, num_heads, batch_first) if static_k is None else \
        _static(op, "static_k", static_k, batch, num_heads, head_dim)
    v = _split_heads(v, num_heads, batch_first) if static_v is None else \
        _static(op, "static_v", static_v, batch, num_heads, head_dim)
    if add_zero_attn:
        xp = xp_of(k._data)
        k = cat([k, _wrap(xp.zeros((batch, num_heads, 1, head_dim), k._data.dtype))], 2)
        v = cat([v, _wrap(xp.zeros((batch, num_heads, 1, head_dim), v._data.dtype))], 2)
        attn_mask, key_padding_mask = _pad_mask_column(attn_mask), \
            _pad_mask_column(key_padding_mask)

    source_length = k.shape[2]
    keep, bias = _merge_masks(op, attn_mask, key_padding_mask, batch, num_heads, length,
                              source_length, query.dtype)
    out, weights = _attend(q, k, v, keep, bias, dropout_p if training else 0.0)
    # (N, H, L, D) -> (N, L, E) or (L, N, E), then the output projection
    out = out.permute((0, 2, 1, 3) if batch_first else (2, 0, 1, 3))
    out = linear(out.reshape(out.shape[0], out.shape[1], embed_dim), out_proj_weight,
                 out_proj_bias)
    if not batched:
        out = out.squeeze(1 - seq_dim)
    if not need_weights:
        return out, None
    if average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        weights = weights.squeeze(0)
    return out, weights


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention over sequence-first inputs, as torch.nn.functional's.

    query (L, N, E), key (S, N, kdim), value (S, N, vdim), or unbatched (L, E) ... Returns
    (output (L, N, E), weights (N, L, S) averaged over heads, or (N, H, L, S), or None).
    Masks: key_padding_mask (N, S) and attn_mask (L, S) or (N * H, L, S); a bool mask marks
    the places that may NOT be attended (True), a float mask is added to the scores.
    Unlike PyTorch's need_weights=True path (NaN), a fully masked row gives weights of zero.
    """
    op = "multi_head_attention_forward"
    if query.shape[-1] != embed_dim_to_check:
        raise RuntimeError(f"{op}: expected the embedding dimension {embed_dim_to_check}, "
                           f"got query of shape {shape_str(query.shape)}")
    separate = None
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise RuntimeError(f"{op}: use_separate_proj_weight=True needs q_proj_weight, "
                               "k_proj_weight and v_proj_weight")
        separate = (q_proj_weight, k_proj_weight, v_proj_weight)
    elif in_proj_weight is None:
        raise RuntimeError(f"{op}: in_proj_weight is None; pass it, or the three projection "
                           "weights with use_separate_proj_weight=True")
    return _multi_head_attention(
        query, key, value, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
        add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask,
        need_weights, attn_mask, separate, static_k, static_v, average_attn_weights,
        is_causal, batch_first=False, op=op)
