"""What recording the graph costs: forward+backward of a small MLP, record_graph on vs off.

The model is 64-128-128-10 with ReLU, batch 32, written with labgrad ops only (matmul, add,
relu, sum): ``loss = mlp(x).sum(); loss.backward()``, with every parameter's .grad reset
first. The same step runs plain (the reference), inside ``labgrad.autograd.record_graph()``
(nodes and metadata recorded; target: under 10% extra), and, for information, with
``capture_backward=True`` recording the backward order only (``gradient_stats=False``) and
with gradient summaries (statistics and a histogram per node). A fresh recorder is entered
and left in every step, as a notebook cell would.
"""
from __future__ import annotations

import numpy as np

from .report import make_row, table
from .timing import compare, loop_sampler, paired_ratio, settings

SIZES = (64, 128, 128, 10)
BATCH = 32
TARGET_RATIO = 1.10
STEP = "for p in params: p.grad = None\nmlp(x).sum().backward()"
VARIANTS = {  # case -> (statement, target ratio vs recording off)
    "recording on": ("with record_graph():\n    " + STEP.replace("\n", "\n    "), TARGET_RATIO),
    "recording on, backward order": (
        "with record_graph(capture_backward=True, gradient_stats=False):\n    "
        + STEP.replace("\n", "\n    "), None),
    "recording on, gradient summaries": (
        "with record_graph(capture_backward=True):\n    " + STEP.replace("\n", "\n    "), None),
}


def make_mlp(lib, rng):
    """(params, mlp, x): the MLP's parameters, its forward function and an input batch."""
    params = []
    for n_in, n_out in zip(SIZES, SIZES[1:]):
        w = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
        params += [lib.tensor(w, requires_grad=True),
                   lib.tensor(np.zeros(n_out, np.float32), requires_grad=True)]

    def mlp(x):
        for i in range(0, len(params), 2):
            x = x @ params[i] + params[i + 1]
            if i + 2 < len(params):
                x = x.relu()
        return x

    x = lib.tensor(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
    return params, mlp, x


def run(mode="full", torch=None) -> list:
    """Time each variant against the plain step; returns result rows (see report.py).
    PyTorch plays no part here (the argument is accepted like every suite's)."""
    import labgrad
    from labgrad.autograd import record_graph

    config = settings(mode)
    params, mlp, x = make_mlp(labgrad, np.random.default_rng(0))
    namespace = {"params": params, "mlp": mlp, "x": x, "record_graph": record_graph}
    with record_graph() as graph:  # the statement records what it should
        mlp(x).sum().backward()
    assert len(graph.find("MmBackward0")) == 3 and len(graph.inputs) == 6, graph

    rows = []
    for case, (stmt, target) in VARIANTS.items():
        samplers = {"on": loop_sampler(stmt, namespace, config["batch_s"]),
                    "off": loop_sampler(STEP, namespace, config["batch_s"])}
        stats = compare(samplers, config["repeat"])
        on, off = stats["on"], stats["off"]
        extra = {"statement": stmt, "labgrad_median": on.median,
                 "reference_median": off.median, "ratio_paired": paired_ratio(on, off)}
        rows.append(make_row("introspection", f"MLP forward+backward, {case}", on.min, off.min,
                             ref_name="recording off", max_ratio=target, extra=extra))
    return rows


def print_rows(rows):
    print(table("Graph recording overhead: MLP 64-128-128-10, batch 32, forward+backward",
                rows, [("paired ratio", "ratio_paired", "x")]))


if __name__ == "__main__":
    print_rows(run("quick"))
