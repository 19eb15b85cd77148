"""labgrad.utils.data, as torch.utils.data: datasets, samplers, default_collate and the
DataLoader (with worker processes), plus ``progress`` for a progress bar.

Example::

    from labgrad.utils.data import DataLoader, TensorDataset, random_split, progress

    train, val = random_split(TensorDataset(x, y), [0.8, 0.2])
    for xb, yb in progress(DataLoader(train, batch_size=64, shuffle=True)):
        ...
"""
from __future__ import annotations

from ._collate import collate, default_collate_fn_map  # noqa: F401
from .dataloader import (DataLoader, _DatasetKind, default_collate, default_convert,
                         get_worker_info)
from .dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset,
                      Subset, TensorDataset, random_split)
from ._progress import progress
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler,
                      SequentialSampler, SubsetRandomSampler, WeightedRandomSampler)
from ._worker import WorkerInfo

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "DistributedSampler", "IterableDataset", "RandomSampler", "Sampler",
           "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler",
           "TensorDataset", "WeightedRandomSampler", "WorkerInfo", "_DatasetKind",
           "default_collate", "default_convert", "get_worker_info", "progress",
           "random_split"]
