"""Large ops: labgrad must cost what NumPy costs for the same work.

A 2048x2048 float32 matmul and 4M-element float32 add, mul, exp and relu, each timed as
labgrad, as raw NumPy doing the same computation, and as PyTorch (same statement as labgrad).
At these sizes the per-op machinery is noise, so labgrad / NumPy should be ~1.0 (target
<= 1.05). The PyTorch ratio is reported without a target: PyTorch runs elementwise ops on
several threads and links a different BLAS, so it measures the backend, not labgrad.

Rows marked "recorded" time the same forward with inputs that require grad (the graph is
built; backward is not run), for information. The last row times NumPy against itself: the
spread between two identical contenders on this machine (a few percent on a shared one).
"""
from __future__ import annotations

import time

import numpy as np

from .report import make_row, table
from .timing import compare, loop_sampler, paired_ratio, resolve_torch

# case -> (labgrad / PyTorch statement, NumPy statement, kind)
CASES = {
    "matmul": ("a @ b", "a @ b", "matrix"),
    "add": ("a + b", "a + b", "vector"),
    "mul": ("a * b", "a * b", "vector"),
    "exp": ("a.exp()", "np.exp(a)", "vector"),
    "relu": ("a.relu()", "np.maximum(a, 0)", "vector"),
}
# mode -> sizes and sampling. A 4M-element op takes about a millisecond, long enough to time
# one call per sample, so every sample is short and the minimum over many is robust to noise.
# Matmuls are slow, so they get fewer samples.
MODES = {
    "smoke": {"matrix": 32, "vector": 4096, "batch_s": 0.0005, "repeat": 2,
              "matmul_repeat": 2},
    "quick": {"matrix": 2048, "vector": 4 * 2**20, "batch_s": 0.0005, "repeat": 41,
              "matmul_repeat": 3},
    "full": {"matrix": 2048, "vector": 4 * 2**20, "batch_s": 0.0005, "repeat": 151,
             "matmul_repeat": 7},
}
TARGET = 1.05


def _arrays(kind, config):
    rng = np.random.default_rng(0)
    shape = (config["matrix"],) * 2 if kind == "matrix" else (config["vector"],)
    return {name: rng.standard_normal(shape, dtype=np.float32) for name in "ab"}


def _size_label(kind, config):
    if kind == "matrix":
        return f"{config['matrix']}x{config['matrix']}"
    n = config["vector"]
    return f"{n // 2**20}M" if n % 2**20 == 0 else str(n)


def _tensors(lib, arrays, requires_grad):
    """Tensors sharing the NumPy arrays' memory, so every contender reads the same bytes."""
    return {name: lib.from_numpy(x).requires_grad_(requires_grad) for name, x in arrays.items()}


def _versus_torch(labgrad, torch, stmt, arrays, requires_grad, config, repeat) -> dict:
    """labgrad vs PyTorch, in a comparison of its own: PyTorch's worker threads may still be
    spinning after its turn, which must not slow the labgrad-vs-NumPy comparison."""
    stats = compare({
        "labgrad": loop_sampler(stmt, _tensors(labgrad, arrays, requires_grad),
                                config["batch_s"]),
        "torch": loop_sampler(stmt, _tensors(torch, arrays, requires_grad), config["batch_s"]),
    }, repeat)
    time.sleep(0.2)  # let PyTorch's threads go idle before the next NumPy comparison
    return {"torch": stats["torch"].min, "torch_median": stats["torch"].median,
            "ratio_torch": stats["labgrad"].min / stats["torch"].min}


def run(mode="full", torch="auto", cases=None, recorded=True) -> list:
    import labgrad

    torch = resolve_torch(torch)
    config = MODES[mode]
    rows = []
    variants = [False, True] if recorded else [False]
    for case in cases or CASES:
        lib_stmt, np_stmt, kind = CASES[case]
        arrays = _arrays(kind, config)
        repeat = config["matmul_repeat"] if case == "matmul" else config["repeat"]
        for requires_grad in variants:
            stats = compare({
                "labgrad": loop_sampler(lib_stmt, _tensors(labgrad, arrays, requires_grad),
                                        config["batch_s"]),
                "numpy": loop_sampler(np_stmt, dict(arrays, np=np), config["batch_s"]),
            }, repeat)
            lab, ref = stats["labgrad"], stats["numpy"]
            extra = {"labgrad_median": lab.median, "reference_median": ref.median,
                     "ratio_paired": paired_ratio(lab, ref)}
            if torch is not None:
                extra.update(_versus_torch(labgrad, torch, lib_stmt, arrays, requires_grad,
                                           config, max(2, repeat // 2)))
            label = f"{case} {_size_label(kind, config)}" + (", recorded" if requires_grad
                                                               else "")
            rows.append(make_row("large_ops", label, lab.min, ref.min, ref_name="numpy",
                                 max_ratio=None if requires_grad else TARGET, extra=extra))
    rows.append(_noise_floor(config))
    return rows


def _noise_floor(config) -> dict:
    """NumPy's add timed against itself: how far apart two identical contenders land here,
    which is how much of any ratio above is noise."""
    arrays = _arrays("vector", config)
    stats = compare({side: loop_sampler("a + b", arrays, config["batch_s"])
                     for side in ("first", "second")}, config["repeat"])
    first, second = stats["first"], stats["second"]
    return make_row("large_ops", f"noise check: numpy add {_size_label('vector', config)} vs "
                    "itself", first.min, second.min, ref_name="numpy",
                    extra={"ratio_paired": paired_ratio(first, second)})


def print_rows(rows):
    print(table("Large ops, float32 (per call; ratio of minimums vs NumPy)", rows,
                [("paired ratio", "ratio_paired", "x"), ("torch", "torch", "s"),
                 ("vs torch", "ratio_torch", "x")]))


if __name__ == "__main__":
    print_rows(run("quick"))
