"""Per-op overhead: 16x16 float32 add, mul, matmul, relu and sum, labgrad vs PyTorch.

At this size the arithmetic costs next to nothing, so what is timed is each library's
per-op machinery: operand checks, wrapping the result, recording the graph, the backward
engine. Three variants per op, the same statement for both libraries:

    forward              inputs do not require grad (grad mode on, as by default)
    forward, recorded    inputs require grad: the op builds its graph node
    forward+backward     a.grad = b.grad = None; op(a, b).sum().backward()
                         (for `sum`, a.sum().backward(): its output already is a scalar)

Targets (labgrad / PyTorch): forward <= 1.0x, recorded <= 1.5x, forward+backward <= 1.0x.
"""
from __future__ import annotations

import numpy as np

from .report import make_row, table
from .timing import compare, loop_sampler, paired_ratio, resolve_torch, settings

SIZE = 16
# op name -> (expression on a, b; the inputs it reads)
OPS = {
    "add": ("a + b", ("a", "b")),
    "mul": ("a * b", ("a", "b")),
    "matmul": ("a @ b", ("a", "b")),
    "relu": ("a.relu()", ("a",)),
    "sum": ("a.sum()", ("a",)),
}
VARIANTS = {  # variant -> (inputs require grad, target ratio)
    "forward": (False, 1.0),
    "forward, recorded": (True, 1.5),
    "forward+backward": (True, 1.0),
}


def statement(op: str, variant: str) -> str:
    """The timed statement for `op` in `variant`, the same text for both libraries."""
    expr, inputs = OPS[op]
    if variant != "forward+backward":
        return expr
    reset = "; ".join(f"{name}.grad = None" for name in inputs)
    loss = expr if op == "sum" else f"({expr}).sum()"
    return f"{reset}; {loss}.backward()"


def _inputs(lib, arrays, requires_grad):
    return {name: lib.tensor(array.copy(), requires_grad=requires_grad)
            for name, array in arrays.items()}


def run(mode="full", torch="auto", ops=None) -> list:
    """Measure every op in every variant; returns result rows (see report.py)."""
    import labgrad

    torch = resolve_torch(torch)
    config = settings(mode)
    rng = np.random.default_rng(0)
    arrays = {name: rng.standard_normal((SIZE, SIZE)).astype(np.float32) for name in "ab"}
    rows = []
    for op in ops or OPS:
        for variant, (requires_grad, target) in VARIANTS.items():
            stmt = statement(op, variant)
            samplers = {"labgrad": loop_sampler(
                stmt, _inputs(labgrad, arrays, requires_grad), config["batch_s"])}
            if torch is not None:
                samplers["torch"] = loop_sampler(
                    stmt, _inputs(torch, arrays, requires_grad), config["batch_s"])
            stats = compare(samplers, config["repeat"])
            lab = stats["labgrad"]
            ref = stats.get("torch")
            extra = {"statement": stmt, "labgrad_median": lab.median,
                     "labgrad_loops": samplers["labgrad"].number}
            if ref is not None:
                extra.update(reference_median=ref.median, ratio_paired=paired_ratio(lab, ref),
                             reference_loops=samplers["torch"].number)
            rows.append(make_row("microops", f"{op} {variant}", lab.min,
                                 ref.min if ref is not None else None, ref_name="torch",
                                 max_ratio=target, extra=extra))
    return rows


def print_rows(rows):
    print(table(f"Per-op cost, {SIZE}x{SIZE} float32 (per call; ratio of minimums)", rows,
                [("paired ratio", "ratio_paired", "x")]))


if __name__ == "__main__":
    print_rows(run("quick"))
