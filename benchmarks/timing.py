"""The one timing helper every benchmark shares.

The machines these run on are shared and noisy, so absolute times mean little. What the suite
reports is a ratio between labgrad and a reference (PyTorch or NumPy) measured in the same
process, with the samples interleaved: every repeat times each contender once, alternating
which goes first, so a burst of noise hits both sides. Each contender's statistic is the
minimum (the least disturbed sample) and the median over the repeats.

The garbage collector is switched off while a sample runs, as `timeit` does.
"""
from __future__ import annotations

import gc
import statistics
import time
import timeit
from dataclasses import dataclass, field
from typing import Callable, Mapping

# How long to measure, per mode. `batch_s`: the time one sample of a fast statement should
# take (its loop count is chosen to reach it); `repeat`: samples per contender.
MODES = {
    "smoke": {"batch_s": 0.0005, "repeat": 2},
    "quick": {"batch_s": 0.005, "repeat": 7},
    "full": {"batch_s": 0.02, "repeat": 25},
}


def settings(mode: str) -> dict:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {sorted(MODES)}, not {mode!r}")
    return MODES[mode]


@dataclass
class Stats:
    """Seconds per unit of work (one call, one node, ...) for one contender."""

    samples: list = field(default_factory=list)

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


Sampler = Callable[[], float]  # takes one sample; returns seconds per unit of work


def loop_sampler(stmt: str, namespace: Mapping, min_time: float, setup: str = "pass") -> Sampler:
    """A sampler running `stmt` in a timeit loop long enough to take about `min_time` seconds.

    The statement is compiled into the loop (no function call per iteration), so what is
    timed is the statement itself.
    """
    timer = timeit.Timer(stmt, setup=setup, globals=dict(namespace))
    number = _loop_count(timer, min_time)

    def sample() -> float:
        return timer.timeit(number) / number

    sample.number = number
    return sample


def _loop_count(timer: timeit.Timer, min_time: float) -> int:
    """The smallest count of 1, 2, 5, 10, 20, ... whose loop takes at least `min_time`."""
    timer.timeit(1)  # warm up: first-call caches, lazy imports
    number = 1
    while True:
        for step in (1, 2, 5):
            count = number * step
            if timer.timeit(count) >= min_time:
                return count
        number *= 10


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of `fn` takes, with the garbage collector off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def compare(samplers: Mapping[str, Sampler], repeat: int) -> dict:
    """Interleave `repeat` samples of each sampler; returns {name: Stats}.

    Repeat r runs the samplers in their given order when r is even and reversed when odd, so
    neither side always runs first (after a cold cache or a frequency change).
    """
    names = list(samplers)
    stats = {name: Stats() for name in names}
    for r in range(repeat):
        for name in (names if r % 2 == 0 else names[::-1]):
            stats[name].samples.append(samplers[name]())
    return stats


def resolve_torch(torch="auto"):
    """PyTorch as the reference: "auto" imports it when installed; None means labgrad only."""
    if torch != "auto":
        return torch
    try:
        import torch as torch_module
    except ImportError:
        return None
    return torch_module


def paired_ratio(a: Stats, b: Stats) -> float:
    """The median over repeats of a's sample / b's sample from the same repeat.

    Samples of one repeat ran next to each other, so slow drifts in machine load cancel in
    each ratio; a second opinion next to the ratio of minimums.
    """
    return statistics.median(x / y for x, y in zip(a.samples, b.samples))
