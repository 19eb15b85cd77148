"""DataLoader, as torch.utils.data.DataLoader: batches from a dataset, in the main process or
in worker processes.

With ``num_workers > 0`` each worker has an index queue; the main process keeps
``prefetch_factor`` batches per worker in flight, hands tasks out round-robin, and yields the
results in sampler order (results that arrive early wait in a buffer). Where worker processes
cannot start (multiprocessing unavailable; a dataset or collate_fn that the 'spawn' start
method cannot pickle, such as a class defined in a notebook) the loader warns once and loads
in the main process instead.
"""
from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import pickle
import queue
import sys
import warnings

from ... import dtypes as _dt
from ...creation import empty
from . import _worker
from ._collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info",
           "_DatasetKind"]

get_worker_info = _worker.get_worker_info


class _DatasetKind:
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        fetcher = _worker.MapFetcher if kind == _DatasetKind.Map else _worker.IterableFetcher
        return fetcher(dataset, auto_collation, collate_fn, drop_last)


class _InfiniteConstantSampler(Sampler):
    """None forever: an iterable dataset needs no indices, only a count of batches."""

    def __iter__(self):
        while True:
            yield None


_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
           "persistent_workers")


class DataLoader:
    """Iterate over a dataset in batches.

    Arguments and their conflicts are PyTorch's: ``shuffle`` (a RandomSampler drawing from
    labgrad's generator, or from ``generator=`` a labgrad.Generator) and ``sampler`` exclude
    each other; ``batch_sampler`` excludes batch_size, shuffle, sampler and drop_last;
    ``batch_size=None`` turns batching off (each sample goes through ``default_convert``).
    ``num_workers > 0`` loads in that many worker processes (see get_worker_info for
    IterableDatasets); ``pin_memory`` is accepted and does nothing (no pinned memory here),
    and so is ``in_order`` (batches always come in sampler order).
    For a progress bar wrap the loader: ``for x, y in progress(loader): ...``.
    """

    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in "
                             "multiprocessing. let num_workers > 0 to enable multiprocessing, "
                             "otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._IterableDataset_len_called = None
        self._iterator = None
        self._initialized = True
        self.check_worker_number_rationality()

    @property
    def multiprocessing_context(self):
        return self._mp_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(f"multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid "
                                     f"start method in {methods!r}, but got "
                                     f"multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(f"multiprocessing_context option should be a valid context "
                                f"object or a string specifying the start method, but got "
                                f"multiprocessing_context={context}")
        self._mp_context = context

    def __setattr__(self, name, value):
        if self._initialized and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        """What yields one task's indices: the batch sampler when batching, else the sampler."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        reason = _workers_unavailable(self)
        if reason is None:
            try:
                return _MultiProcessingDataLoaderIter(self)
            except (OSError, ImportError, NotImplementedError, pickle.PicklingError) as error:
                reason = f"worker processes could not start ({type(error).__name__}: {error})"
        _warn_fallback(reason)
        return _SingleProcessDataLoaderIter(self)

    def __len__(self) -> int:
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    return length // self.batch_size
                return math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warn when there are more workers than CPUs this process may use."""
        if not self.num_workers:
            return
        if hasattr(os, "sched_getaffinity"):
            cpus = len(os.sched_getaffinity(0))
        else:
            cpus = os.cpu_count()
        if cpus is None or self.num_workers > cpus:
            suggestion = (f"Our suggested max number of worker in current system is {cpus}, "
                          "which is smaller than what this DataLoader is going to create."
                          if cpus else "DataLoader is not able to compute a suggested max "
                          "number of worker in current system.")
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in "
                          f"total. {suggestion} Please be aware that excessive worker creation "
                          "might get DataLoader running slow or even freeze, lower the worker "
                          "number to avoid potential slowness/freeze if necessary.",
                          stacklevel=2)


# ---------------------------------------------------------------- when workers cannot start

_warned_reasons = set()


def _warn_fallback(reason: str) -> None:
    """Say once per reason that loading happens in the main process."""
    if reason in _warned_reasons:
        return
    _warned_reasons.add(reason)
    warnings.warn(f"DataLoader: {reason}; loading data in the main process instead "
                  "(num_workers=0). Define the dataset and collate_fn in an importable .py "
                  "module to use worker processes.", RuntimeWarning, stacklevel=3)


def _context_of(loader):
    return loader.multiprocessing_context or multiprocessing.get_context()


def _workers_unavailable(loader):
    """Why worker processes cannot serve this loader, or None when they can."""
    context = _context_of(loader)
    if context.get_start_method() == "fork":
        return None  # the children inherit the objects: nothing is pickled
    payload = (loader.dataset, loader.collate_fn, loader.worker_init_fn)
    try:
        main_refs = _pickled_main_references(payload)
    except Exception as error:  # noqa: BLE001 - whatever pickle raises
        return (f"the dataset, collate_fn or worker_init_fn cannot be pickled for the "
                f"'{context.get_start_method()}' start method ({type(error).__name__}: {error})")
    main = sys.modules.get("__main__")
    if main_refs and not getattr(main, "__file__", None):
        names = ", ".join(sorted(main_refs))
        return (f"{names} defined interactively (in a notebook or the REPL) cannot be loaded by "
                f"'{context.get_start_method()}' worker processes")
    return None


def _pickled_main_references(obj) -> set:
    """Pickle `obj` (to nowhere); the names of the classes and functions of __main__ in it."""
    found = set()

    class Finder(pickle.Pickler):
        def persistent_id(self, item):
            for candidate in (item, type(item)):
                if getattr(candidate, "__module__", None) == "__main__" and hasattr(
                        candidate, "__qualname__"):
                    found.add(candidate.__qualname__)
            return None

    Finder(_Discard(), protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return found


class _Discard:
    def write(self, data):
        return len(data)


# ---------------------------------------------------------------- iterators

class _BaseDataLoaderIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        # one draw from the loader's generator per pass, as PyTorch (the workers' seeds)
        self._base_seed = int(empty((), dtype=_dt.int64).random_(
            generator=loader.generator).item())
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)  # StopIteration ends the pass

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable
                and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            message = (f"Length of IterableDataset {self._dataset} was reported to be "
                       f"{self._IterableDataset_len_called} (when accessing len(dataloader)), "
                       f"but {self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                message += ("For multiprocessing data-loading, this could be caused by not "
                            "properly configuring the IterableDataset replica at each worker "
                            "(see labgrad.utils.data.get_worker_info).")
            warnings.warn(message, stacklevel=2)
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Loads each batch in the main process when asked for it."""

    def __init__(self, loader):
        super().__init__(loader)
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._fetcher = _DatasetKind.create_fetcher(self._dataset_kind, self._dataset,
                                                    self._auto_collation, self._collate_fn,
                                                    self._drop_last)

    def _next_data(self):
        index = self._next_index()
        return self._fetcher.fetch(index)  # StopIteration from an iterable dataset ends it


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Loads batches in worker processes, prefetch_factor batches per worker ahead."""

    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        context = _context_of(loader)
        fetcher = (_worker.MapFetcher if self._dataset_kind == _DatasetKind.Map
                   else _worker.IterableFetcher)
        self._shutdown = True  # until everything below exists
        self._owner_pid = os.getpid()  # a forked worker inherits a copy of this object
        self._worker_result_queue = context.Queue()
        self._done_event = context.Event()
        self._index_queues, self._workers = [], []
        try:
            for worker_id in range(self._num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()
                worker = context.Process(
                    target=_worker.worker_loop,
                    args=(fetcher, self._dataset, index_queue, self._worker_result_queue,
                          self._done_event, self._auto_collation, self._collate_fn,
                          self._drop_last, self._base_seed, loader.worker_init_fn, worker_id,
                          self._num_workers),
                    daemon=True)
                worker.start()
                self._index_queues.append(index_queue)
                self._workers.append(worker)
        except BaseException:
            self._shutdown = False
            self._shutdown_workers()
            raise
        self._shutdown = False
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._send_idx = 0  # id of the next task to send
        self._rcvd_idx = 0  # id of the next task to yield
        # task id -> (worker_id,) while out, (worker_id, data) once it arrived early
        self._task_info = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:  # persistent workers: restart each worker's fetcher
            for index_queue in self._index_queues:
                index_queue.put(_worker._ResumeIteration())
            waiting = self._num_workers
            while waiting > 0:
                task_id, _ = self._get_data()
                if isinstance(task_id, _worker._ResumeIteration):
                    waiting -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self):
        """Send the next task to the next active worker (round-robin), if any is left."""
        if self._tasks_outstanding >= self._prefetch_factor * self._num_workers:
            return
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):
            worker_id = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_id]:
                break
        else:
            return  # every worker has finished its iterable dataset
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _get_data(self):
        """The next (task_id, data) from any worker; raise if the workers died or timed out."""
        if self._timeout > 0:
            try:
                task_id, raw = self._worker_result_queue.get(timeout=self._timeout)
            except queue.Empty:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds "
                                   "waiting for a batch from its workers") from None
        else:
            while True:
                try:
                    task_id, raw = self._worker_result_queue.get(
                        timeout=_worker.STATUS_CHECK_INTERVAL)
                    break
                except queue.Empty:
                    self._check_workers_alive()
        data = pickle.loads(raw) if raw is not None else None
        return task_id, data

    def _check_workers_alive(self):
        dead = [w.pid for i, w in enumerate(self._workers)
                if self._workers_status[i] and not w.is_alive()]
        if dead:
            self._shutdown_workers()
            raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(map(str, dead))}) exited "
                               "unexpectedly (killed, or out of memory?)")

    def _next_data(self):
        while True:
            # skip tasks of workers whose iterable dataset ran out
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None:
                    if len(info) == 2 or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]  # never answered: its worker is done
                    self._tasks_outstanding -= 1
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration

            if len(self._task_info[self._rcvd_idx]) == 2:  # it arrived early
                data = self._task_info.pop(self._rcvd_idx)[1]
                return self._process_data(data)

            task_id, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _worker._IterableDatasetStopIteration):
                self._workers_status[data.worker_id] = False
                del self._task_info[task_id]
                if not self._persistent_workers:
                    self._index_queues[data.worker_id].put(None)
                self._try_put_index()
                continue
            if task_id != self._rcvd_idx:
                self._task_info[task_id] += (data,)
                continue
            del self._task_info[task_id]
            return self._process_data(data)

    def _process_data(self, data):
        self._rcvd_idx += 1
        self._try_put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return _worker.unship(data)

    def _shutdown_workers(self):
        """Stop the workers and close the queues (safe to call twice)."""
        if self._shutdown or os.getpid() != self._owner_pid:
            return
        self._shutdown = True
        self._done_event.set()
        for index_queue in self._index_queues:
            try:
                index_queue.put(None)
            except (OSError, ValueError):
                pass  # already closed
        for worker in self._workers:
            worker.join(timeout=_worker.STATUS_CHECK_INTERVAL * 2)
        for index_queue in self._index_queues:
            index_queue.close()
        for worker in self._workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()
        self._worker_result_queue.cancel_join_thread()
        self._worker_result_queue.close()

    def __del__(self):
        if not getattr(self, "_shutdown", True):
            self._shutdown_workers()
