"""Backward cost per graph node, for chains of 100 to 100,000 ops.

The graph is ``y = x; y = y * 1.0001`` repeated n times on a 1-element tensor, so the
arithmetic is free and backward time is the engine's per-node work: popping a ready node,
calling its backward formula, routing the gradient, freeing what it saved. Only
``y.backward()`` is timed (building the graph is timed separately, for information; tearing
it down is not timed). Targets: labgrad's cost per node <= PyTorch's at every length, and
flat in the chain length (per-node cost at the longest chain within 1.25x of that at 1,000
nodes, so nothing in the engine grows faster than linearly).
"""
from __future__ import annotations

import gc

from .report import make_row, table
from .timing import Stats, compare, paired_ratio, resolve_torch, timed

FACTOR = 1.0001
MODES = {  # lengths; samples per length = clamp(node_budget // n, min_repeat, max_repeat)
    "smoke": {"lengths": (10, 100), "node_budget": 200, "min_repeat": 1, "max_repeat": 2},
    "quick": {"lengths": (100, 1_000, 10_000, 100_000), "node_budget": 100_000,
              "min_repeat": 3, "max_repeat": 50},
    "full": {"lengths": (100, 1_000, 10_000, 100_000), "node_budget": 500_000,
             "min_repeat": 5, "max_repeat": 200},
}
TARGET_RATIO = 1.0
TARGET_FLATNESS = 1.25


def build_chain(lib, n):
    """x (1 element, requires grad) and y = x * FACTOR ** n, as n recorded multiplications."""
    x = lib.ones(1, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * FACTOR
    return x, y


def _sampler(lib, n, forward: Stats):
    """Takes one sample: builds a fresh chain, returns backward seconds per node."""
    def sample():
        holder = {}

        def build():
            holder["x"], holder["y"] = build_chain(lib, n)

        forward.samples.append(timed(build) / n)
        backward_s = timed(holder["y"].backward)
        holder.clear()  # frees the graph, outside the timed region
        return backward_s / n
    return sample


def check_gradient(lib, n):
    """The chain's gradient, so a benchmark never times a wrong answer."""
    x, y = build_chain(lib, n)
    y.backward()
    return x.grad.sum().item()


def run(mode="full", torch="auto") -> list:
    import labgrad

    torch = resolve_torch(torch)
    config = MODES[mode]
    libs = {"labgrad": labgrad}
    if torch is not None:
        libs["torch"] = torch
    for lib in libs.values():
        got, expected = check_gradient(lib, 100), FACTOR ** 100
        if abs(got - expected) > 1e-4 * expected:
            raise AssertionError(f"{lib.__name__}: chain gradient {got}, expected {expected}")

    rows, per_node = [], {}
    for n in config["lengths"]:
        repeat = max(config["min_repeat"], min(config["max_repeat"], config["node_budget"] // n))
        gc.collect()  # not per sample: with PyTorch imported a collection takes ~0.1 s
        forward = {name: Stats() for name in libs}
        stats = compare({name: _sampler(lib, n, forward[name]) for name, lib in libs.items()},
                        repeat)
        per_node[n] = {name: s.min for name, s in stats.items()}
        lab, ref = stats["labgrad"], stats.get("torch")
        extra = {"nodes": n, "samples": repeat, "labgrad_median": lab.median,
                 "labgrad_forward": forward["labgrad"].min}
        if ref is not None:
            extra.update(reference_median=ref.median, ratio_paired=paired_ratio(lab, ref),
                         torch_forward=forward["torch"].min,
                         ratio_forward=forward["labgrad"].min / forward["torch"].min)
        rows.append(make_row("backward_chain", f"backward per node, n={n:,}", lab.min,
                             ref.min if ref is not None else None, ref_name="torch",
                             max_ratio=TARGET_RATIO, extra=extra))

    lengths = config["lengths"]
    base = lengths[1] if len(lengths) > 2 else lengths[0]
    longest = lengths[-1]
    extra = {"nodes": longest, "base_nodes": base}
    if torch is not None:
        extra["torch_flatness"] = per_node[longest]["torch"] / per_node[base]["torch"]
    rows.append(make_row("backward_chain", f"flatness: per node n={longest:,} / n={base:,}",
                         per_node[longest]["labgrad"], per_node[base]["labgrad"],
                         ref_name=f"labgrad n={base:,}", max_ratio=TARGET_FLATNESS,
                         extra=extra))
    return rows


def print_rows(rows):
    print(table("Backward through a chain of multiplications (per node; ratio of minimums)",
                rows, [("paired ratio", "ratio_paired", "x"),
                       ("lg forward/node", "labgrad_forward", "s"),
                       ("forward vs torch", "ratio_forward", "x"),
                       ("torch flatness", "torch_flatness", "x")]))


if __name__ == "__main__":
    print_rows(run("quick"))
