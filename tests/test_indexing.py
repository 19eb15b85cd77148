"""t[index] and t[index] = value against NumPy and PyTorch, views, gradients of indexing, and
the index/mask ops' errors and in-place forms."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labgrad as lg


def _arange(*shape, dtype=np.float64):
    return np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)


# ------------------------------------------------------------------ getitem against NumPy

# Indices where PyTorch and NumPy agree (see _numpy_agrees).
SAME_AS_NUMPY = [
    1, -1, (1, 2), (0, -1, 2), slice(1, None), (slice(None), slice(None, None, 2)),
    (slice(-3, -1), 0), None, Ellipsis, (Ellipsis, 1), (None, 0, None), (1, Ellipsis, None),
    (), [0, 2, 0], ([0, 1], [1, 2]), (slice(None), [3, 0]), ([[0, 1], [2, 2]],),
    (np.array([True, False, True]),), (slice(None), np.array([1, 0, 1, 1], dtype=bool)),
    (Ellipsis, [4, 0, 4]), ([0, 2], slice(1, 3), [1, 4]), (None, [1], None),
    (slice(5, 1),), (np.array([], dtype=np.int64),),
]


@pytest.mark.parametrize("index", SAME_AS_NUMPY, ids=repr)
def test_getitem_matches_numpy(index):
    a = _arange(3, 4, 5)
    out = lg.tensor(a)[index]
    np.testing.assert_array_equal(out.numpy(), a[index])


@pytest.mark.parametrize("index", SAME_AS_NUMPY, ids=repr)
def test_setitem_matches_numpy(index):
    a = _arange(3, 4, 5)
    t = lg.tensor(a)
    values = -np.arange(np.size(a[index]), dtype=np.float64).reshape(np.shape(a[index]))
    t[index] = lg.tensor(values)
    expected = a.copy()
    expected[index] = values
    np.testing.assert_array_equal(t.numpy(), expected)
    t[index] = 7.5
    expected[index] = 7.5
    np.testing.assert_array_equal(t.numpy(), expected)


def test_index_tensors_of_every_integer_dtype_and_bool():
    a = _arange(4, 3)
    t = lg.tensor(a)
    for dtype in (lg.int64, lg.int32, lg.int16, lg.int8):
        np.testing.assert_array_equal(t[lg.tensor([3, 0], dtype=dtype)].numpy(), a[[3, 0]])
    np.testing.assert_array_equal(t[lg.tensor([True, False, False, True])].numpy(), a[[0, 3]])
    np.testing.assert_array_equal(t[t > 5].numpy(), a[a > 5])
    np.testing.assert_array_equal(t[lg.tensor(2)].numpy(), a[2])  # 0-d: like an int


# ------------------------------------------------------------------ PyTorch's own rules

@pytest.mark.torch
@pytest.mark.parametrize("index", [
    (slice(None), 0, slice(None), [0, 1]),  # NumPy moves the indexed dim to the front
    (0, slice(None), [1, 0]),
    ([0, 1], 0),
    (Ellipsis, 0, [0, 2]),
    (None, 1, [0, 1], None),
    (slice(None), [0], Ellipsis, [1, 2]),  # an ellipsis covering no dims separates nothing
    (True,), (False,), (0, True), ([0, 1], True),
], ids=repr)
def test_getitem_follows_pytorch_where_numpy_differs(index, torch):
    a = _arange(2, 3, 4, 5)
    ours = lg.tensor(a)[index]
    theirs = torch.tensor(a)[index]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.torch
def test_zero_dim_integer_tensor_selects_a_view(torch):
    t = lg.tensor(_arange(2, 3))
    out = t[lg.tensor(1), lg.tensor(2)]
    assert out._base is t and out.shape == ()
    assert out.item() == torch.tensor(_arange(2, 3))[torch.tensor(1), torch.tensor(2)].item()


@pytest.mark.torch
def test_list_of_sequences_is_read_as_a_tuple(torch):
    a = _arange(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.tensor(a)[[[0, 1], [1, 2]]].numpy()
    with pytest.warns(UserWarning, match="tuple"):
        ours = lg.tensor(a)[[[0, 1], [1, 2]]]
    np.testing.assert_array_equal(ours.numpy(), expected)


def test_uint8_index_is_a_mask_with_a_warning():
    t = lg.tensor(_arange(3))
    with pytest.warns(UserWarning, match="uint8"):
        out = t[lg.tensor([1, 0, 1], dtype=lg.uint8)]
    assert out.tolist() == [0.0, 2.0]


# ------------------------------------------------------------------ hypothesis: any index

@st.composite
def shapes_and_indices(draw):
    """A shape and an index for it mixing ints, slices, None, ..., index lists and masks."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    ndim = len(shape)
    ellipsis = draw(st.booleans())
    lead = draw(st.integers(0, ndim))
    tail = draw(st.integers(0, ndim - lead)) if ellipsis else 0
    dims = list(range(lead)) + list(range(ndim - tail, ndim))
    items = [draw(_item(shape[d])) for d in dims]
    if ellipsis:
        items.insert(lead, Ellipsis)
    for _ in range(draw(st.integers(0, 2))):  # None anywhere
        items.insert(draw(st.integers(0, len(items))), None)
    return shape, tuple(items)


def _item(size):
    ints = st.integers(-size, size - 1)
    bounds = st.one_of(st.none(), st.integers(-size - 1, size + 1))
    unique_list = st.lists(ints.map(lambda i: i % size), min_size=1, max_size=size, unique=True)
    return st.one_of(
        ints,
        st.builds(slice, bounds, bounds, st.sampled_from([None, 1, 2, 3])),
        unique_list,
        unique_list.map(lambda xs: [[x] for x in xs]),  # a 2-D index tensor
        st.lists(st.booleans(), min_size=size, max_size=size).map(np.array),
    )


def _to_lib(lib, index):
    """The index with lists and arrays as `lib` tensors."""
    def convert(item):
        if isinstance(item, (list, np.ndarray)):
            return lib.tensor(np.asarray(item))
        return item
    return tuple(convert(item) for item in index)


def _numpy_agrees(index):
    """False where PyTorch's rules differ from NumPy's: a Python int next to an index array
    (PyTorch selects first), or an ellipsis between index arrays (NumPy always counts it as a
    separator, PyTorch only when it covers a dimension)."""
    has_int = any(isinstance(i, int) and not isinstance(i, bool) for i in index)
    arrays = sum(isinstance(i, (list, np.ndarray)) for i in index)
    return not ((has_int and arrays) or (any(i is Ellipsis for i in index) and arrays > 1))


@settings(max_examples=150, deadline=None)
@given(case=shapes_and_indices())
def test_hypothesis_getitem_matches_numpy(case):
    shape, index = case
    a = _arange(*shape)
    if not _numpy_agrees(index):
        return
    try:
        expected = a[tuple(np.asarray(i) if isinstance(i, list) else i for i in index)]
    except IndexError:
        with pytest.raises(IndexError):
            lg.tensor(a)[_to_lib(lg, index)]
        return
    np.testing.assert_array_equal(lg.tensor(a)[_to_lib(lg, index)].numpy(), expected)


def _shares_memory(ours, base):
    return np.shares_memory(ours._data, base._data)


@pytest.mark.torch
@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=shapes_and_indices())
def test_hypothesis_getitem_and_setitem_match_pytorch(case, torch):
    shape, index = case
    a = _arange(*shape)
    ours, theirs = lg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    try:
        expected = theirs[_to_lib(torch, index)]
    except (IndexError, RuntimeError, ValueError):
        with pytest.raises((IndexError, RuntimeError, ValueError)):
            ours[_to_lib(lg, index)]
        return
    got = ours[_to_lib(lg, index)]
    assert tuple(got.shape) == tuple(expected.shape), index
    np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())
    if got.numel():  # a view exactly when PyTorch's is one
        theirs_is_view = expected._base is theirs
        assert _shares_memory(got, ours) == theirs_is_view, index
    seed = np.arange(got.numel(), dtype=np.float64).reshape(tuple(got.shape)) + 1
    got.backward(lg.tensor(seed))
    expected.backward(torch.tensor(seed))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())

    mine, ref = lg.tensor(a), torch.tensor(a)
    values = -seed
    mine[_to_lib(lg, index)] = lg.tensor(values)
    ref[_to_lib(torch, index)] = torch.tensor(values)
    np.testing.assert_array_equal(mine.numpy(), ref.numpy())
    mine[_to_lib(lg, index)] = 0.5
    ref[_to_lib(torch, index)] = 0.5
    np.testing.assert_array_equal(mine.numpy(), ref.numpy())


# ------------------------------------------------------------------ views

def test_basic_indexing_returns_views_that_share_memory_and_version():
    base = lg.tensor(_arange(3, 4))
    for view in (base[1], base[:, 2], base[1:, ::2], base[None], base[...], base[0, 1]):
        assert view._base is base
        assert _shares_memory(view, base)
    row = base[1]
    row[0] = 100.0  # setitem on a view changes the base
    assert base[1, 0].item() == 100.0
    assert base._version == row._version == 1
    corner = base[2, 3]  # all ints: still a 0-d view, not a copy
    corner.fill_(-1.0)
    assert base[2, 3].item() == -1.0


def test_advanced_indexing_copies():
    base = lg.tensor(_arange(3, 4))
    picked = base[[0, 1]]
    picked[0, 0] = 50.0
    assert base[0, 0].item() == 0.0
    assert picked._base is None
    masked = base[base > 5]
    masked[0] = -3.0
    assert float(base.min()) == 0.0


def test_setitem_through_a_chain_of_views():
    base = lg.zeros(3, 4, 5)
    base[1][2][3] = 9.0
    base[:, 0][1:, 2] = 4.0
    base.transpose(0, 2)[4, 3, 2] = 1.0
    expected = np.zeros((3, 4, 5))
    expected[1, 2, 3] = 9.0
    expected[1:, 0, 2] = 4.0
    expected[2, 3, 4] = 1.0
    np.testing.assert_array_equal(base.numpy(), expected)


# ------------------------------------------------------------------ gradients

def test_repeated_integer_indices_accumulate_gradients():
    x = lg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    y = lg.tensor(_arange(2, 3), requires_grad=True)
    (y[lg.tensor([1, 1]), lg.tensor([2, 2])] * lg.tensor([2.0, 5.0], dtype=lg.float64)).sum() \
        .backward()
    assert y.grad.tolist() == [[0.0, 0.0, 0.0], [0.0, 0.0, 7.0]]


def test_gradient_of_getitem_is_differentiable():
    x = lg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = lg.autograd.grad((x[[0, 0, 1]] ** 2).sum(), [x], create_graph=True)
    assert g.tolist() == [4.0, 4.0, 0.0]  # 2 * 2 * x0, 2 * x1
    (gg,) = lg.autograd.grad(g.sum(), [x])
    assert gg.tolist() == [4.0, 2.0, 0.0]


SETITEM_SCENARIOS = {
    "value_into_nonleaf": lambda m, x, w: _set(x * 2, (0, slice(1, 3)), w),
    "mask_into_nonleaf": lambda m, x, w: _set(x * 3, x > 5, w.sum()),
    "index_list_into_nonleaf": lambda m, x, w: _set(x + 1, (slice(None), [3, 0]), w[0]),
    "into_buffer_without_grad": lambda m, x, w: _set(m.zeros(3, 4, dtype=m.float64),
                                                     (2, slice(0, 2)), w) * x,
    "row_view": lambda m, x, w: _set_view(x * 2, lambda y: y[0], slice(1, 3), w),
    "diagonal_view": lambda m, x, w: _set_view(x * 2, lambda y: y.diagonal(), slice(1, None),
                                               w * 3),
    "transposed_column": lambda m, x, w: _set_view(x.t() * 1, lambda y: y[:, 1], slice(0, 2),
                                                   w),
    "reshaped_row": lambda m, x, w: _set_view(x * 1, lambda y: y.view(2, 6)[1], slice(4, None),
                                              w),
    "read_after_write": lambda m, x, w: _read_after_write(x, w),
}


def _set(y, index, value):
    y[index] = value
    return y


def _set_view(y, make_view, index, value):
    view = make_view(y)
    view[index] = value
    return y * view.sum()  # uses both the base and the updated view


def _read_after_write(x, w):
    y = x * 1
    row = y[1]
    y[1, 0:2] = w
    return y.sum() * row


@pytest.mark.torch
@pytest.mark.parametrize("name", SETITEM_SCENARIOS)
def test_setitem_with_gradients_matches_pytorch(name, torch):
    def run(lib):
        x = lib.tensor(_arange(3, 4), requires_grad=True)
        w = lib.tensor([5.0, 6.0], dtype=lib.float64, requires_grad=True)
        out = SETITEM_SCENARIOS[name](lib, x, w)
        seed = np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)) + 1
        out.backward(lib.tensor(seed))
        return out.detach().numpy(), x.grad.numpy(), w.grad.numpy()

    for ours, theirs in zip(run(lg), run(torch)):
        np.testing.assert_allclose(ours, theirs)


def test_setitem_on_a_leaf_that_requires_grad_is_refused():
    x = lg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x[0] = 2.0
    with pytest.raises(RuntimeError, match="leaf"):
        x[1:][0] = 2.0  # through a view of it, too
    with lg.no_grad():
        x[0] = 2.0
    assert x.tolist() == [2.0, 1.0, 1.0]


def test_setitem_on_a_split_piece_rewrites_the_base_history():
    # PyTorch refuses this; labgrad gives the gradients the values imply.
    x = lg.ones(4, requires_grad=True)
    w = lg.tensor(1.0, requires_grad=True)
    y = x * 2
    piece = y.split(2)[0]
    piece[0] = w * 3
    (y * lg.arange(1.0, 5.0)).sum().backward()
    assert x.grad.tolist() == [0.0, 4.0, 6.0, 8.0]
    assert w.grad.item() == 3.0


def test_saved_tensor_modified_by_setitem_is_detected():
    x = lg.ones(3, requires_grad=True)
    y = x * 1
    z = y.exp()  # saves its output
    z[0] = 0.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


# ------------------------------------------------------------------ error messages

@pytest.mark.parametrize("index, words", [
    (5, ["__getitem__", "5", "(3, 4)"]),
    ((0, 7), ["__getitem__", "[0, 7]", "(3, 4)"]),
    ((0, 0, 0), ["too many indices", "(3, 4)"]),
    ([0, 9], ["9", "(3, 4)"]),
    (lg.tensor([True, False]), ["mask", "(3, 4)"]),
])
def test_index_errors_name_the_op_the_index_and_the_shape(index, words):
    t = lg.zeros(3, 4)
    with pytest.raises(IndexError) as info:
        t[index]
    for word in words:
        assert word in str(info.value)
    with pytest.raises(IndexError, match=r"__setitem__.*\(3, 4\)"):
        t[index] = 1.0


def test_index_type_errors():
    t = lg.zeros(3, 4)
    with pytest.raises(IndexError, match="float"):
        t[1.5]
    with pytest.raises(IndexError, match="integer or bool"):
        t[lg.tensor([1.0])]
    with pytest.raises(ValueError, match="step"):
        t[::-1]
    with pytest.raises(TypeError, match="str"):
        t[0] = "a"


def test_value_shape_errors_name_the_shapes():
    t = lg.zeros(3, 4)
    with pytest.raises(RuntimeError, match=r"\(4,\)"):
        t[0] = lg.ones(3)


# ------------------------------------------------------------------ index / mask ops

def test_index_select_add_copy_fill():
    a = _arange(3, 4)
    t = lg.tensor(a)
    index = lg.tensor([2, 0, 2])
    np.testing.assert_array_equal(t.index_select(0, index).numpy(), a[[2, 0, 2]])
    added = t.index_add(0, index, lg.ones(3, 4, dtype=lg.float64), alpha=2)
    expected = a.copy()
    np.add.at(expected, [2, 0, 2], 2.0)
    np.testing.assert_array_equal(added.numpy(), expected)
    copied = t.index_copy(1, lg.tensor([3]), lg.zeros(3, 1, dtype=lg.float64))
    assert copied[:, 3].tolist() == [0.0, 0.0, 0.0]
    filled = lg.index_fill(t, 1, lg.tensor([-1]), 7)
    assert filled[:, 3].tolist() == [7.0, 7.0, 7.0]
    assert t.numpy().tolist() == a.tolist()  # out-of-place ops left the input alone


def test_in_place_index_and_mask_ops():
    t = lg.zeros(2, 3)
    assert t.index_add_(1, lg.tensor([0, 0]), lg.ones(2, 2)) is t
    assert t[:, 0].tolist() == [2.0, 2.0]
    t.masked_fill_(t > 1, -1.0)
    assert t[:, 0].tolist() == [-1.0, -1.0]
    t.index_fill_(0, lg.tensor([1]), 3.0)
    assert t[1].tolist() == [3.0, 3.0, 3.0]
    t.index_copy_(0, lg.tensor([0]), lg.full((1, 3), 5.0))
    t.masked_scatter_(t > 4, lg.tensor([1.0, 2.0, 3.0]))
    assert t[0].tolist() == [1.0, 2.0, 3.0]
    t.put_(lg.tensor([5]), lg.tensor([9.0]))
    t.index_put_((lg.tensor([0]), lg.tensor([0])), lg.tensor(4.0), accumulate=True)
    assert t.tolist() == [[5.0, 2.0, 3.0], [3.0, 3.0, 9.0]]
    assert t._version == 7


def test_in_place_mask_op_on_a_view_changes_the_base():
    base = lg.zeros(2, 3)
    base[1].masked_fill_(lg.tensor([True, False, True]), 1.0)
    assert base.tolist() == [[0.0, 0.0, 0.0], [1.0, 0.0, 1.0]]


@pytest.mark.torch
def test_masked_ops_broadcast_like_pytorch(torch):
    a = np.arange(4.0).reshape(1, 4)
    m = np.array([[True], [False], [True]])
    for fn in (lambda lib, x, k: x.masked_fill(k, 2.0),
               lambda lib, x, k: x.masked_select(k),
               lambda lib, x, k: x.masked_scatter(k, lib.arange(12.0, dtype=lib.float64))):
        ours = fn(lg, lg.tensor(a), lg.tensor(m))
        theirs = fn(torch, torch.tensor(a), torch.tensor(m))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("values", [[[0, 1.5], [0, 0]], [0.0], 3.0, [[[0.0]]]], ids=repr)
def test_nonzero_and_argwhere_match_pytorch(values, torch):
    ours, theirs = lg.tensor(values), torch.tensor(values)
    np.testing.assert_array_equal(ours.nonzero().numpy(), theirs.nonzero().numpy())
    assert ours.nonzero().dtype == lg.int64
    assert tuple(ours.nonzero().shape) == tuple(theirs.nonzero().shape)
    for o, t in zip(ours.nonzero(as_tuple=True), theirs.nonzero(as_tuple=True)):
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    np.testing.assert_array_equal(lg.argwhere(ours).numpy(), torch.argwhere(theirs).numpy())


def test_where_with_only_a_condition_gives_nonzero_as_tuple():
    rows, cols = lg.where(lg.tensor([[True, False], [False, True]]))
    assert rows.tolist() == [0, 1] and cols.tolist() == [0, 1]


@pytest.mark.parametrize("call, error, words", [
    (lambda t: t.index_select(0, lg.tensor([3])), IndexError, ["index_select", "3", "(3, 4)"]),
    (lambda t: t.index_select(0, lg.tensor([-1])), IndexError, ["index_select", "-1"]),
    (lambda t: t.index_select(0, lg.tensor([[0]])), IndexError, ["vector"]),
    (lambda t: t.index_select(0, lg.tensor([0.0])), IndexError, ["integer"]),
    (lambda t: t.index_add(0, lg.tensor([0]), lg.ones(1, 4, dtype=lg.float64)), RuntimeError,
     ["index_add", "float64", "float32"]),
    (lambda t: t.index_add(0, lg.tensor([0]), lg.ones(2, 4)), RuntimeError,
     ["index_add", "(2, 4)", "(1, 4)"]),
    (lambda t: t.index_copy(1, lg.tensor([4]), lg.ones(3, 1)), IndexError, ["index_copy", "4"]),
    (lambda t: t.masked_fill(lg.tensor([1, 0, 0, 1]), 1.0), RuntimeError, ["bool"]),
    (lambda t: t.masked_fill(t > 0, lg.ones(2)), RuntimeError, ["0-d"]),
    (lambda t: t.masked_fill(lg.ones(5, dtype=lg.bool), 1.0), RuntimeError, ["(5,)", "(3, 4)"]),
    (lambda t: t.masked_fill_(lg.ones(2, 3, 4, dtype=lg.bool), 1.0), RuntimeError,
     ["masked_fill_", "(2, 3, 4)"]),
    (lambda t: t.masked_scatter(t == 0, lg.ones(3)), RuntimeError, ["3 elements", "12"]),
    (lambda t: t.take(lg.tensor([12])), IndexError, ["take", "12", "12 elements"]),
    (lambda t: t.put(lg.tensor([0, 1]), lg.ones(3)), RuntimeError, ["put", "3", "2"]),
])
def test_index_op_errors(call, error, words):
    with pytest.raises(error) as info:
        call(lg.zeros(3, 4))
    for word in words:
        assert word in str(info.value)


def test_zero_dim_inputs_to_dim_ops():
    t = lg.tensor(3.0, requires_grad=True)
    assert t.index_select(0, lg.tensor([0])).shape == ()
    out = t.index_fill(0, lg.tensor([0]), 1.0) + t.index_add(-1, lg.tensor([0]), lg.tensor(2.0))
    assert out.item() == 6.0
    out.backward()
    assert t.grad.item() == 1.0


@pytest.mark.torch
@pytest.mark.parametrize("name, call", [
    ("gather", lambda m, x: x.gather(1, m.tensor([[5]]))),
    ("scatter", lambda m, x: x.scatter(1, m.tensor([[5]]), 1.0)),
    ("scatter_add", lambda m, x: x.scatter_add(1, m.tensor([[5]]), m.ones(1, 1))),
    ("index_select", lambda m, x: x.index_select(0, m.tensor([5]))),
    ("index_add", lambda m, x: x.index_add(1, m.tensor([5]), m.ones(2, 1))),
    ("index_copy", lambda m, x: x.index_copy(1, m.tensor([5]), m.ones(2, 1))),
    ("index_fill", lambda m, x: x.index_fill(1, m.tensor([-5]), 1.0)),
    ("take", lambda m, x: x.take(m.tensor([9]))),
    ("put", lambda m, x: x.put(m.tensor([9]), m.tensor([1.0]))),
    ("take_along_dim", lambda m, x: m.take_along_dim(x, m.tensor([7]))),
])
def test_out_of_bounds_indices_raise_pytorchs_exception_type(name, call, torch):
    with pytest.raises(Exception) as expected:
        call(torch, torch.zeros(2, 3))
    with pytest.raises(Exception) as ours:
        call(lg, lg.zeros(2, 3))
    assert ours.type is expected.type
    assert name in str(ours.value) and "out of bounds" in str(ours.value)


def test_take_along_dim_names_the_negative_index_it_was_given():
    with pytest.raises(RuntimeError, match=r"index -7 is out of bounds .*\[-3, 3\)"):
        lg.take_along_dim(lg.zeros(2, 3), lg.tensor([[-7]]), 1)
    assert lg.take_along_dim(lg.arange(3.0), lg.tensor([-1, 0]), 0).tolist() == [2.0, 0.0]
