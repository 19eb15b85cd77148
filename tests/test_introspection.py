"""The graph introspection API: Node.metadata, record_graph, graph_of, JSON, boundedness."""
from __future__ import annotations

import gc
import json
import tracemalloc
import weakref

import numpy as np
import pytest

import labgrad as lg
from labgrad.autograd import Graph, graph_of, record_graph
from labgrad.autograd import graph as autograd_graph


def mlp_loss(lib, rng=None):
    rng = rng or np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    w = lib.tensor(rng.standard_normal((3, 5)).astype(np.float32), requires_grad=True)
    b = lib.tensor(rng.standard_normal(5).astype(np.float32), requires_grad=True)
    return (x @ w + b).relu().sum() * 2.0, (w, b)


def structure(fn):
    """A nested tuple of node names, following next_functions (same for both libraries)."""
    if fn is None:
        return None
    name = fn.name().replace("torch::autograd::", "")  # torch's C++ AccumulateGrad
    return (name, tuple(structure(child) for child, _ in fn.next_functions))


# ------------------------------------------------------------------ Node.metadata

@pytest.mark.parametrize("expr, op, inputs, outputs", [
    (lambda a, b: a + b, "AddBackward0", [[2, 3], [3]], [[2, 3]]),
    (lambda a, b: a * b, "MulBackward0", [[2, 3], [3]], [[2, 3]]),
    (lambda a, b: a @ b.reshape(3, 1), "MmBackward0", [[2, 3], [3, 1]], [[2, 1]]),
    (lambda a, b: a.relu(), "ReluBackward0", [[2, 3]], [[2, 3]]),
    (lambda a, b: a.sum(), "SumBackward0", [[2, 3]], [[]]),
], ids=["add", "mul", "matmul", "relu", "sum"])
def test_metadata_standard_keys(expr, op, inputs, outputs):
    a = lg.randn(2, 3, requires_grad=True)
    b = lg.randn(3, dtype=lg.float64).float().requires_grad_()
    out = expr(a, b)
    md = out.grad_fn.metadata
    assert md["op"] == op == out.grad_fn.name()
    assert [i["shape"] for i in md["inputs"]] == inputs
    assert all(i["dtype"] == "float32" for i in md["inputs"])
    assert [o["shape"] for o in md["outputs"]] == outputs
    assert md["module"] == "" and md["forward_index"] == out.grad_fn._seq
    assert isinstance(md["saved"], list) and md["saved_bytes"] >= 0
    json.dumps(md)


def test_metadata_saved_sizes_module_path_and_freeing():
    a = lg.randn(4, 3, requires_grad=True)
    b = lg.randn(3, 2, requires_grad=True)
    autograd_graph.scope.append("encoder.fc1")
    try:
        out = a @ b
    finally:
        autograd_graph.scope.pop()
    fn = out.grad_fn
    md = fn.metadata
    assert md["module"] == "encoder.fc1"
    assert md["saved"] == [{"shape": [4, 3], "dtype": "float32", "nbytes": 48},
                           {"shape": [3, 2], "dtype": "float32", "nbytes": 24}]
    assert md["saved_bytes"] == 72
    leaf_md = fn.next_functions[0][0].metadata
    assert leaf_md["op"] == "AccumulateGrad"
    assert leaf_md["variable"] == {"shape": [4, 3], "dtype": "float32", "requires_grad": True}
    # Built once, then user-writable (PyTorch's Node.metadata is a plain dict).
    md["note"] = "mine"
    assert fn.metadata is md and fn.metadata["note"] == "mine"


def test_metadata_after_backward_says_saved_was_freed():
    a = lg.randn(3, requires_grad=True)
    y = a.exp()
    y.sum().backward()
    assert y.grad_fn.metadata["saved"] is None


@pytest.mark.torch
def test_node_names_and_structure_match_torch(torch):
    ours, _ = mlp_loss(lg)
    theirs, _ = mlp_loss(torch)
    assert structure(ours.grad_fn) == structure(theirs.grad_fn)


@pytest.mark.torch
def test_node_structure_matches_torch_for_a_shared_input(torch):
    def expr(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        return (a * a + a.exp()).sum()
    assert structure(expr(lg).grad_fn) == structure(expr(torch).grad_fn)


# ------------------------------------------------------------------ record_graph / graph_of

def test_record_graph_equals_graph_of():
    with record_graph() as recorded:
        loss, (w, b) = mlp_loss(lg)
    walked = graph_of(loss)
    assert recorded.to_dict() == walked.to_dict()
    ops = [n.op for n in recorded.nodes]
    assert ops == ["AccumulateGrad", "MmBackward0", "AccumulateGrad", "AddBackward0",
                   "ReluBackward0", "SumBackward0", "MulBackward0"]
    assert [n.id for n in recorded.nodes] == list(range(7))
    assert recorded.inputs == [0, 2] and recorded.outputs == [6]
    assert recorded.edges == [(0, 0, 1, 1), (1, 0, 3, 0), (2, 0, 3, 1), (3, 0, 4, 0),
                              (4, 0, 5, 0), (5, 0, 6, 0)]
    assert recorded.nodes[1].inputs == (None, (0, 0))  # x needs no gradient: no edge
    assert recorded.node_of(w).id == 0 and recorded.node_of(b).id == 2
    assert recorded.node_of(loss).node is loss.grad_fn
    assert recorded.find("ReluBackward0")[0].metadata["outputs"][0]["shape"] == [4, 5]
    assert recorded.nodes[0].metadata["variable"]["requires_grad"] is True


def test_record_graph_observer_lives_only_inside_the_block():
    before = list(autograd_graph.observers)
    recorder = record_graph()
    with recorder as g:
        assert recorder in autograd_graph.observers
    assert autograd_graph.observers == before
    assert len(g) == 0
    a = lg.ones(2, requires_grad=True)
    (a * 2).sum()
    assert len(g) == 0  # nothing recorded after the block


def test_nodes_made_before_the_block_are_external_inputs():
    a = lg.ones(3, requires_grad=True)
    h = a * 2.0
    with record_graph() as g:
        out = h.sum()
    assert [(n.op, n.kind) for n in g.nodes] == [("MulBackward0", "external"),
                                                 ("SumBackward0", "op")]
    assert g.inputs == [0] and g.outputs == [1]
    assert graph_of(out).to_dict()["nodes"][0]["kind"] == "leaf"


def test_graph_of_several_outputs_and_leaves():
    a = lg.ones(3, requires_grad=True)
    y1, y2 = a * 2.0, a.exp()
    g = graph_of(y1, y2)
    assert [n.op for n in g.nodes] == ["AccumulateGrad", "MulBackward0", "ExpBackward0"]
    assert g.outputs == [1, 2]
    assert graph_of([y1, y2]).to_dict() == g.to_dict()
    assert [n.op for n in graph_of(a).nodes] == ["AccumulateGrad"]
    assert len(graph_of(lg.ones(2))) == 0  # no grad, no graph


def test_json_round_trip():
    with record_graph(capture_backward=True, gradient_values=True) as g:
        loss, _ = mlp_loss(lg)
        loss.grad_fn.metadata["tag"] = {"weird": object()}  # user data: exported as repr
        loss.backward()
    data = g.to_dict()
    text = json.dumps(data, allow_nan=False)
    again = Graph.from_json(text)
    assert again.to_dict() == json.loads(text)
    assert again.backward_runs == g.backward_runs
    assert isinstance(data["nodes"][-1]["metadata"]["tag"]["weird"], str)
    assert data["nodes"][-1]["grad_values"] == [1.0]
    assert g.to_json() == json.dumps(data)
    with pytest.raises(ValueError, match="format"):
        Graph.from_dict({"format": "something else"})


def test_backward_order_and_gradient_summaries():
    with record_graph(capture_backward=True) as g:
        loss, (w, b) = mlp_loss(lg)
        loss.backward()
    (run,) = g.backward_runs
    assert run["roots"] == [6]
    assert run["order"] == [6, 5, 4, 3, 2, 1, 0]  # latest created first, leaves last
    assert [n.backward_index for n in g.nodes] == [6, 5, 4, 3, 2, 1, 0]
    relu = g.find("ReluBackward0")[0]
    (summary,) = relu.grad
    assert summary["shape"] == [4, 5] and summary["numel"] == 20
    assert summary["min"] == summary["max"] == summary["mean"] == 2.0
    assert summary["std"] == 0.0 and summary["norm"] == pytest.approx(2.0 * 20 ** 0.5)
    assert summary["nan"] == summary["inf"] == 0
    assert sum(summary["histogram"]["counts"]) == 20
    assert len(summary["histogram"]["edges"]) == 17
    leaf_w = g.node_of(w)
    (gw,) = leaf_w.grad
    assert gw["norm"] == pytest.approx(float(np.linalg.norm(w.grad.numpy())), rel=1e-5)
    assert relu.grad_values is None  # only with gradient_values=True


def test_order_only_without_summaries_and_nan_counts():
    a = lg.tensor([1.0, 0.0, -1.0], requires_grad=True)
    with record_graph(capture_backward=True, gradient_stats=False) as g:
        (a * 2.0).sum().backward()
    assert g.backward_runs[0]["order"] == [2, 1, 0]
    assert all(n.grad is None for n in g.nodes)
    with record_graph(capture_backward=True) as g:
        (a.log() * 1.0).sum().backward()  # log(0) = -inf, log(-1) = nan in the gradient path
    mul = g.find("MulBackward0")[0]
    assert mul.grad[0]["nan"] == 0
    leaf = g.node_of(a)
    assert leaf.grad[0]["inf"] == 1 and leaf.grad[0]["nan"] == 0
    assert leaf.grad[0]["min"] == -1.0 and leaf.grad[0]["max"] == 1.0


def test_summarize_handles_nan_inf_and_empty():
    from labgrad.autograd.introspection import summarize
    s = summarize(np.array([np.nan, np.inf, -np.inf, 1.0, 3.0], np.float32), bins=4)
    assert (s["nan"], s["inf"], s["min"], s["max"], s["mean"]) == (1, 2, 1.0, 3.0, 2.0)
    assert s["histogram"]["counts"] == [1, 0, 0, 1]
    empty = summarize(np.array([np.nan]))
    assert empty["min"] is None and empty["histogram"] == {"counts": [], "edges": []}
    json.dumps(empty, allow_nan=False)


def _live_tensor_arrays(size):
    return sum(1 for o in gc.get_objects()
               if isinstance(o, lg.Tensor) and o._data.size == size)


def test_recording_100k_nodes_keeps_no_tensors_alive():
    x = lg.randn(1024, requires_grad=True)
    gc.collect()
    tracemalloc.start()
    try:
        with record_graph() as g:
            for _ in range(50_000):  # two nodes each: 100,000 nodes
                y = (x * 2.0).exp()
        del y
        gc.collect()
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(g) == 100_001  # and x's AccumulateGrad
    # Keeping the outputs would take 100,000 x 4 KB = 400 MB; summaries take under 1.5 KB.
    assert current < 150e6, f"{current / 1e6:.1f} MB held by a 100,000-node graph"
    assert _live_tensor_arrays(1024) == 1  # only x: no recorded output survives
    assert g.nodes[-1].node is None  # weak references only
    assert g.nodes[-1].metadata["outputs"][0]["shape"] == [1024]


def test_chain_graph_dies_with_its_tensor():
    x = lg.ones(1000, requires_grad=True)
    with record_graph() as g:
        y = x
        for _ in range(100):
            y = y.exp() * 0.5
        ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None
    assert len(g) == 201


def test_benchmark_suite_runs_in_smoke_mode():
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks import introspection, report
    rows = introspection.run("smoke")
    assert len(rows) == len(introspection.VARIANTS)
    assert all(set(r) == set(report.ROW_FIELDS) and r["reference"] > 0 for r in rows)
    json.dumps(rows)
