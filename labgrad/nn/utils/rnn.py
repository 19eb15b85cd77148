"""Batches of sequences of different lengths, as torch.nn.utils.rnn.

A padded batch is one tensor (T, B, *) (or (B, T, *) with batch_first) whose shorter
sequences are filled up with `padding_value`. A PackedSequence keeps only the real steps,
time step by time step: ``data`` holds, for t = 0, 1, ..., the steps t of the sequences that
are that long (longest sequence first), and ``batch_sizes[t]`` says how many there are. The
recurrent layers in nn accept a PackedSequence and skip the padding.

Packing and padding are one index_select / index_put each, so gradients flow through them.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import creation
from ...ops._util import describe, shape_str, xp_of
from ...ops.indexing import index_put
from ...ops.joining import cat
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence",
                                 ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """A batch of variable-length sequences without padding (see the module docstring).

    Make one with pack_padded_sequence or pack_sequence rather than by hand. ``batch_sizes``
    is an int64 CPU tensor; ``sorted_indices`` orders the batch by decreasing length (None
    when it already was) and ``unsorted_indices`` undoes that order.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes is required; make a PackedSequence "
                            "with pack_padded_sequence or pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same packed batch with data (and the indices) moved or converted."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        device = data.device
        sorted_indices, unsorted_indices = (
            None if t is None else t.to(device) for t in (self.sorted_indices,
                                                           self.unsorted_indices))
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cuda(self, device=None):
        if isinstance(device, int):
            device = f"cuda:{device}"
        return self.to("cuda" if device is None else device)

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=_dtype("float64"))

    def float(self):
        return self.to(dtype=_dtype("float32"))

    def half(self):
        return self.to(dtype=_dtype("float16"))

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _dtype(name):
    from ... import dtypes
    return getattr(dtypes, name)


def invert_permutation(permutation):
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    data = permutation._data
    xp = xp_of(data)
    inverse = xp.empty_like(data)
    inverse[data] = xp.arange(data.shape[0], dtype=data.dtype)
    return Tensor._wrap(inverse)


def _lengths_array(op, lengths):
    """`lengths` (a list or a 1-d tensor of ints) as a NumPy int64 array."""
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1:
            raise RuntimeError(f"{op}: lengths must be a 1-D tensor, got shape "
                               f"{shape_str(lengths.shape)}")
        return np.asarray(lengths.cpu().numpy(), dtype=np.int64)
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def _index_tensor(array, device):
    """An int64 index tensor on `device` from a NumPy array."""
    return creation.as_tensor(np.ascontiguousarray(array, dtype=np.int64), device=device)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) of sequences with the
    given lengths. With enforce_sorted the lengths must decrease; otherwise they are sorted
    here (and the order is kept in the result, so unpacking restores it)."""
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a tensor, got {describe(input)}")
    if input.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions (time and batch), "
                           f"got shape {shape_str(input.shape)}")
    lengths = _lengths_array(op, lengths)
    batch_dim = 0 if batch_first else 1
    batch, steps = input.shape[batch_dim], input.shape[1 - batch_dim]
    if lengths.shape[0] != batch:
        raise RuntimeError(f"{op}: got {lengths.shape[0]} lengths for a batch of {batch} "
                           f"sequences (input of shape {shape_str(input.shape)}, "
                           f"batch_first={batch_first})")
    if lengths.size and lengths.min() <= 0:
        raise RuntimeError(f"{op}: the length of every sequence has to be greater than 0, "
                           f"got lengths {lengths.tolist()}")
    if lengths.size and lengths.max() > steps:
        raise RuntimeError(f"{op}: a length of {lengths.max()} is longer than the padded "
                           f"input's {steps} time steps (input of shape "
                           f"{shape_str(input.shape)}, batch_first={batch_first})")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(f"{op}: lengths {lengths.tolist()} must be sorted in decreasing "
                               "order when enforce_sorted=True; pass enforce_sorted=False to "
                               "have them sorted here")
        order = None
    else:
        order = np.argsort(-lengths, kind="stable")
        lengths = lengths[order]
    # Row t * B + b of the time-major input, for every step t that sequence b has.
    present = np.arange(steps)[:, None] < lengths[None, :]
    batch_sizes = present.sum(1)
    batch_sizes = batch_sizes[batch_sizes > 0]
    columns = np.arange(batch) if order is None else order
    flat = (np.arange(steps)[:, None] * batch + columns[None, :])[present]
    time_major = input.transpose(0, 1) if batch_first else input
    rows = time_major.reshape((steps * batch,) + tuple(input.shape[2:]))
    data = rows.index_select(0, _index_tensor(flat, input.device))
    sorted_indices = None if order is None else _index_tensor(order, input.device)
    return PackedSequence(data, creation.as_tensor(batch_sizes.astype(np.int64)),
                          sorted_indices)


def _packed_positions(batch_sizes):
    """(time, slot) of each row of a PackedSequence's data, and its per-slot lengths."""
    sizes = np.asarray(batch_sizes.cpu().numpy(), dtype=np.int64)
    time = np.repeat(np.arange(sizes.shape[0]), sizes)
    slot = np.concatenate([np.arange(n) for n in sizes]) if sizes.size else sizes
    lengths = (np.arange(sizes[0])[None, :] < sizes[:, None]).sum(0) if sizes.size else sizes
    return time, slot, lengths


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The padded batch (T, B, *) (or (B, T, *)) of a PackedSequence and the lengths of its
    sequences (an int64 tensor), in the order the batch had before packing."""
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: expected a PackedSequence, got {describe(sequence)}")
    data = sequence.data
    time, slot, lengths = _packed_positions(sequence.batch_sizes)
    batch = lengths.shape[0]
    steps = int(lengths.max()) if batch else 0
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"{op}: total_length={total_length} is shorter than the longest "
                             f"sequence ({steps} steps)")
        steps = total_length
    if sequence.unsorted_indices is not None:  # slot s holds original sequence sorted[s]
        order = np.asarray(sequence.sorted_indices.cpu().numpy(), dtype=np.int64)
        column, lengths = order[slot], lengths[np.argsort(order)]
    else:
        column = slot
    position = time * batch + column if not batch_first else column * steps + time
    tail = tuple(data.shape[1:])
    base = creation.full((steps * batch,) + tail, padding_value, dtype=data.dtype,
                         device=data.device)
    padded = index_put(base, (_index_tensor(position, data.device),), data)
    shape = (batch, steps) if batch_first else (steps, batch)
    return padded.reshape(shape + tail), creation.as_tensor(lengths.astype(np.int64))


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into one (T, B, *) (or (B, T, *) with batch_first),
    T the longest L_i, filling up with padding_value on the right (or the left)."""
    op = "pad_sequence"
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError(f"{op}: expected a non-empty list of tensors")
    if padding_side not in ("right", "left"):
        raise ValueError(f"{op}: padding_side must be 'left' or 'right', got {padding_side!r}")
    first = sequences[0]
    tail = tuple(first.shape[1:])
    for s in sequences:
        if not isinstance(s, Tensor) or s.ndim < 1 or tuple(s.shape[1:]) != tail:
            raise RuntimeError(f"{op}: every sequence must be a tensor of shape (L, "
                               f"{', '.join(map(str, tail))}{',' if len(tail) == 1 else ''})"
                               f" like the first one, got {describe(s)}")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    batch, steps = len(sequences), int(lengths.max())
    offset = steps - lengths if padding_side == "left" else np.zeros_like(lengths)
    column = np.repeat(np.arange(batch), lengths)
    time = np.concatenate([np.arange(n) for n in lengths]) + np.repeat(offset, lengths)
    position = column * steps + time if batch_first else time * batch + column
    base = creation.full((batch * steps,) + tail, padding_value, dtype=first.dtype,
                         device=first.device)
    values = cat(sequences, 0) if len(sequences) > 1 else first
    padded = index_put(base, (_index_tensor(position, first.device),), values)
    return padded.reshape(((batch, steps) if batch_first else (steps, batch)) + tail)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences (L_i, *) in a padded batch: the inverse of pad_sequence."""
    lengths = _lengths_array("unpad_sequence", lengths)
    batch_major = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [batch_major[i, :int(n)] for i, n in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *): pad_sequence, then pack_padded_sequence."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences in a PackedSequence, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
