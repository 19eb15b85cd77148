"""Small synthetic datasets, made from a seed (the same data on every machine), for notebooks
and tests: 2-D classification (Spirals, Moons), 1-D regression (SineRegression) and a toy
sequence classification over tokens (MarkerTokens).

Each is a TensorDataset: ``dataset.tensors`` holds all the features and targets, and
``dataset[i]`` is ``(features, target)`` with float32 features and int64 class labels (float32
targets for regression).
"""
from __future__ import annotations

import math

import numpy as np

from ..creation import from_numpy
from ..utils.data.dataset import TensorDataset

__all__ = ["Spirals", "Moons", "SineRegression", "MarkerTokens"]


def _check_count(name, value, least=1):
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValueError(f"{name} should be an integer >= {least}, got {value!r}")


def _shuffled(rng, *arrays):
    order = rng.permutation(len(arrays[0]))
    return [a[order] for a in arrays]


class Spirals(TensorDataset):
    """`num_classes` interleaved spiral arms in the plane: features (2,), label in
    [0, num_classes). Not linearly separable: a small MLP learns it."""

    def __init__(self, num_samples: int = 300, num_classes: int = 3, noise: float = 0.2,
                 turns: float = 1.0, seed: int = 0) -> None:
        _check_count("num_samples", num_samples)
        _check_count("num_classes", num_classes, 2)
        rng = np.random.default_rng(seed)
        labels = np.arange(num_samples) % num_classes
        radius = rng.random(num_samples)
        # each arm starts at its own angle and winds `turns` times outwards
        angle = (2 * math.pi * labels / num_classes + 2 * math.pi * turns * radius
                 + noise * rng.standard_normal(num_samples))
        points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        points, labels = _shuffled(rng, points, labels)
        super().__init__(from_numpy(points.astype(np.float32)),
                         from_numpy(labels.astype(np.int64)))
        self.num_classes = num_classes


class Moons(TensorDataset):
    """Two interleaving half circles (as scikit-learn's make_moons): features (2,), label 0
    (upper moon) or 1 (lower moon)."""

    def __init__(self, num_samples: int = 200, noise: float = 0.1, seed: int = 0) -> None:
        _check_count("num_samples", num_samples, 2)
        rng = np.random.default_rng(seed)
        labels = np.arange(num_samples) % 2
        t = rng.random(num_samples) * math.pi
        x = np.where(labels == 0, np.cos(t), 1 - np.cos(t))
        y = np.where(labels == 0, np.sin(t), 0.5 - np.sin(t))
        points = np.stack([x, y], axis=1) + noise * rng.standard_normal((num_samples, 2))
        points, labels = _shuffled(rng, points, labels)
        super().__init__(from_numpy(points.astype(np.float32)),
                         from_numpy(labels.astype(np.int64)))
        self.num_classes = 2


class SineRegression(TensorDataset):
    """y = sin(x) + noise for x uniform in [low, high): input (1,) and target (1,), both
    float32 (the shapes nn.Linear(1, ...) and MSELoss expect)."""

    def __init__(self, num_samples: int = 200, noise: float = 0.1, low: float = -math.pi,
                 high: float = math.pi, seed: int = 0) -> None:
        _check_count("num_samples", num_samples)
        if not low < high:
            raise ValueError(f"SineRegression: need low < high, got low={low}, high={high}")
        rng = np.random.default_rng(seed)
        x = rng.uniform(low, high, (num_samples, 1))
        y = np.sin(x) + noise * rng.standard_normal((num_samples, 1))
        super().__init__(from_numpy(x.astype(np.float32)), from_numpy(y.astype(np.float32)))


class MarkerTokens(TensorDataset):
    """Sequence classification: which marker token occurs most often?

    Tokens 0 .. num_classes-1 are the markers; the rest of the sequence is filler drawn from
    num_classes .. vocab_size-1. A sample is ``(tokens, label)``: tokens int64 (seq_len,) and
    the label (int64) is the marker that occurs strictly most often. Counting, not position,
    decides the class: an embedding + pooling, RNN or transformer classifier learns it.
    """

    def __init__(self, num_samples: int = 1000, vocab_size: int = 32, seq_len: int = 16,
                 num_classes: int = 4, seed: int = 0) -> None:
        _check_count("num_samples", num_samples)
        _check_count("num_classes", num_classes, 2)
        _check_count("seq_len", seq_len, 1)
        if vocab_size <= num_classes:
            raise ValueError(f"MarkerTokens: vocab_size ({vocab_size}) must exceed num_classes "
                             f"({num_classes}): tokens below num_classes are the markers, the "
                             "others are filler")
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, num_classes, num_samples)
        # other markers occur 0..cap times, the label's marker once more than the most
        # frequent other, so that at most seq_len tokens are markers
        cap = (seq_len - 1) // num_classes
        counts = rng.integers(0, cap + 1, (num_samples, num_classes))
        rows = np.arange(num_samples)
        counts[rows, labels] = 0
        counts[rows, labels] = counts.max(axis=1) + 1
        # slot s of a row holds marker k when cum[k-1] <= s < cum[k], else filler
        cum = counts.cumsum(axis=1)
        slots = np.arange(seq_len)
        slot_marker = (slots[None, :, None] >= cum[:, None, :]).sum(axis=2)
        tokens = rng.integers(num_classes, vocab_size, (num_samples, seq_len))
        positions = rng.random((num_samples, seq_len)).argsort(axis=1)  # random places
        is_marker = slot_marker < num_classes
        tokens[rows[:, None].repeat(seq_len, 1)[is_marker], positions[is_marker]] = \
            slot_marker[is_marker]
        super().__init__(from_numpy(tokens.astype(np.int64)),
                         from_numpy(labels.astype(np.int64)))
        self.vocab_size = vocab_size
        self.seq_len = seq_len
        self.num_classes = num_classes
