"""labgrad.utils.data.DataLoader: arguments, batching, shuffling, iterable datasets, worker
processes (order, seeds, errors, shutdown, fallback) and the progress helper."""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
import types
import warnings

import numpy as np
import pytest

import labgrad as lg
from labgrad.utils import data as ld
from labgrad.utils.data import dataloader as dl_module
from labgrad.utils.data import _progress as progress_module


class Squares(ld.Dataset):
    """(i, i*i) as a tensor pair; raises at `bad`, hard-exits at `die`."""

    def __init__(self, n, bad=None, die=None, delay=0.0):
        self.n, self.bad, self.die, self.delay = n, bad, die, delay

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise KeyError(f"bad index {i}")
        if i == self.die:
            os._exit(3)
        if self.delay:
            time.sleep(self.delay)
        return lg.tensor(i), lg.tensor([i * i, -i])


class Range(ld.IterableDataset):
    """range(start, stop), split between workers via get_worker_info()."""

    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __len__(self):
        return self.stop - self.start

    def __iter__(self):
        info = ld.get_worker_info()
        if info is None:
            return iter(range(self.start, self.stop))
        return iter(range(self.start + info.id, self.stop, info.num_workers))


class WorkerSeeds(ld.Dataset):
    """What the worker sees: its id, its seed, and a draw from each global generator."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        info = ld.get_worker_info()
        return (info.id, info.seed, lg.rand(1).item(), float(np.random.rand()),
                type(info.dataset).__name__)


class Unpicklable(ld.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return lambda: i


def _flatten(batches):
    return [b.tolist() if isinstance(b, lg.Tensor) else b for batch in batches for b in batch]


def _init_fn(worker_id):
    os.environ["LABGRAD_TEST_WORKER"] = str(worker_id)


class EnvDataset(ld.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return os.environ.get("LABGRAD_TEST_WORKER", "none")


# ---------------------------------------------------------------- arguments

ARG_ERRORS = [
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified"),
    (dict(num_workers=1, prefetch_factor=-1), "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(shuffle=True, sampler=[0, 1]), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], sampler=[0]), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
    (dict(multiprocessing_context="fork"), "multiprocessing_context can only be used"),
    (dict(num_workers=1, multiprocessing_context="nope"), "should specify a valid start"),
]


@pytest.mark.parametrize("kwargs, match", ARG_ERRORS, ids=[m for _, m in ARG_ERRORS])
def test_argument_conflicts(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ld.DataLoader(Squares(4), **kwargs)


@pytest.mark.torch
@pytest.mark.parametrize("kwargs, match", ARG_ERRORS, ids=[m for _, m in ARG_ERRORS])
def test_argument_conflicts_are_torchs(torch, kwargs, match):
    from torch.utils.data import DataLoader
    with pytest.raises(ValueError, match=match):
        DataLoader(list(range(4)), **kwargs)


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]),
                                    dict(batch_sampler=[[0]])])
def test_iterable_dataset_rejects_samplers(kwargs):
    with pytest.raises(ValueError, match="DataLoader with IterableDataset: expected unspecified"):
        ld.DataLoader(Range(0, 4), **kwargs)


def test_attributes_frozen_after_init():
    loader = ld.DataLoader(Squares(4))
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    loader.num_workers = 0  # not frozen in PyTorch either
    with pytest.raises(TypeError, match="multiprocessing_context option should be a valid"):
        ld.DataLoader(Squares(4), num_workers=1, multiprocessing_context=object())


# ---------------------------------------------------------------- batching, against torch

class PlainSquares:
    """A map-style dataset both frameworks accept: (i, [i*i, -i]) as nested lists/ints."""

    def __len__(self):
        return 7

    def __getitem__(self, i):
        return {"i": i, "sq": [i * i, float(-i)], "name": f"s{i}"}


LOADER_CASES = [
    dict(batch_size=3),
    dict(batch_size=3, drop_last=True),
    dict(batch_size=7),
    dict(batch_size=None),
    dict(batch_sampler=[[0, 6], [3], [1, 2, 4]]),
    dict(sampler=[6, 5, 4], batch_size=2),
]


def _describe(batch, tensor_type):
    if isinstance(batch, tensor_type):
        return ("tensor", str(batch.dtype).split(".")[-1], batch.tolist())
    if isinstance(batch, dict):
        return {k: _describe(v, tensor_type) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [_describe(v, tensor_type) for v in batch])
    return batch


@pytest.mark.torch
@pytest.mark.parametrize("kwargs", LOADER_CASES, ids=str)
def test_batches_match_torch(torch, kwargs):
    from torch.utils.data import DataLoader
    ours = ld.DataLoader(PlainSquares(), **kwargs)
    theirs = DataLoader(PlainSquares(), **kwargs)
    assert len(ours) == len(theirs)
    assert [_describe(b, lg.Tensor) for b in ours] == \
        [_describe(b, torch.Tensor) for b in theirs]


@pytest.mark.torch
@pytest.mark.parametrize("batch_size, drop_last", [(2, False), (2, True), (None, False)])
def test_iterable_dataset_batches_and_len_match_torch(torch, batch_size, drop_last):
    from torch.utils.data import DataLoader, IterableDataset

    class TorchRange(IterableDataset):
        def __iter__(self):
            return iter(range(5))

        def __len__(self):
            return 5
    ours = ld.DataLoader(Range(0, 5), batch_size=batch_size, drop_last=drop_last)
    theirs = DataLoader(TorchRange(), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert [_describe(b, lg.Tensor) for b in ours] == \
        [_describe(b, torch.Tensor) for b in theirs]


@pytest.mark.parametrize("wrap", ["plain", "subset", "nested_subset"])
def test_tensor_dataset_fast_batches_equal_row_by_row(wrap):
    dataset = ld.TensorDataset(lg.randn(10, 3), lg.arange(10))
    if wrap != "plain":
        dataset = ld.Subset(dataset, [9, 2, 4, 7, -1, 0, 3])
    if wrap == "nested_subset":
        dataset = ld.Subset(dataset, [6, 5, 0, 1, 4])
    fast = list(ld.DataLoader(dataset, batch_size=4))
    slow = list(ld.DataLoader(dataset, batch_size=4, collate_fn=lambda b: ld.default_collate(b)))
    assert len(fast) == len(slow) == -(-len(dataset) // 4)
    for (fx, fy), (sx, sy) in zip(fast, slow):
        assert isinstance(fast[0], list)
        assert fx.tolist() == sx.tolist() and fy.tolist() == sy.tolist()
        assert fx.dtype == sx.dtype and fy.dtype == sy.dtype


def test_shuffle_is_deterministic_by_seed_and_generator():
    def epoch(**kwargs):
        return [b[0].tolist() for b in ld.DataLoader(Squares(20), batch_size=5, shuffle=True,
                                                     **kwargs)]
    lg.manual_seed(1)
    first = epoch()
    lg.manual_seed(1)
    assert epoch() == first
    assert sorted(sum(first, [])) == list(range(20))
    assert first != [list(range(i, i + 5)) for i in range(0, 20, 5)]
    a = epoch(generator=lg.Generator().manual_seed(5))
    assert a == epoch(generator=lg.Generator().manual_seed(5))


def test_iterable_len_overrun_warns():
    class Liar(Range):
        def __len__(self):
            return 2
    loader = ld.DataLoader(Liar(0, 4), batch_size=None)
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        list(loader)


def test_pin_memory_accepted():
    batches = list(ld.DataLoader(Squares(3), batch_size=2, pin_memory=True))
    assert batches[0][0].tolist() == [0, 1]


# ---------------------------------------------------------------- worker processes

def test_two_workers_keep_order_and_types():
    single = list(ld.DataLoader(Squares(23), batch_size=3))
    multi = list(ld.DataLoader(Squares(23), batch_size=3, num_workers=2))
    assert _flatten(multi) == _flatten(single)
    assert isinstance(multi[0][1], lg.Tensor) and multi[0][1].dtype == lg.int64
    shuffled = list(ld.DataLoader(Squares(23), batch_size=3, num_workers=2, shuffle=True,
                                  generator=lg.Generator().manual_seed(0)))
    same = list(ld.DataLoader(Squares(23), batch_size=3, shuffle=True,
                              generator=lg.Generator().manual_seed(0)))
    assert _flatten(shuffled) == _flatten(same)


def test_workers_without_batching_and_with_prefetch():
    loader = ld.DataLoader(Squares(5), batch_size=None, num_workers=2, prefetch_factor=1)
    assert [int(i) for i, _ in loader] == [0, 1, 2, 3, 4]


def test_worker_info_seeds_and_init_fn():
    lg.manual_seed(0)
    rows = list(ld.DataLoader(WorkerSeeds(), batch_size=None, num_workers=2))
    ids = [r[0] for r in rows]
    assert ids == [0, 1, 0, 1]  # round-robin
    seeds = {r[0]: r[1] for r in rows}
    assert seeds[1] == seeds[0] + 1
    assert rows[0][2] != rows[1][2] and rows[0][3] != rows[1][3]  # distinct streams
    assert rows[0][4] == "WorkerSeeds"
    lg.manual_seed(0)
    again = list(ld.DataLoader(WorkerSeeds(), batch_size=None, num_workers=2))
    assert again == rows  # labgrad.manual_seed fixes the workers' seeds
    assert ld.get_worker_info() is None
    tags = list(ld.DataLoader(EnvDataset(), batch_size=None, num_workers=2,
                              worker_init_fn=_init_fn))
    assert tags == ["0", "1", "0", "1"]


def test_iterable_dataset_shared_between_workers():
    loader = ld.DataLoader(Range(0, 11), batch_size=2, num_workers=2)
    values = sorted(_flatten([[b] for b in loader]), key=lambda v: v[0])
    assert sorted(sum(values, [])) == list(range(11))
    plain = list(ld.DataLoader(Range(0, 6), batch_size=None, num_workers=2))
    assert sorted(int(v) for v in plain) == list(range(6))


def test_worker_error_names_worker_and_traceback():
    loader = ld.DataLoader(Squares(12, bad=7), batch_size=2, num_workers=2)
    seen = []
    with pytest.raises(KeyError) as info:
        for batch in loader:
            seen.append(batch[0].tolist())
    message = str(info.value)
    assert "Caught KeyError in DataLoader worker process 1" in message
    assert "Traceback" in message and "bad index 7" in message and "__getitem__" in message
    assert seen == [[0, 1], [2, 3], [4, 5]]  # the batches before the failing one, in order


def test_worker_init_fn_error_is_reported():
    def broken(worker_id):
        raise ValueError(f"init failed in {worker_id}")
    with pytest.raises(ValueError, match="init failed in 0"):
        list(ld.DataLoader(Squares(4), num_workers=1, worker_init_fn=broken))


class BrokenIterable(ld.IterableDataset):
    def __iter__(self):
        raise OSError("cannot open the shard")


def test_iterable_dataset_error_in_worker():
    with pytest.raises(OSError, match="(?s)worker process 0.*cannot open the shard"):
        list(ld.DataLoader(BrokenIterable(), num_workers=1))


def test_unpicklable_batch_is_an_error_not_a_hang():
    loader = ld.DataLoader(Unpicklable(), batch_size=None, num_workers=1)
    with pytest.raises(Exception, match="picklable"):
        list(loader)


def test_dead_worker_is_detected():
    loader = ld.DataLoader(Squares(6, die=2), batch_size=None, num_workers=1)
    with pytest.raises(RuntimeError, match="exited unexpectedly"):
        list(loader)


def test_timeout():
    loader = ld.DataLoader(Squares(2, delay=0.5), num_workers=1, timeout=0.2)
    with pytest.raises(RuntimeError, match="timed out after 0.2 seconds"):
        next(iter(loader))


def test_break_shuts_workers_down():
    iterator = iter(ld.DataLoader(Squares(100), batch_size=2, num_workers=2))
    next(iterator)
    workers = list(iterator._workers)
    assert all(w.is_alive() for w in workers)
    del iterator
    assert not any(w.is_alive() for w in workers)


def test_persistent_workers_reused_across_epochs():
    loader = ld.DataLoader(Squares(7), batch_size=2, num_workers=2, persistent_workers=True)
    first = _flatten(list(loader))
    iterator = loader._iterator
    pids = [w.pid for w in iterator._workers]
    partial = iter(loader)
    next(partial)  # leave the second epoch early
    assert _flatten(list(loader)) == first
    assert loader._iterator is iterator and [w.pid for w in iterator._workers] == pids
    iterable = ld.DataLoader(Range(0, 5), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(sum((b.tolist() for b in iterable), [])) == [0, 1, 2, 3, 4]
    iterator._shutdown_workers()
    iterable._iterator._shutdown_workers()


# ---------------------------------------------------------------- falling back to the main process

def test_fallback_when_multiprocessing_is_unavailable(monkeypatch):
    context = multiprocessing.get_context("fork")

    def no_queue(*args, **kwargs):
        raise OSError("no semaphores here")
    monkeypatch.setattr(context, "Queue", no_queue)
    monkeypatch.setattr(dl_module, "_warned_reasons", set())
    loader = ld.DataLoader(Squares(5), batch_size=2, num_workers=2,
                           multiprocessing_context=context)
    with pytest.warns(RuntimeWarning, match="no semaphores here.*main process"):
        batches = list(loader)
    assert _flatten(batches) == _flatten(list(ld.DataLoader(Squares(5), batch_size=2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once per reason
        list(loader)
    persistent = ld.DataLoader(Range(0, 3), num_workers=1, persistent_workers=True,
                               multiprocessing_context=context)
    for _ in range(2):  # each epoch starts the dataset's iterator afresh
        assert [b.tolist() for b in persistent] == [[0], [1], [2]]


def test_fallback_for_unpicklable_dataset_under_spawn(monkeypatch):
    monkeypatch.setattr(dl_module, "_warned_reasons", set())
    dataset = Squares(3)
    dataset.transform = lambda x: x  # a lambda cannot be pickled for spawn
    loader = ld.DataLoader(dataset, num_workers=2, multiprocessing_context="spawn")
    with pytest.warns(RuntimeWarning, match="cannot be pickled for the 'spawn' start method"):
        assert len(list(loader)) == 3


def test_fallback_for_notebook_classes_under_spawn(monkeypatch):
    monkeypatch.setattr(dl_module, "_warned_reasons", set())
    notebook_main = types.ModuleType("__main__")  # like IPython's: no __file__
    monkeypatch.setitem(sys.modules, "__main__", notebook_main)
    NotebookData = type("NotebookData", (Squares,), {"__module__": "__main__"})
    notebook_main.NotebookData = NotebookData
    loader = ld.DataLoader(NotebookData(4), batch_size=2, num_workers=2,
                           multiprocessing_context="spawn")
    with pytest.warns(RuntimeWarning, match="NotebookData defined interactively"):
        assert _flatten(list(loader)) == _flatten(list(ld.DataLoader(Squares(4), batch_size=2)))


def test_spawn_workers_run_importable_datasets():
    loader = ld.DataLoader(Squares(5), batch_size=2, num_workers=1,
                           multiprocessing_context="spawn")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert _flatten(list(loader)) == _flatten(list(ld.DataLoader(Squares(5),
                                                                     batch_size=2)))


# ---------------------------------------------------------------- progress

def test_progress_uses_tqdm():
    pytest.importorskip("tqdm")
    bar = ld.progress([1, 2, 3], desc="epoch", disable=True)
    assert type(bar).__module__.startswith("tqdm") and list(bar) == [1, 2, 3]


def test_progress_without_tqdm_passes_through(monkeypatch):
    monkeypatch.setattr(progress_module.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(progress_module, "_hinted", False)
    items = [1, 2]
    with pytest.warns(UserWarning, match="pip install tqdm"):
        assert ld.progress(items) is items
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ld.progress(items, desc="x") is items
