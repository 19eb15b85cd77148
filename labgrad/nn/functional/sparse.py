"""Lookup tables, as torch.nn.functional: embedding, embedding_bag, one_hot.

embedding is a row gather, weight[input]. Its weight gradient adds each incoming gradient row
into the row it came from (rows looked up twice get both). That scatter-add runs on the
flattened arrays: NumPy's 1-D ``add.at`` is 2-4x faster than on rows of a 2-D array (2048
rows of 256 into a 10000-row table: 1.7 ms against 4.8 ms; with Zipf-distributed tokens
2.3 ms against 10 ms). The scatter is itself an op whose gradient is a gather, so double
backward works. labgrad has no sparse tensors: ``sparse=True`` gives a dense gradient.
"""
from __future__ import annotations

from ... import creation
from ... import dtypes as _dt
from ...autograd import grad_mode
from ...autograd.graph import Node, record
from ...backend import kernels, xp_of
from ...ops._util import check_same_device, describe, shape_str
from ...tensor import Tensor

__all__ = ["embedding", "embedding_bag", "one_hot"]

_wrap = Tensor._wrap
_state = grad_mode.state


# ------------------------------------------------------------------ embedding

class EmbeddingBackward0(Node):
    """weight[indices]: the gradient is a scatter-add of the rows of grad."""

    def backward(self, grad):
        return _embedding_grad(grad, self.indices, self._input_meta[0][0][0], self.row_scale)


class EmbeddingDenseBackward0(Node):
    """The scatter-add of embedding's backward: its own gradient gathers rows again."""

    def backward(self, grad):
        rows = _gather_rows(grad, self.indices)
        if self.row_scale is not None:
            rows = rows * _wrap(self.row_scale)
        return rows.reshape(self._input_meta[0][0])


def _gather_rows(weight, indices):
    """weight[indices] for a 1-D index array, recording EmbeddingBackward0."""
    data = weight._data
    out = _wrap(xp_of(data).take(data, indices, axis=0))
    if _state.grad_enabled and weight._rg:
        node = record(EmbeddingBackward0, (weight,), out)
        node.indices, node.row_scale = indices, None
    return out


def _embedding_grad(grad, indices, num_weights, row_scale):
    """zeros(num_weights, dim) with each row of grad (times row_scale) added at its index."""
    dim = grad.shape[-1]
    rows = grad._data.reshape(-1, dim)
    if row_scale is not None:
        rows = rows * row_scale
    xp = xp_of(rows)
    out = xp.zeros(num_weights * dim, dtype=rows.dtype)
    # flat positions index * dim + column: one 1-D scatter-add (see the module docstring)
    flat = (indices[:, None] * dim + xp.arange(dim)).reshape(-1)
    kernels.scatter_add(out, flat, rows.reshape(-1))
    result = _wrap(out.reshape(num_weights, dim))
    if _state.grad_enabled and grad._rg:  # create_graph
        node = record(EmbeddingDenseBackward0, (grad,), result)
        node.indices, node.row_scale = indices, row_scale
    return result


def _check_indices(op, input, weight):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be tensors, got {describe(input)} and "
                        f"{describe(weight)}")
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: expected the indices (input) to be an integer tensor "
                           f"(int64 or int32), got {describe(input)}; convert it with .long()")
    if weight.ndim != 2:
        raise RuntimeError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got "
                           f"shape {shape_str(weight.shape)}")
    check_same_device(op, input, weight)
    indices = input._data.reshape(-1)
    size = weight.shape[0]
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= size):
        bad = indices[(indices < 0) | (indices >= size)][0]
        raise IndexError(f"{op}: index {int(bad)} is out of range for a weight with "
                         f"{size} rows (shape {shape_str(weight.shape)}); indices must be in "
                         f"[0, {size})")
    return indices


def _padding_index(padding_idx, num_embeddings):
    """padding_idx as a row number (None stays None), checked as PyTorch checks it."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise AssertionError(f"Padding_idx must be within num_embeddings: got padding_idx="
                             f"{padding_idx} for {num_embeddings} embeddings")
    return padding_idx % num_embeddings


def _renorm_rows(weight, indices, max_norm, norm_type):
    """Scale, in place and unrecorded, the rows of weight at `indices` whose norm exceeds
    max_norm down to max_norm (PyTorch's embedding_renorm_)."""
    data = weight._data
    xp = xp_of(data)
    rows = xp.unique(indices)
    norms = xp.linalg.norm(data[rows].astype(xp.float64), ord=norm_type, axis=1)
    over = norms > max_norm
    if over.any():
        scale = (max_norm / (norms[over] + 1e-7)).astype(data.dtype)
        data[rows[over]] *= scale[:, None]
        weight._bump_version()


def _row_scale(indices, padding_idx, scale_grad_by_freq, num_weights, dtype):
    """Per-index factors for the weight gradient: 0 at padding_idx, 1/count with
    scale_grad_by_freq; None when every factor is 1."""
    if padding_idx is None and not scale_grad_by_freq:
        return None
    xp = xp_of(indices)
    if scale_grad_by_freq:
        counts = xp.bincount(indices, minlength=num_weights)[indices]
        scale = (1.0 / counts).astype(dtype)
    else:
        scale = xp.ones(indices.shape, dtype=dtype)
    if padding_idx is not None:
        scale[indices == padding_idx] = 0
    return scale[:, None]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """The rows of weight (num_embeddings, dim) at the integer indices `input`: output shape
    input.shape + (dim,).

    padding_idx: that row gets no gradient. max_norm: rows looked up whose norm_type-norm
    exceeds it are rescaled in place to max_norm first. scale_grad_by_freq: each row's
    gradient is divided by how often it occurs in input.
    """
    indices = _check_indices("embedding", input, weight)
    num_weights = weight.shape[0]
    padding_idx = _padding_index(padding_idx, num_weights)
    if max_norm is not None:
        _renorm_rows(weight, indices, max_norm, norm_type)
    data = weight._data
    out = _wrap(xp_of(data).take(data, indices, axis=0).reshape(input.shape + (data.shape[1],)))
    if _state.grad_enabled and weight._rg:
        node = record(EmbeddingBackward0, (weight,), out)
        node.indices = indices
        node.row_scale = _row_scale(indices, padding_idx, scale_grad_by_freq, num_weights,
                                    data.dtype)
    return out


# ------------------------------------------------------------------ embedding_bag

def _bags(input, offsets, include_last_offset):
    """(flat indices, bag number of each, number of bags) for 2-D input or 1-D + offsets."""
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None, as "
                             "input is treated is a mini-batch of fixed length sequences. "
                             f"However, found offsets of type {type(offsets).__name__}")
        bags, length = input.shape
        xp = xp_of(input._data)
        return input._data.reshape(-1), xp.repeat(xp.arange(bags), length), bags
    if input.ndim != 1:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D Tensor, but got Tensor of "
                         f"dimension {input.ndim}")
    if offsets is None:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
    if not isinstance(offsets, Tensor) or offsets.ndim != 1:
        raise ValueError("embedding_bag: offsets has to be a 1D Tensor")
    starts = offsets._data
    n = input.shape[0]
    xp = xp_of(starts)
    if starts.size and (int(starts[0]) != 0 or (starts[1:] < starts[:-1]).any()
                        or int(starts[-1]) > n):
        raise ValueError(f"embedding_bag: offsets must start at 0, be non-decreasing and at "
                         f"most the input's length {n}; got {starts.tolist()}")
    if include_last_offset:  # the last offset is the end (input's length, per the docs)
        starts = starts[:-1]
    # bag of entry i = number of starts at or before i, minus one
    bag_of = xp.searchsorted(starts, xp.arange(n), side="right") - 1
    return input._data, bag_of, starts.size


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Sums, means or maxima of bags of embeddings, without materializing the lookups per
    bag: (B, N) input gives B bags of N; 1-D input is cut into bags at `offsets`.
    Empty bags give zeros; entries equal to padding_idx are left out (and not counted)."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError("embedding_bag: mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("embedding_bag: max mode does not support scaling the gradient by "
                         "the frequency")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                "embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode='{mode}')")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: per_sample_weights of shape "
                             f"{shape_str(per_sample_weights.shape)} must have the shape of "
                             f"input {shape_str(input.shape)}")
    if weight.ndim != 2:
        raise ValueError(f"embedding_bag: weight has to be a 2D Tensor, but got Tensor of "
                         f"dimension {weight.ndim}")
    _check_indices("embedding_bag", input, weight)
    indices, bag_of, bags = _bags(input, offsets, include_last_offset)
    xp = xp_of(indices)
    padding_idx = _padding_index(padding_idx, weight.shape[0])
    entry_weights = None if per_sample_weights is None else per_sample_weights.reshape(-1)
    if padding_idx is not None:
        keep = indices != padding_idx
        indices, bag_of = indices[keep], bag_of[keep]
        if entry_weights is not None:
            entry_weights = entry_weights[_wrap(keep)]
    rows = embedding(_wrap(indices), weight, None, max_norm, norm_type, scale_grad_by_freq,
                     sparse)
    dim = weight.shape[1]
    if mode == "max":
        return _bag_max(rows, bag_of, bags, xp)
    if entry_weights is not None:
        rows = rows * entry_weights.unsqueeze(1)
    if mode == "mean":
        counts = xp.bincount(bag_of, minlength=bags)
        rows = rows * _wrap((1.0 / xp.maximum(counts, 1))[bag_of, None]
                            .astype(weight._data.dtype))
    zeros = creation.zeros((bags, dim), dtype=weight.dtype, device=weight.device)
    return zeros.index_add(0, _wrap(bag_of), rows)


def _bag_max(rows, bag_of, bags, xp):
    """Elementwise maxima of the rows of each bag (zeros for an empty bag)."""
    n, dim = rows.shape
    counts = xp.bincount(bag_of, minlength=bags)
    length = int(counts.max()) if counts.size and n else 0
    # place each row at (bag, position in bag) of a (bags, length, dim) grid filled with -inf
    starts = xp.cumsum(counts) - counts
    position = xp.arange(n) - starts[bag_of]
    grid = creation.full((bags, max(length, 1), dim), float("-inf"), dtype=rows.dtype,
                         device=rows.device)
    grid = grid.index_put((_wrap(bag_of), _wrap(position)), rows)
    best = grid.max(1).values
    empty = _wrap((counts == 0)[:, None])
    return best.masked_fill(empty, 0.0)


# ------------------------------------------------------------------ one_hot

def one_hot(tensor, num_classes=-1):
    """int64 tensor of shape tensor.shape + (num_classes,): 1 at each value, else 0.
    num_classes=-1 means one more than the largest value."""
    if not isinstance(tensor, Tensor) or tensor.dtype != _dt.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor, "
                           f"got {describe(tensor)}; convert it with .long()")
    data = tensor._data
    xp = xp_of(data)
    if data.size and int(data.min()) < 0:
        raise RuntimeError("one_hot: Class values must be non-negative.")
    if num_classes == -1:
        if not data.size:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty "
                               "tensor.")
        num_classes = int(data.max()) + 1
    elif data.size and int(data.max()) >= num_classes:
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes "
                           f"({num_classes}), got {int(data.max())}")
    out = (data[..., None] == xp.arange(num_classes)).astype(data.dtype)
    return _wrap(out)
