"""The 8x8 handwritten digits scikit-learn ships (1,797 images, values 0-16): a small image
dataset that needs no download, for notebooks and tests."""
from __future__ import annotations

import numpy as np

from ..creation import from_numpy
from ..utils.data.dataset import TensorDataset

__all__ = ["load_digits", "Digits"]

TEST_FRACTION = 0.2
_SPLIT_SEED = 0


def _sklearn_digits():
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError:
        raise ImportError("the digits dataset comes with scikit-learn, which is not installed: "
                          "pip install scikit-learn") from None
    bunch = sk_load_digits()
    return bunch.images, bunch.target


def load_digits():
    """All 1,797 digits as ``(features, targets)``: features float32 (1797, 64) scaled to
    [0, 1], targets int64 (1797,)."""
    images, target = _sklearn_digits()
    features = (images.reshape(len(images), -1) / 16.0).astype(np.float32)
    return from_numpy(features), from_numpy(target.astype(np.int64))


class Digits(TensorDataset):
    """The scikit-learn digits as a dataset of ``(image, target)``: image float32 (1, 8, 8)
    in [0, 1] (or (64,) with ``flatten=True``), target an int64 scalar tensor.

    The train/test split is fixed (a seeded permutation; 20% test), so it is the same on
    every machine and run.
    """

    classes = [str(d) for d in range(10)]

    def __init__(self, train: bool = True, transform=None, target_transform=None,
                 flatten: bool = False) -> None:
        images, target = _sklearn_digits()
        order = np.random.default_rng(_SPLIT_SEED).permutation(len(images))
        n_test = int(round(len(images) * TEST_FRACTION))
        rows = order[n_test:] if train else order[:n_test]
        shape = (len(rows), 64) if flatten else (len(rows), 1, 8, 8)
        features = (images[rows] / 16.0).astype(np.float32).reshape(shape)
        super().__init__(from_numpy(features), from_numpy(target[rows].astype(np.int64)))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform

    @property
    def data(self):
        return self.tensors[0]

    @property
    def targets(self):
        return self.tensors[1]

    def __getitem__(self, index):
        image, target = self.tensors[0][index], self.tensors[1][index]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

