"""labgrad.utils.data: datasets, random_split, samplers and collate, against torch.utils.data
where PyTorch is installed (semantics: lengths, compositions, types, dtypes, shapes)."""
from __future__ import annotations

import collections
import warnings

import numpy as np
import pytest

import labgrad as lg
from labgrad.utils import data as ld


class Squares(ld.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i * i


class Count(ld.IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


# ---------------------------------------------------------------- datasets

def test_tensor_dataset_rows_and_size_mismatch():
    x, y = lg.arange(12.0).reshape(4, 3), lg.tensor([0, 1, 0, 1])
    ds = ld.TensorDataset(x, y)
    assert len(ds) == 4
    row, label = ds[2]
    assert row.tolist() == [6.0, 7.0, 8.0] and label.item() == 0
    with pytest.raises(AssertionError, match=r"Size mismatch between tensors.*\(4, 3\).*\(3,\)"):
        ld.TensorDataset(x, lg.tensor([0, 1, 0]))


def test_concat_dataset_sizes_and_negative_indices():
    ds = Squares(3) + Squares(2)
    assert isinstance(ds, ld.ConcatDataset)
    assert ds.cumulative_sizes == [3, 5] and len(ds) == 5
    assert [ds[i] for i in range(5)] == [0, 1, 4, 0, 1]
    assert ds[-1] == 1 and ds[-5] == 0
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        ds[-6]
    with pytest.raises(IndexError, match="out of range"):
        ds[5]
    with pytest.raises(AssertionError, match="empty"):
        ld.ConcatDataset([])
    with pytest.raises(AssertionError, match="IterableDataset"):
        ld.ConcatDataset([Squares(2), Count(0, 2)])


def test_chain_dataset_and_iterable_add():
    chained = Count(0, 2) + Count(5, 7)
    assert isinstance(chained, ld.ChainDataset)
    assert list(chained) == [0, 1, 5, 6] and len(chained) == 4
    with pytest.raises(AssertionError, match="only supports IterableDataset"):
        list(ld.ChainDataset([Squares(2)]))


def test_stack_dataset_tuple_dict_and_errors():
    a, b = Squares(3), ld.TensorDataset(lg.arange(3))
    assert ld.StackDataset(a, b)[2][0] == 4
    item = ld.StackDataset(x=a, y=Squares(3))[1]
    assert item == {"x": 1, "y": 1}
    assert ld.StackDataset(a, a).__getitems__([0, 2]) == [(0, 0), (4, 4)]
    assert ld.StackDataset(k=ld.Subset(a, [2, 1, 0])).__getitems__([0]) == [{"k": 4}]
    with pytest.raises(ValueError, match="Size mismatch"):
        ld.StackDataset(a, Squares(4))
    with pytest.raises(ValueError, match="both types"):
        ld.StackDataset(a, y=a)
    with pytest.raises(ValueError, match="At least one dataset"):
        ld.StackDataset()


def test_subset_indexing_and_getitems():
    sub = ld.Subset(Squares(10), [9, 3, 4])
    assert len(sub) == 3 and sub[0] == 81 and sub.__getitems__([1, 2]) == [9, 16]


def test_base_classes_raise():
    with pytest.raises(NotImplementedError):
        ld.Dataset()[0]
    with pytest.raises(NotImplementedError):
        iter(ld.IterableDataset())


# ---------------------------------------------------------------- random_split

@pytest.mark.torch
@pytest.mark.parametrize("n, lengths", [(10, [3, 7]), (10, [0.5, 0.5]), (11, [0.3, 0.3, 0.4]),
                                        (7, [0.25, 0.25, 0.5]), (5, [1.0])])
def test_random_split_sizes_match_torch(torch, n, lengths):
    from torch.utils import data as td
    ours = ld.random_split(Squares(n), lengths)
    theirs = td.random_split(list(range(n)), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    covered = sorted(i for s in ours for i in s.indices)
    assert covered == list(range(n))


def test_random_split_remainder_round_robin_and_errors():
    sizes = [len(s) for s in ld.random_split(Squares(10), [0.33, 0.33, 0.34])]
    assert sizes == [4, 3, 3]  # floors 3, 3, 3; the one left goes to the first split
    with pytest.raises(ValueError, match="Sum of input lengths"):
        ld.random_split(Squares(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 0"):
        ld.random_split(Squares(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        ld.random_split(Squares(2), [0.9, 0.1])


def test_random_split_follows_labgrad_seed_and_generator():
    lg.manual_seed(3)
    first = [s.indices for s in ld.random_split(Squares(20), [5, 15])]
    lg.manual_seed(3)
    assert [s.indices for s in ld.random_split(Squares(20), [5, 15])] == first
    gen = lg.Generator().manual_seed(3)
    again = [s.indices for s in ld.random_split(Squares(20), [5, 15], generator=gen)]
    assert again == first  # the default generator seeded alike gives the same split


# ---------------------------------------------------------------- samplers

def test_sequential_and_random_sampler():
    assert list(ld.SequentialSampler(range(4))) == [0, 1, 2, 3]
    order = list(ld.RandomSampler(range(10)))
    assert sorted(order) == list(range(10))
    more = list(ld.RandomSampler(range(4), num_samples=10))
    assert len(more) == 10 and sorted(more[:8]) == [0, 0, 1, 1, 2, 2, 3, 3]
    drawn = list(ld.RandomSampler(range(3), replacement=True, num_samples=50))
    assert len(drawn) == 50 and set(drawn) <= {0, 1, 2}


def test_random_sampler_determinism():
    lg.manual_seed(0)
    a = list(ld.RandomSampler(range(50)))
    lg.manual_seed(0)
    assert list(ld.RandomSampler(range(50))) == a
    g1, g2 = lg.Generator().manual_seed(7), lg.Generator().manual_seed(7)
    assert list(ld.RandomSampler(range(50), generator=g1)) == \
        list(ld.RandomSampler(range(50), generator=g2))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"replacement": 1}, TypeError, "replacement should be a boolean"),
    ({"num_samples": 0}, ValueError, "num_samples should be a positive integer"),
    ({"num_samples": 2.5}, ValueError, "num_samples should be a positive integer"),
])
def test_random_sampler_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        ld.RandomSampler(range(3), **kwargs)


def test_subset_random_and_weighted_samplers():
    picked = list(ld.SubsetRandomSampler([5, 7, 9]))
    assert sorted(picked) == [5, 7, 9]
    draws = list(ld.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 400))
    assert set(draws) == {1, 3} and 0.65 < draws.count(3) / 400 < 0.85
    no_repeat = list(ld.WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(no_repeat) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        ld.WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="replacement should be a boolean"):
        ld.WeightedRandomSampler([1.0], 1, replacement="yes")
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        ld.WeightedRandomSampler([1.0], True)


@pytest.mark.torch
@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True),
                                                      (9, 3, True), (2, 5, False)])
def test_batch_sampler_matches_torch(torch, n, batch_size, drop_last):
    from torch.utils import data as td
    ours = ld.BatchSampler(ld.SequentialSampler(range(n)), batch_size, drop_last)
    theirs = td.BatchSampler(td.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("batch_size, drop_last, match", [
    (0, False, "batch_size should be a positive integer"),
    (True, False, "batch_size should be a positive integer"),
    (2, 1, "drop_last should be a boolean"),
])
def test_batch_sampler_errors(batch_size, drop_last, match):
    with pytest.raises(ValueError, match=match):
        ld.BatchSampler(range(3), batch_size, drop_last)


def test_distributed_sampler_partitions():
    shares = [list(ld.DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False))
              for r in range(3)]
    assert shares == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]  # padded to 12
    shuffled = [set(ld.DistributedSampler(range(9), 3, r, seed=1)) for r in range(3)]
    assert set.union(*shuffled) == set(range(9))
    dropped = ld.DistributedSampler(range(10), 3, 0, drop_last=True)
    assert len(dropped) == 3 and len(list(dropped)) == 3
    with pytest.raises(RuntimeError, match="num_replicas= and rank="):
        ld.DistributedSampler(range(3))
    with pytest.raises(ValueError, match="Invalid rank 3"):
        ld.DistributedSampler(range(3), num_replicas=3, rank=3)


# ---------------------------------------------------------------- collate

Point = collections.namedtuple("Point", ["x", "y"])

COLLATE_CASES = {
    "ints": [1, 2, 3],
    "floats": [1.5, 2.0],
    "bools": [True, False],
    "int_then_float": [1, 2.5],
    "strings": ["a", "b"],
    "tensors": [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
    "np_int16": [np.array([1, 2], np.int16), np.array([3, 4], np.int16)],
    "np_scalars": [np.float32(1.0), np.float32(2.0)],
    "np_bool_scalars": [np.bool_(True), np.bool_(False)],
    "dicts": [{"a": 1, "b": np.zeros(2)}, {"a": 2, "b": np.ones(2)}],
    "tuples": [(1, "x", 0.5), (2, "y", 1.5)],
    "lists": [[1, 2], [3, 4]],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    "nested": [{"p": [Point(np.int64(1), [1.0])], "s": "a"},
               {"p": [Point(np.int64(2), [2.0])], "s": "b"}],
}


def _to_framework(value, make_tensor):
    """Turn the numpy arrays marked for tensors into the framework's tensors."""
    if isinstance(value, np.ndarray) and value.dtype == np.float32 and value.ndim == 2:
        return make_tensor(value)
    return value


def _describe(out, tensor_type):
    """A framework-neutral description: types, dtype names, shapes, values."""
    if isinstance(out, tensor_type):
        return ("tensor", str(out.dtype).split(".")[-1], tuple(out.shape), out.tolist())
    if isinstance(out, dict):
        return {k: _describe(v, tensor_type) for k, v in out.items()}
    if isinstance(out, tuple) and hasattr(out, "_fields"):
        return (type(out).__name__, *[_describe(v, tensor_type) for v in out])
    if isinstance(out, (list, tuple)):
        return (type(out).__name__, [_describe(v, tensor_type) for v in out])
    return out


@pytest.mark.torch
@pytest.mark.parametrize("name", list(COLLATE_CASES))
def test_default_collate_matches_torch(torch, name):
    from torch.utils.data import default_collate as torch_collate
    batch = COLLATE_CASES[name]
    ours = ld.default_collate([_to_framework(b, lg.from_numpy) for b in batch])
    theirs = torch_collate([_to_framework(b, torch.from_numpy) for b in batch])
    assert _describe(ours, lg.Tensor) == _describe(theirs, torch.Tensor)


@pytest.mark.torch
@pytest.mark.parametrize("value", [np.arange(3), np.float64(2.0), (np.zeros(2), 1), "s",
                                   {"k": [np.int32(4)]}, Point(np.ones(1), 2),
                                   np.array(["a", "b"])])
def test_default_convert_matches_torch(torch, value):
    from torch.utils.data import default_convert as torch_convert
    ours, theirs = ld.default_convert(value), torch_convert(value)
    if isinstance(theirs, np.ndarray):
        assert isinstance(ours, np.ndarray)
    else:
        assert _describe(ours, lg.Tensor) == _describe(theirs, torch.Tensor)


def test_collate_stacks_tensors_with_grad():
    a = lg.ones(2, requires_grad=True)
    out = ld.default_collate([a, a * 2])
    assert out.shape == (2, 2) and out.requires_grad
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


def test_collate_errors_name_sizes():
    with pytest.raises(RuntimeError, match=r"\[3\] at entry 0 and \[4\] at entry 1.*pad"):
        ld.default_collate([lg.zeros(3), lg.zeros(4)])
    with pytest.raises(RuntimeError, match=r"\[2\] at entry 0 and \[1\] at entry 1"):
        ld.default_collate([np.zeros(2), np.zeros(1)])
    with pytest.raises(RuntimeError, match=r"equal size.*\[2, 1\]"):
        ld.default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found <class 'object'>"):
        ld.default_collate([object()])
    with pytest.raises(TypeError, match="found <U1"):
        ld.default_collate([np.array(["a"])])


def test_collate_fn_map_extension():
    def upper(batch, *, collate_fn_map=None):
        return "".join(batch).upper()
    out = ld.collate([("a", 1), ("b", 2)], collate_fn_map={str: upper, int: lambda b, **_: 0})
    assert out == ["AB", 0]


def test_no_warning_from_plain_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ld.default_collate([{"x": lg.zeros(2)}, {"x": lg.ones(2)}])
