"""Op-table rows for indexing: t[index], t[index] = v, and the index/mask ops. Index tensors
are made inside each row with lib.tensor, so the same line runs in labgrad and PyTorch."""
from __future__ import annotations

import numpy as np

from .op_cases import OpCase

S = ((3, 4, 5),)


def _set(index):
    """fn for `b = a * 1; b[index] = v`: setitem on a non-leaf, gradients to both."""
    def fn(lib, a, v):
        b = a * 1
        b[index(lib)] = v
        return b
    return fn


def _ref_set(index):
    def ref(np, a, v):
        b = a.copy()
        b[index(np)] = v
        return b
    return ref


def _set_twice(lib, a, v):
    b = a * 2
    b[0] = v
    b[:, 1] = b[:, 1] + v[1]  # reads values written just before
    return b


def _set_in_view(lib, a, v):
    """setitem through views of a non-leaf: the base's history changes too."""
    b = a * 2
    b[0][1:3] = v
    b.diagonal()[1:] = v * v
    return b


def _index_add_(lib, a, s):
    b = a.clone()
    b.index_add_(1, lib.tensor([3, 0, 3]), s, alpha=0.5)
    return b


def _masked_fill_(lib, a):
    b = a * 1.5
    b.masked_fill_(a < 0, 0.25)
    return b


def _idx(lib, values):
    return lib.tensor(values)


CASES = [
    # basic indexing: views
    OpCase("getitem_int", lambda lib, a: a[1], S, ref=lambda np, a: a[1]),
    OpCase("getitem_negative_int", lambda lib, a: a[-1, -2], S, ref=lambda np, a: a[-1, -2]),
    OpCase("getitem_all_ints", lambda lib, a: a[1, 2, 3], S, ref=lambda np, a: a[1, 2, 3]),
    OpCase("getitem_slices", lambda lib, a: a[1:, ::2, -3:-1], S,
           ref=lambda np, a: a[1:, ::2, -3:-1]),
    OpCase("getitem_none_ellipsis", lambda lib, a: a[None, ..., 1, None], S,
           ref=lambda np, a: a[None, ..., 1, None]),
    OpCase("getitem_empty_slice", lambda lib, a: a[2:1], S, ref=lambda np, a: a[2:1]),
    # advanced indexing: copies; repeated indices accumulate in the gradient
    OpCase("getitem_list", lambda lib, a: a[[0, 2, 0]], S, ref=lambda np, a: a[[0, 2, 0]]),
    OpCase("getitem_tensor", lambda lib, a: a[:, _idx(lib, [[1, 1], [3, 0]])], S,
           ref=lambda np, a: a[:, [[1, 1], [3, 0]]]),
    OpCase("getitem_negative_tensor", lambda lib, a: a[_idx(lib, [-1, 0, -1])], S,
           ref=lambda np, a: a[[-1, 0, -1]]),
    OpCase("getitem_two_tensors", lambda lib, a: a[_idx(lib, [0, 2, 2]), :, _idx(lib, [1, 1, 4])],
           S, ref=lambda np, a: a[[0, 2, 2], :, [1, 1, 4]]),
    OpCase("getitem_adjacent_tensors", lambda lib, a: a[:, _idx(lib, [0, 3]), _idx(lib, [1, 1])],
           S, ref=lambda np, a: a[:, [0, 3], [1, 1]]),
    OpCase("getitem_int_then_tensor", lambda lib, a: a[:, 0, _idx(lib, [0, 1, 1])], S,
           ref=lambda np, a: a[:, 0][:, [0, 1, 1]]),
    OpCase("getitem_int_sep_tensor", lambda lib, a: a[1, :, _idx(lib, [4, 0])], S,
           ref=lambda np, a: a[1][:, [4, 0]]),
    OpCase("getitem_mask", lambda lib, a: a[a > 0], S, ref=lambda np, a: a[a > 0]),
    OpCase("getitem_mask_rows", lambda lib, a: a[:, a[0, :, 0] > 0], S,
           ref=lambda np, a: a[:, a[0, :, 0] > 0]),
    OpCase("getitem_bool_list", lambda lib, a: a[[True, False, True]], S,
           ref=lambda np, a: a[[True, False, True]]),
    OpCase("getitem_mixed", lambda lib, a: a[None, 1:, _idx(lib, [2, 0]), ..., None], S,
           ref=lambda np, a: a[None, 1:, [2, 0], ..., None]),
    # setitem on a non-leaf: gradients to the tensor and to the values
    OpCase("setitem_int", _set(lambda lib: 1), ((3, 4), (4,)),
           ref=_ref_set(lambda np: 1)),
    OpCase("setitem_slice_broadcast", _set(lambda lib: (slice(None), slice(1, 3))),
           ((3, 4), (1,)), ref=_ref_set(lambda np: (slice(None), slice(1, 3)))),
    OpCase("setitem_tensor_index", _set(lambda lib: (_idx(lib, [2, 0]),)), ((3, 4), (2, 4)),
           ref=_ref_set(lambda np: ([2, 0],))),
    OpCase("setitem_leading_ones", _set(lambda lib: 0), ((3, 4), (1, 4)),
           ref=_ref_set(lambda np: 0)),
    OpCase("setitem_twice", _set_twice, ((3, 4), (4,))),
    OpCase("setitem_through_views", _set_in_view, ((3, 4), (2,))),
    OpCase("index_put", lambda lib, a, v: a.index_put((_idx(lib, [0, 2]), _idx(lib, [1, 3])), v),
           ((3, 4), (2,))),
    OpCase("index_put_accumulate",
           lambda lib, a, v: lib.index_put(a, (_idx(lib, [0, 0, 2]),), v, accumulate=True),
           ((3, 4), (3, 4))),
    # picking along a dim
    OpCase("index_select", lambda lib, a: a.index_select(1, _idx(lib, [3, 0, 3])), S,
           ref=lambda np, a: np.take(a, [3, 0, 3], axis=1)),
    OpCase("index_select_scalar_index", lambda lib, a: lib.index_select(a, -1, _idx(lib, 2)), S,
           ref=lambda np, a: a[..., 2:3]),
    OpCase("index_add", lambda lib, a, s: a.index_add(1, _idx(lib, [3, 0, 3]), s, alpha=2),
           ((3, 4, 5), (3, 3, 5))),
    OpCase("index_add_inplace", _index_add_, ((3, 4, 5), (3, 3, 5))),
    OpCase("index_copy", lambda lib, a, s: a.index_copy(0, _idx(lib, [2, 0]), s),
           ((3, 4), (2, 4))),
    OpCase("index_fill", lambda lib, a: a.index_fill(1, _idx(lib, [0, 3]), -1.5), S),
    OpCase("index_fill_tensor_value",
           lambda lib, a, v: a.index_fill(0, _idx(lib, [1]), v.sum()), ((3, 4), (2,))),
    # masks
    OpCase("masked_fill", lambda lib, a: a.masked_fill(a > 0.5, 2.0), S,
           ref=lambda np, a: np.where(a > 0.5, 2.0, a)),
    OpCase("masked_fill_broadcast_mask", lambda lib, a, b: a.masked_fill(b > 0, 0.0),
           ((3, 4), (4,)), ref=lambda np, a, b: np.where(b > 0, 0.0, a)),
    OpCase("masked_fill_broadcast_input", lambda lib, a, b: a.masked_fill(b > 0, -1.0),
           ((1, 4), (3, 1)), ref=lambda np, a, b: np.where(b > 0, -1.0, a)),
    OpCase("masked_fill_tensor_value", lambda lib, a, v: a.masked_fill(a > 0, v.sum()),
           ((3, 4), (2,))),
    OpCase("masked_fill_inplace", _masked_fill_, ((3, 4),)),
    OpCase("masked_select", lambda lib, a: a.masked_select(a < 0), S,
           ref=lambda np, a: a[a < 0]),
    OpCase("masked_select_broadcast", lambda lib, a, b: lib.masked_select(a, b > 0),
           ((3, 1), (2, 1, 4)),
           ref=lambda np, a, b: np.broadcast_to(a, (2, 3, 4))[np.broadcast_to(b > 0, (2, 3, 4))]),
    OpCase("masked_scatter", lambda lib, a, s: a.masked_scatter(a > 0, s), ((3, 4), (2, 7))),
    # flat positions
    OpCase("take", lambda lib, a: a.take(_idx(lib, [[0, -1], [7, 7]])), S,
           ref=lambda np, a: np.take(a, [[0, -1], [7, 7]])),
    OpCase("put", lambda lib, a, s: a.put(_idx(lib, [1, -1]), s), ((3, 4), (2,))),
    OpCase("put_accumulate", lambda lib, a, s: a.put(_idx(lib, [[5, 5]]), s, accumulate=True),
           ((3, 4), (2,))),
    # positions of non-zeros: integer results, no gradient
    OpCase("nonzero", lambda lib, a: (a > 0).nonzero(), S, grad=False,
           ref=lambda np, a: np.argwhere(a > 0)),
    OpCase("nonzero_as_tuple", lambda lib, a: lib.nonzero(a > 0, as_tuple=True), S, grad=False,
           ref=lambda np, a: np.nonzero(a > 0)),
    OpCase("argwhere", lambda lib, a: lib.argwhere(a < 0), ((4,),), grad=False,
           ref=lambda np, a: np.argwhere(a < 0)),
]
