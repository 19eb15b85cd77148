"""What runs inside a DataLoader worker process, and what crosses the process boundary.

A worker reads ``(task_id, indices)`` from its own index queue, fetches and collates the
batch, and puts ``(task_id, pickled batch)`` on the result queue shared by all workers.
Tensors travel as NumPy arrays (``_Shipped``) and are wrapped back into tensors in the main
process; an exception travels as an ``ExceptionWrapper`` carrying the worker's traceback.
"""
from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback

import numpy as np

from ... import backend
from ... import random as _random
from ...device import as_device
from ...tensor import Tensor

__all__ = ["WorkerInfo", "get_worker_info"]

# How often (seconds) the main process checks that its workers are alive while it waits.
STATUS_CHECK_INTERVAL = 1.0
# How often an idle worker checks whether it should stop (done_event set, or the main process
# gone): shutdown must not depend on the index queue alone, which the garbage collector may
# already have closed when an abandoned iterator is collected.
WORKER_POLL_INTERVAL = 0.1

_worker_info = None


class WorkerInfo:
    """Information about the current DataLoader worker process: ``id`` (0 to num_workers-1),
    ``num_workers``, ``seed`` (this worker's seed) and ``dataset`` (this process's copy)."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id, num_workers, seed, dataset):  # noqa: A002 - PyTorch's name
        self.id = id
        self.num_workers = num_workers
        self.seed = seed
        self.dataset = dataset

    def __repr__(self):
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={type(self.dataset).__name__})")


def get_worker_info():
    """The WorkerInfo of this DataLoader worker process, or None in the main process.

    Use it in an IterableDataset's ``__iter__`` (or a worker_init_fn) to give each worker its
    own share of the data.
    """
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, with its traceback as text, to re-raise in the main
    process."""

    def __init__(self, where: str):
        exc_type, exc, _ = sys.exc_info()
        self.exc_type = exc_type if _picklable(exc_type) else RuntimeError
        self.where = where
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, exc.__traceback__))

    def reraise(self):
        """Raise the worker's exception type, its message naming the worker and carrying the
        worker's traceback."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # noqa: BLE001 - the type needs other arguments
            raise RuntimeError(msg) from None
        raise exception


class _KeyErrorMessage(str):
    """KeyError quotes its message with repr(); this keeps the traceback readable."""

    def __repr__(self):
        return str(self)


def _picklable(obj) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:  # noqa: BLE001 - anything pickle raises means no
        return False
    return True


class _IterableDatasetStopIteration:
    """A worker's iterable dataset is exhausted."""

    def __init__(self, worker_id: int):
        self.worker_id = worker_id


class _ResumeIteration:
    """Start a new epoch in a persistent worker (restart its dataset iterator)."""


# ---------------------------------------------------------------- tensors across processes

class _Shipped:
    """A tensor in transit: its array on the host, and the device to put it back on."""

    __slots__ = ("array", "device")

    def __init__(self, array, device):
        self.array = array
        self.device = device

    def __reduce__(self):
        return (_Shipped, (self.array, self.device))


def ship(data):
    """`data` with every tensor inside lists, tuples, namedtuples and dicts made a _Shipped."""
    if isinstance(data, Tensor):
        return _Shipped(data.numpy(force=True), str(data.device))
    return _map_containers(data, ship)


def unship(data):
    """Undo ship(): _Shipped back to tensors."""
    if isinstance(data, _Shipped):
        array = data.array
        if data.device != "cpu":
            array = backend.to_device(array, as_device(data.device))
        return Tensor._wrap(array)
    return _map_containers(data, unship)


def _map_containers(data, fn):
    kind = type(data)
    if kind is list:
        return [fn(d) for d in data]
    if kind is dict:
        return {key: fn(value) for key, value in data.items()}
    if kind is tuple:
        return tuple(fn(d) for d in data)
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return kind(*(fn(d) for d in data))
    return data


# ---------------------------------------------------------------- fetching

class MapFetcher:
    """Samples of a map-style dataset: one index, or a batch of indices collated."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.tensor_rows = _tensor_rows(dataset) if auto_collation else None
        if self.tensor_rows is not None and collate_fn is not _default_collate():
            self.tensor_rows = None

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.tensor_rows is not None:
            tensors, row_of = self.tensor_rows
            rows = np.asarray(index, dtype=np.int64)
            if row_of is not None:
                rows = row_of[rows]
            return [t[rows] for t in tensors]
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            samples = getitems(index)
        else:
            samples = [self.dataset[i] for i in index]
        return self.collate_fn(samples)


def _default_collate():
    from ._collate import default_collate
    return default_collate


def _tensor_rows(dataset):
    """For a TensorDataset, or Subsets of one (what random_split makes): its tensors and the
    array mapping the dataset's indices to their rows (None: the same). Then a batch collated
    by default_collate is each tensor indexed by the batch's rows at once, the same result as
    stacking samples one by one, and much faster. None for any other dataset."""
    from .dataset import Subset, TensorDataset
    row_of = None
    while type(dataset) is Subset:
        indices = np.asarray(dataset.indices, dtype=np.int64)
        row_of = indices if row_of is None else indices[row_of]
        dataset = dataset.dataset
    if (isinstance(dataset, TensorDataset)
            and type(dataset).__getitem__ is TensorDataset.__getitem__
            and getattr(type(dataset), "__getitems__", None) is None):
        return dataset.tensors, row_of
    return None


class IterableFetcher:
    """Samples of an iterable dataset: the next one, or the next batch collated."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.iterator = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        samples = []
        for _ in index:
            try:
                samples.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not samples or (self.drop_last and len(samples) < len(index)):
            raise StopIteration
        return self.collate_fn(samples)


# ---------------------------------------------------------------- the worker process

def seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed Python's, labgrad's and NumPy's global generators for one worker; its seed."""
    seed = (base_seed + worker_id) % 2 ** 64
    random.seed(seed)
    _random.manual_seed(seed)
    # NumPy's legacy global generator too (datasets often draw from it): distinct per worker
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def worker_loop(fetcher_cls, dataset, index_queue, result_queue, done_event, auto_collation,
                collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers):
    """The body of worker process `worker_id`: serve index tasks until told to stop."""
    global _worker_info
    try:
        seed = seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        where = f"in DataLoader worker process {worker_id}"

        def start():
            """A fetcher, or the error that prevented it (sent with the next task)."""
            try:
                return fetcher_cls(dataset, auto_collation, collate_fn, drop_last), None
            except Exception:  # noqa: BLE001 - re-raised in the main process
                return None, ExceptionWrapper(where)

        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher, init_error = start()
        except Exception:  # noqa: BLE001 - reported to the main process with the first task
            fetcher, init_error = None, ExceptionWrapper(where)
        iteration_end = False
        parent = os.getppid()
        while True:
            try:
                task = index_queue.get(timeout=WORKER_POLL_INTERVAL)
            except queue.Empty:
                if done_event.is_set() or os.getppid() != parent:
                    break
                continue
            if isinstance(task, _ResumeIteration):
                result_queue.put((task, None))
                iteration_end = False
                fetcher, init_error = start()
                continue
            if task is None:
                break
            if done_event.is_set() or iteration_end:
                continue  # drain what is left without working on it
            task_id, index = task
            if fetcher is None:
                data = init_error  # worker_init_fn or the dataset's iterator failed
            else:
                try:
                    data = ship(fetcher.fetch(index))
                except StopIteration:
                    if fetcher_cls is not IterableFetcher:
                        data = ExceptionWrapper(where)
                    else:
                        data, iteration_end = _IterableDatasetStopIteration(worker_id), True
                except Exception:  # noqa: BLE001 - re-raised in the main process
                    data = ExceptionWrapper(where)
            result_queue.put((task_id, _pickled(data, where)))
            del data, task, index
    except KeyboardInterrupt:
        pass  # the main process handles Ctrl-C
    if done_event.is_set():
        result_queue.cancel_join_thread()
        result_queue.close()


def _pickled(data, where) -> bytes:
    """The result as bytes, pickled here so that an unpicklable batch becomes an error the
    main process sees (a Queue would fail silently in its feeder thread)."""
    try:
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - anything pickle raises
        return pickle.dumps(ExceptionWrapper(where + " (while sending the batch to the main "
                                             "process: a collate_fn must return picklable "
                                             "data)"))
