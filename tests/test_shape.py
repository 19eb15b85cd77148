"""Shape ops beyond the op table: which results are views, dtype promotion in cat and stack,
splitting conventions, and error messages."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg


def _t(*shape, dtype=lg.float64):
    return lg.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)


def _shares_memory(a, b):
    return np.shares_memory(a._data, b._data)


# ------------------------------------------------------------------ views and copies

VIEWS = {
    "narrow": lambda m, t: t.narrow(1, 1, 2),
    "select": lambda m, t: t.select(0, 1),
    "split": lambda m, t: t.split(1, 0)[1],
    "split_sizes": lambda m, t: t.split([1, 3], 1)[1],
    "chunk": lambda m, t: t.chunk(2, 1)[0],
    "unbind": lambda m, t: t.unbind(1)[2],
    "tensor_split": lambda m, t: t.tensor_split(2, 1)[1],
    "diagonal": lambda m, t: t.diagonal(),
    "diagonal_offset": lambda m, t: t.diagonal(1),
    "movedim": lambda m, t: t.movedim(0, 1),
    "unflatten": lambda m, t: t.unflatten(1, (2, 2)),
    "atleast_3d": lambda m, t: m.atleast_3d(t),
    "transposed_unflatten": lambda m, t: t.t().unflatten(0, (2, 2)),
}
COPIES = {
    "flip": lambda t: t.flip(0),
    "roll": lambda t: t.roll(1),
    "repeat": lambda t: t.repeat(1, 1),
    "tile": lambda t: t.tile((1,)),
    "repeat_interleave": lambda t: t.repeat_interleave(1, 0),
    "cat": lambda t: lg.cat([t]),
    "stack": lambda t: lg.stack([t]),
    "tril": lambda t: t.tril(),
    "diag": lambda t: t.diag(),
    "narrow_copy": lambda t: t.narrow_copy(0, 0, 1),
    "rot90": lambda t: t.rot90(2),
}


def _root(lib):
    """A 2x4 tensor that is not itself a view."""
    return lib.tensor(np.arange(8.0).reshape(2, 4))


@pytest.mark.parametrize("name", VIEWS)
def test_views_share_memory_and_version_with_their_base(name):
    base = _root(lg)
    view = VIEWS[name](lg, base)
    assert view._base is base
    assert _shares_memory(view, base)
    before = base.clone()
    view.fill_(-1.0)  # writes through to the base
    assert (base == -1).sum().item() == view.numel()
    assert base._version == view._version == 1
    assert not lg.equal(base, before)


@pytest.mark.parametrize("name", COPIES)
def test_copies_do_not_share_memory(name):
    base = _root(lg)
    out = COPIES[name](base)
    assert out._base is None
    assert not _shares_memory(out, base)


@pytest.mark.torch
@pytest.mark.parametrize("name", VIEWS)
def test_views_are_views_in_pytorch_too(name, torch):
    base = _root(torch)
    assert VIEWS[name](torch, base)._base is base


def test_setitem_into_a_diagonal_view_changes_the_matrix():
    m = lg.zeros(3, 3)
    d = m.diagonal()
    d[1:] = 5.0
    assert m.tolist() == [[0, 0, 0], [0, 5, 0], [0, 0, 5]]


def test_iterating_a_tensor_gives_views_of_its_rows():
    t = _root(lg)
    rows = list(t)
    assert len(rows) == 2 and all(r._base is t for r in rows)
    assert [r.tolist() for r in rows] == t.tolist()


# ------------------------------------------------------------------ cat and stack

@pytest.mark.torch
@pytest.mark.parametrize("dtypes", [
    ("int32", "float32"), ("int64", "float16"), ("bool", "uint8", "int8"), ("float16", "float64"),
    ("bool", "bool"), ("uint8", "int8"),
], ids="-".join)
def test_cat_and_stack_promote_like_pytorch(dtypes, torch):
    ours = [lg.ones(2, dtype=getattr(lg, d)) for d in dtypes]
    theirs = [torch.ones(2, dtype=getattr(torch, d)) for d in dtypes]
    assert lg.cat(ours).dtype.name == str(torch.cat(theirs).dtype).replace("torch.", "")
    assert lg.stack(ours).dtype.name == str(torch.stack(theirs).dtype).replace("torch.", "")


@pytest.mark.torch
def test_cat_skips_empty_1d_tensors_like_pytorch(torch):
    for shapes in [((2, 3), (0,)), ((0,), (0,)), ((0,), (2, 3), (0,)), ((0, 3), (2, 3))]:
        ours = lg.cat([lg.ones(*s) for s in shapes])
        theirs = torch.cat([torch.ones(*s) for s in shapes])
        assert tuple(ours.shape) == tuple(theirs.shape)


def test_cat_gradient_reaches_every_input_including_skipped_ones():
    a = lg.ones(2, 3, requires_grad=True)
    empty = lg.ones(0, requires_grad=True)
    b = lg.ones(1, 3, dtype=lg.float64, requires_grad=True)
    out = lg.cat([a, empty, b])
    assert out.dtype == lg.float64
    (out * lg.arange(9.0, dtype=lg.float64).reshape(3, 3)).sum().backward()
    assert a.grad.tolist() == [[0, 1, 2], [3, 4, 5]] and a.grad.dtype == lg.float32
    assert b.grad.tolist() == [[6, 7, 8]]
    assert empty.grad.shape == (0,)


@pytest.mark.parametrize("call, error, message", [
    (lambda: lg.cat([lg.ones(2, 3), lg.ones(4, 5)], 1), RuntimeError,
     "cat: expected all tensors to have the same shape except in dim 1, got (2, 3) and (4, 5)"),
    (lambda: lg.cat([lg.ones(2, 3), lg.ones(4)], 1), RuntimeError,
     "cat: expected all tensors to have the same number of dimensions, got (2, 3) and (4,)"),
    (lambda: lg.cat([lg.ones(2), lg.tensor(1.0)]), RuntimeError, "zero-dimensional"),
    (lambda: lg.cat([]), ValueError, "non-empty"),
    (lambda: lg.cat(lg.ones(2)), TypeError, "list or tuple"),
    (lambda: lg.cat([lg.ones(2), 3]), TypeError, "item 1"),
    (lambda: lg.cat([lg.ones(2, 3)], 2), IndexError, "dimension 2 is out of range"),
    (lambda: lg.stack([lg.ones(2, 3), lg.ones(3, 2)]), RuntimeError,
     "same shape, got (2, 3) at entry 0 and (3, 2) at entry 1"),
])
def test_join_errors(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_stack_family_shapes_match_numpy():
    a, b = np.arange(3.0), np.arange(3.0, 6.0)
    ta, tb = lg.tensor(a), lg.tensor(b)
    for name in ("hstack", "vstack", "dstack", "column_stack", "row_stack"):
        np_name = "vstack" if name == "row_stack" else name
        expected = getattr(np, np_name)([a, b])
        np.testing.assert_array_equal(getattr(lg, name)([ta, tb]).numpy(), expected)
    assert lg.hstack([lg.tensor(1.0), lg.tensor(2.0)]).shape == (2,)


def test_atleast_calling_conventions():
    x, y = lg.tensor(1.0), lg.ones(2)
    assert lg.atleast_1d(x).shape == (1,)
    assert [t.shape for t in lg.atleast_2d(x, y)] == [(1, 1), (1, 2)]
    assert [t.shape for t in lg.atleast_3d([x, y])] == [(1, 1, 1), (1, 2, 1)]
    assert lg.atleast_2d(lg.ones(2, 3, 4)).shape == (2, 3, 4)


# ------------------------------------------------------------------ splitting

@pytest.mark.torch
@pytest.mark.parametrize("size, how", [
    (5, ("split", 2)), (6, ("split", 3)), (0, ("split", 0)), (5, ("split", [1, 0, 4])),
    (5, ("chunk", 3)), (6, ("chunk", 4)), (2, ("chunk", 5)), (0, ("chunk", 2)),
    (7, ("tensor_split", 3)), (2, ("tensor_split", 4)), (7, ("tensor_split", [1, 5, 3, 9])),
    (4, ("unbind",)),
], ids=str)
def test_split_family_sizes_match_pytorch(size, how, torch):
    name, *args = how
    ours = getattr(lg.zeros(3, size), name)(*args, **({"dim": 1}))
    theirs = getattr(torch.zeros(3, size), name)(*args, **({"dim": 1}))
    assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]


def test_split_gradients_fill_zeros_for_unused_pieces():
    x = lg.ones(5, requires_grad=True)
    first, _, last = x.split(2)
    (first.sum() * 2 + last.sum() * 3).backward()
    assert x.grad.tolist() == [2, 2, 0, 0, 3]


@pytest.mark.parametrize("call, error, words", [
    (lambda t: t.split(0), RuntimeError, ["split_size", "0"]),
    (lambda t: t.split([1, 1]), RuntimeError, ["sum to 3", "[1, 1]"]),
    (lambda t: t.chunk(0), RuntimeError, ["chunks", "0"]),
    (lambda t: lg.tensor(1.0).split(1), RuntimeError, ["0-d"]),
    (lambda t: lg.tensor(1.0).unbind(), IndexError, ["no dimensions"]),
    (lambda t: t.narrow(1, 2, 3), RuntimeError, ["narrow", "start (2) + length (3)", "(3, 4)"]),
    (lambda t: t.narrow(1, 5, 0), IndexError, ["narrow", "5", "(3, 4)"]),
    (lambda t: t.select(0, 3), IndexError, ["select", "index 3", "size 3", "(3, 4)"]),
    (lambda t: lg.tensor(1.0).select(0, 0), IndexError, ["0-d"]),
    (lambda t: t.vsplit(2), RuntimeError, ["divisible"]),
    (lambda t: t.dsplit(2), RuntimeError, ["at least 3"]),
])
def test_split_and_slice_errors(call, error, words):
    with pytest.raises(error) as info:
        call(lg.zeros(3, 4))
    for word in words:
        assert word in str(info.value)


# ------------------------------------------------------------------ repeating, moving, flipping

@pytest.mark.torch
def test_repeat_interleave_forms_match_pytorch(torch):
    counts = [2, 0, 3]
    assert lg.repeat_interleave(lg.tensor(counts)).tolist() == \
        torch.repeat_interleave(torch.tensor(counts)).tolist()
    x = [[1, 2], [3, 4]]
    for args, kwargs in [((2,), {}), ((lg.tensor(2),), {"dim": 0}),
                         ((lg.tensor([1, 2]),), {"dim": 1})]:
        targs = tuple(torch.tensor(a.tolist()) if isinstance(a, lg.Tensor) else a for a in args)
        ours = lg.tensor(x).repeat_interleave(*args, **kwargs)
        theirs = torch.tensor(x).repeat_interleave(*targs, **kwargs)
        assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("call, error, words", [
    (lambda t: t.repeat(2), RuntimeError, ["repeat", "at least one per dimension"]),
    (lambda t: t.repeat(-1, 1), RuntimeError, ["non-negative"]),
    (lambda t: t.repeat_interleave(lg.tensor([1, 2]), dim=0), RuntimeError, ["2 elements", "3"]),
    (lambda t: t.repeat_interleave(lg.tensor([1, -1, 1]), dim=0), RuntimeError,
     ["non-negative"]),
    (lambda t: t.movedim((0, 1), 0), RuntimeError, ["same number"]),
    (lambda t: t.movedim((0, 0), (0, 1)), RuntimeError, ["repeated"]),
    (lambda t: t.unflatten(1, (3, 2)), RuntimeError, ["(3, 2)", "dimension 1 (4)"]),
    (lambda t: t.flip((0, 0)), RuntimeError, ["more than once"]),
    (lambda t: t.roll((1, 2), 0), RuntimeError, ["same length"]),
    (lambda t: t.roll((1, 2)), RuntimeError, ["one number"]),
    (lambda t: lg.ones(3).fliplr(), RuntimeError, ["at least 2"]),
    (lambda t: lg.ones(3).tril(), RuntimeError, ["tril", "at least 2"]),
    (lambda t: lg.ones(3).diagonal(), RuntimeError, ["diagonal", "at least 2"]),
    (lambda t: t.diagonal(0, 1, -1), RuntimeError, ["cannot be the same"]),
    (lambda t: lg.ones(2, 2, 2).diag(), RuntimeError, ["1-D or 2-D", "(2, 2, 2)"]),
    (lambda t: lg.diagonal_scatter(t, lg.ones(2)), RuntimeError, ["(2,)", "(3,)"]),
])
def test_shape_op_errors(call, error, words):
    with pytest.raises(error) as info:
        call(lg.zeros(3, 4))
    for word in words:
        assert word in str(info.value)


def test_triangles_and_diagonals_keep_integer_dtypes():
    m = _t(3, 3, dtype=lg.int64)
    assert m.tril().dtype == lg.int64 and m.triu(1).tolist() == [[0, 1, 2], [0, 0, 5], [0, 0, 0]]
    assert m.diag().tolist() == [0, 4, 8]
    assert lg.diag(lg.tensor([1, 2]), 1).tolist() == [[0, 1, 0], [0, 0, 2], [0, 0, 0]]


def test_in_place_triangles():
    m = lg.ones(3, 3)
    assert m.tril_() is m and m.sum().item() == 6
    m.triu_(1)
    assert m.sum().item() == 0
    x = lg.ones(2, 2, requires_grad=True)
    y = x * 2
    y.triu_()
    y.sum().backward()
    assert x.grad.tolist() == [[2, 2], [0, 2]]


def test_squeeze_of_a_zero_dim_tensor():
    t = lg.tensor(2.0)
    assert t.squeeze().shape == () and t.squeeze(0).shape == () and t.squeeze(-1).shape == ()
    with pytest.raises(IndexError):
        t.squeeze(1)


# ------------------------------------------------------------------ size arguments are strict

SIZE_ARGUMENTS = {
    "reshape-float": lambda m, t: t.reshape((2.9, 2)),
    "reshape-floats": lambda m, t: t.reshape(2.9, 2),
    "reshape-bool": lambda m, t: t.reshape((True, 4)),
    "reshape-numpy-int": lambda m, t: t.reshape(np.int64(2), 2),
    "reshape-minus-one": lambda m, t: t.reshape(-1, 2),
    "view-float": lambda m, t: t.view(2.0, 2),
    "view-int-tensor": lambda m, t: t.view(m.tensor(2), 2),
    "expand-minus-one": lambda m, t: t.expand(3, -1),
    "expand-float": lambda m, t: t.expand((3.0, 4)),
    "repeat-float": lambda m, t: t.repeat(2.0),
    "tile-float": lambda m, t: t.tile((2.0,)),
    "sum_to_size-float": lambda m, t: t.sum_to_size(1.0),
    "unflatten-float": lambda m, t: t.unflatten(0, (2.0, 2)),
}


def _size_outcome(make, lib):
    try:
        return tuple(make(lib, lib.ones(4)).shape)
    except TypeError:
        return TypeError


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(SIZE_ARGUMENTS))
def test_size_arguments_match_pytorch(case, torch):
    assert _size_outcome(SIZE_ARGUMENTS[case], lg) == _size_outcome(SIZE_ARGUMENTS[case], torch)


@pytest.mark.parametrize("call, op", [
    (lambda t: t.reshape(2.9, 2), "reshape"),
    (lambda t: t.reshape(True, 4), "reshape"),
    (lambda t: t.view(2, lg.tensor(2.0)), "view"),
    (lambda t: t.expand(np.float64(4.0)), "expand"),
    (lambda t: t.permute(0.0), "permute"),
    (lambda t: t.repeat(2, 1.5), "repeat"),
])
def test_size_arguments_refuse_floats_and_bools(call, op):
    """Floats were truncated (reshape(2.9, 2) gave shape (2, 2)) and bools taken as ints."""
    with pytest.raises(TypeError, match=rf"{op}\(\): expected a tuple of ints"):
        call(lg.ones(4))


# ------------------------------------------------------------------ view(dtype)

def test_view_dtype_reinterprets_the_bits():
    x = lg.tensor([1.0, 2.0])
    bits = x.view(lg.int32)
    assert bits.dtype == lg.int32 and bits.tolist() == [1065353216, 1073741824]
    assert _shares_memory(bits, x)
    bits.add_(1)  # the same memory and version counter
    assert x._version == 1 and x.tolist() != [1.0, 2.0]
    assert x.view(dtype=lg.int32).tolist() == [1065353217, 1073741825]
    assert lg.arange(3.0).view(lg.int32).tolist() == [0, 1065353216, 1073741824]
    assert lg.ones(4).view(lg.tensor(4)).shape == (4,)  # a 0-d tensor is a size, as in PyTorch


@pytest.mark.torch
@pytest.mark.parametrize("case", ["full", "rows", "last_cols", "odd_cols", "transposed", "0d",
                                  "offset_1", "offset_2", "strided_rows", "empty"])
@pytest.mark.parametrize("dtype", ["float16", "float64", "int32", "int64", "uint8", "bool",
                                   "bfloat16"])
def test_view_dtype_matches_pytorch(case, dtype, torch):
    pick = {"full": lambda a: a, "rows": lambda a: a[1:], "last_cols": lambda a: a[:, 2:],
            "odd_cols": lambda a: a[:, :3], "transposed": lambda a: a.t(),
            "0d": lambda a: a[1, 1], "offset_1": lambda a: a.reshape(-1)[1:5],
            "offset_2": lambda a: a.reshape(-1)[2:6], "strided_rows": lambda a: a[::2],
            "empty": lambda a: a[:0]}[case]

    def run(mod):
        try:
            out = pick(mod.arange(24.0).reshape(4, 6)).view(getattr(mod, dtype))
        except RuntimeError:
            return None
        return tuple(out.shape), out.float().numpy()
    expected, ours = run(torch), run(lg)
    assert (ours is None) == (expected is None), (expected, ours)
    if expected is not None:
        assert ours[0] == expected[0]
        np.testing.assert_array_equal(ours[1], expected[1])


@pytest.mark.parametrize("call, words", [
    (lambda: lg.tensor(1.0).view(lg.float64), ["0-d", "float32", "float64"]),
    (lambda: lg.zeros(2, 3).t().view(lg.float16), ["contiguous", "stride is 3"]),
    (lambda: lg.zeros(3).view(lg.float64), ["divisible by 2", "it is 3"]),
    (lambda: lg.zeros(5)[1:].view(lg.float64), ["storage offset", "it is 1"]),
    (lambda: lg.zeros(3, 3)[:, :2].view(lg.float64), ["stride of dimension 0", "it is 3"]),
])
def test_view_dtype_errors(call, words):
    with pytest.raises(RuntimeError) as info:
        call()
    for word in words:
        assert word in str(info.value)


def test_view_dtype_has_no_gradient_as_in_pytorch():
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    for out in (x.view(lg.float32), (x * 2).view(lg.float32), (x * 2).view(lg.float16),
                (x * 2).view(lg.int32)):
        assert not out.requires_grad and out.grad_fn is None
    with pytest.raises(TypeError, match="shape or a dtype"):
        x.view(2, dtype=lg.int32)


def test_reshape_without_a_copy_argument_is_tried_once(monkeypatch):
    # An array module whose reshape has no copy= (CuPy): decided on the first view, not
    # raised and caught on every one.
    from labgrad.ops import shape as shape_ops

    class NoCopyModule:
        attempts = 0

        @staticmethod
        def reshape(data, shape, **unexpected):
            NoCopyModule.attempts += 1
            if unexpected:
                raise TypeError("reshape() got an unexpected keyword argument 'copy'")
            return np.reshape(data, shape)

    class Array(np.ndarray):
        pass

    monkeypatch.setattr(shape_ops, "xp_of", lambda data: NoCopyModule)
    data = np.arange(6.0).view(Array)
    for _ in range(3):
        assert shape_ops._reshape_no_copy(data, (2, 3)).shape == (2, 3)
    assert NoCopyModule.attempts == 1
    assert shape_ops._reshape_no_copy(np.arange(6.0), (3, 2)).shape == (3, 2)  # NumPy's has it
