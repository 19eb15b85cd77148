"""Collating samples into batches, as torch.utils.data's default_collate / default_convert.

The dispatch is on the type of the batch's first element (as PyTorch's): tensors are stacked
along a new first dim; NumPy arrays and scalars become tensors of their own dtype; a Python
float batch becomes float64, int int64 and bool bool; str and bytes are left as they are;
mappings, namedtuples and sequences are collated field by field.
"""
from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from ... import dtypes as _dt
from ...creation import as_tensor, tensor
from ...ops.joining import stack
from ...tensor import Tensor

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map"]

# NumPy dtypes that hold strings or objects: no tensor can hold them
_STR_OBJ_DTYPE = re.compile(r"[SaUO]")

_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
          "found {}")


def default_convert(data):
    """Turn NumPy arrays and scalars (also inside mappings, namedtuples and sequences) into
    tensors; leave everything else as it is. The DataLoader's collate_fn when batch_size=None.
    """
    if isinstance(data, Tensor):
        return data
    kind = type(data)
    if kind.__module__ == "numpy" and kind.__name__ not in ("str_", "bytes_"):
        if isinstance(data, np.ndarray) and _STR_OBJ_DTYPE.search(data.dtype.str):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return kind(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # as PyTorch: a tuple becomes a list
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, values: dict):
    """`values` in a mapping of like's type where that type can be made, else a dict."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like, values: list):
    """`values` in a sequence of like's type where that type can be made, else a list."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, value in enumerate(values):
                clone[i] = value
            return clone
        return type(like)(values)
    except TypeError:
        return values


def collate(batch, *, collate_fn_map=None):
    """Collate a list of samples, looking element types up in `collate_fn_map` (a dict from a
    type, or a tuple of types, to ``fn(batch, *, collate_fn_map)``): first the exact type, then
    each key in insertion order by isinstance. Containers are collated field by field."""
    if len(batch) == 0:
        raise IndexError("default_collate: the batch is empty (expected a list of at least "
                         "one sample)")
    elem = batch[0]
    kind = type(elem)
    if collate_fn_map is not None:
        if kind in collate_fn_map:
            return collate_fn_map[kind](batch, collate_fn_map=collate_fn_map)
        for key, fn in collate_fn_map.items():
            if isinstance(elem, key):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {
            key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
            for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return kind(*(collate(field, collate_fn_map=collate_fn_map)
                      for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            sizes = [len(sample) for sample in batch]
            raise RuntimeError(f"each element in list of batch should be of equal size (got "
                               f"sequences of lengths {sizes}); pass a collate_fn that pads "
                               "them, or return tensors of a fixed size from the dataset")
        fields = [collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # as PyTorch: a tuple sample gives a list of batched fields
        return _rebuild_sequence(elem, fields)
    raise TypeError(_ERROR.format(kind))


def _shape_error(shapes):
    """Ragged samples: name the first two sizes that differ."""
    first = shapes[0]
    for i, shape in enumerate(shapes):
        if shape != first:
            return RuntimeError(
                f"default_collate: stack expects each tensor to be equal size, but got "
                f"{list(first)} at entry 0 and {list(shape)} at entry {i}. Samples of "
                "different sizes need a collate_fn that pads them (for sequences: "
                "labgrad.nn.utils.rnn.pad_sequence) or a transform that makes them one size")
    return None


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Tensors: stacked along a new first dim."""
    arrays = [t._data for t in batch]
    error = _shape_error([a.shape for a in arrays])
    if error is not None:
        raise error
    dtype = arrays[0].dtype
    if all(type(a) is np.ndarray and a.dtype == dtype and not t._rg
           for a, t in zip(arrays, batch)):
        return Tensor._wrap(np.array(arrays))  # the common case, without stack()'s checks
    return stack(list(batch), 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """NumPy arrays: stacked into one tensor of their dtype."""
    dtype = batch[0].dtype
    if _STR_OBJ_DTYPE.search(dtype.str):
        raise TypeError(_ERROR.format(dtype))
    error = _shape_error([a.shape for a in batch])
    if error is not None:
        raise error
    return as_tensor(np.array(batch))


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """NumPy scalars: one tensor of their dtype."""
    return as_tensor(np.asarray(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    return tensor(list(batch), dtype=_dt.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return tensor(list(batch))


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Put a list of samples together into a batch with a new first dimension.

    Tensors are stacked; NumPy arrays and numbers become tensors (Python float -> float64,
    int -> int64, bool -> bool); strings stay a list; dicts, namedtuples and lists/tuples are
    collated field by field (a tuple sample gives a list). Extend it by adding
    ``{type: fn}`` to ``default_collate_fn_map`` or by calling ``collate`` with your own map.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
