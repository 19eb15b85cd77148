"""The graph introspection API: look at the graph autograd built, as plain data.

Two ways to get a `Graph`, with the same node ids and ordering rules:

    with labgrad.autograd.record_graph(capture_backward=True) as g:
        loss = model(x).sum()
        loss.backward()
    g.nodes[0].metadata        # op, input/output shapes and dtypes, module path, ...
    g.backward_runs            # the order backward ran the nodes in
    g.to_json()                # everything as JSON, for a widget or a file

    g = labgrad.autograd.graph_of(loss)   # walk back from outputs through grad_fn

A `Graph` holds summaries and weak references, never tensors: recording a graph of 100,000
nodes keeps no tensor alive, and a node the program dropped stays in the graph as its summary.

Ids and order: the nodes of a graph are sorted by forward index (the order autograd created
them; a leaf's AccumulateGrad node is created when an op first uses the leaf), and a node's
`id` is its position in that order. Edges point from the node that produced a value to the
node that used it (data flow); gradients flow the other way.

`record_graph` is an `graph.Observer`: it is registered on entering the block and removed on
leaving it; outside such a block nothing here costs anything.
"""
from __future__ import annotations

import json
import weakref

from ..backend import xp_of
from ..dtypes import from_numpy_dtype
from . import graph as _graph
from .graph import AccumulateGrad, Observer, _SavedOutput

__all__ = ["Graph", "GraphNode", "record_graph", "graph_of", "node_metadata", "summarize"]

FORMAT = "labgrad.graph/1"  # the "format" field of to_dict(); bumped when the layout changes

# The keys node_metadata() fills; any other key of Node.metadata is the user's own.
STANDARD_KEYS = ("op", "inputs", "outputs", "module", "forward_index", "saved", "saved_bytes",
                 "variable")


# ------------------------------------------------------------------ per-node metadata

def node_metadata(node) -> dict:
    """The standard metadata of a live `node` (what `Node.metadata` starts with); under anomaly
    mode also the forward traceback, under PyTorch's key "traceback_"."""
    metadata = _metadata_from(_snapshot(node))
    traceback = node.__dict__.get("_traceback")
    if traceback is not None:
        metadata["traceback_"] = traceback
    return metadata


def _snapshot(node) -> tuple:
    """What a node's metadata is built from, without any tensor: cheap references to the
    tuples the node already holds, plus the shapes of what it saved (None once freed).
    Runs for every recorded op, so the loop is written out rather than calling per item."""
    saved = node._saved
    if saved:
        sizes = []
        for item in saved:
            if type(item) is _SavedOutput:
                item = item.data
            else:
                item = getattr(item, "_data", item)  # a tensor's array; else the value
            shape = getattr(item, "shape", None)
            sizes.append(None if item is None else
                         (shape, item.dtype) if shape is not None else type(item).__name__)
        saved = tuple(sizes)
    variable = None
    if type(node) is AccumulateGrad:
        leaf = node._variable()
        if leaf is not None:
            variable = (leaf._data.shape, leaf._data.dtype, leaf._rg)
    return (type(node).name(node), node._input_meta, node._output_meta, node._scope,
            node._seq, saved, variable)


def _metadata_from(snapshot) -> dict:
    name, input_meta, output_meta, scope, seq, saved_sizes, variable = snapshot
    if saved_sizes is None:
        saved, saved_bytes = None, None
    else:
        saved, saved_bytes = [], 0
        for size in saved_sizes:
            if size is None:
                saved.append(None)
            elif type(size) is str:
                saved.append({"value": size})
            else:
                entry = _meta_entry(size)
                entry["nbytes"] = _nbytes(size)
                saved_bytes += entry["nbytes"]
                saved.append(entry)
    metadata = {
        "op": name,
        "inputs": [None if meta is None else _meta_entry(meta) for meta in input_meta],
        "outputs": [_meta_entry(meta) for meta in output_meta],
        "module": scope,
        "forward_index": seq,
        "saved": saved,
        "saved_bytes": saved_bytes,
    }
    if name == "AccumulateGrad":
        metadata["variable"] = None if variable is None else dict(
            _meta_entry(variable[:2]), requires_grad=bool(variable[2]))
    return metadata


def _meta_entry(meta) -> dict:
    shape, dtype = meta
    return {"shape": [int(n) for n in shape], "dtype": _dtype_name(dtype)}


def _dtype_name(np_dtype) -> str:
    try:
        return from_numpy_dtype(np_dtype).name
    except (KeyError, TypeError, ValueError):
        return str(np_dtype)


def _nbytes(meta) -> int:
    shape, dtype = meta
    count = 1
    for n in shape:
        count *= int(n)
    return count * dtype.itemsize


# ------------------------------------------------------------------ gradient summaries

def summarize(array, bins: int = 16) -> dict:
    """Summary statistics of a backend array (or tensor), as plain JSON-able values.

    Keys: shape, dtype, numel, min, max, mean, std, norm (the 2-norm), over the finite
    elements (None when there are none); nan and inf (counts); and ``histogram``:
    ``{"counts": [...], "edges": [...]}`` with `bins` bins over the finite range.
    """
    data = getattr(array, "_data", array)
    xp = xp_of(data)
    shape, dtype = data.shape, data.dtype
    values = data.ravel()
    if values.dtype.kind == "c":
        values = xp.abs(values)
    values = values.astype(xp.float64)
    finite = xp.isfinite(values)
    n_finite = int(finite.sum())
    nan = int(xp.isnan(values).sum())
    summary = {"shape": [int(n) for n in shape], "dtype": _dtype_name(dtype),
               "numel": int(values.size), "nan": nan, "inf": int(values.size) - n_finite - nan}
    if n_finite < values.size:
        values = values[finite]
    if n_finite == 0:
        summary.update(min=None, max=None, mean=None, std=None, norm=None,
                       histogram={"counts": [], "edges": []})
        return summary
    counts, edges = xp.histogram(values, bins=bins)
    summary.update(min=float(values.min()), max=float(values.max()),
                   mean=float(values.mean()), std=float(values.std()),
                   norm=float(xp.sqrt(xp.dot(values, values))),
                   histogram={"counts": [int(c) for c in counts.tolist()],
                              "edges": [float(e) for e in edges.tolist()]})
    return summary


# ------------------------------------------------------------------ the graph

class GraphNode:
    """One node of a `Graph`: a summary of one autograd node, alive or not.

    `id`: position in the graph (forward order); `op`: the node's name ("MulBackward0",
    "AccumulateGrad"); `kind`: "op", "leaf" (an AccumulateGrad node: a graph input holding a
    leaf tensor or parameter) or "external" (made before a `record_graph` block: a graph input
    whose own inputs were not recorded); `inputs`: one entry per op input, ``(id, output_nr)``
    of the node that produced it, or None where no gradient flows (a constant, a scalar);
    `backward_index`: its position in the latest backward run that ran it (None if none did);
    `grad`: summaries (see `summarize`) of the gradients that arrived at its outputs in that
    run, one per output (None where none arrived), when recorded; `grad_values`: the gradient
    arrays themselves, only with ``gradient_values=True``; `node`: the live autograd node, or
    None once it is freed.
    """

    # One is made for every recorded node: slots keep it small and quick to make.
    __slots__ = ("id", "op", "kind", "inputs", "backward_index", "grad", "grad_values",
                 "_metadata", "_ref", "_snapshot", "_input_entries")

    def __init__(self, node, kind, snapshot, input_entries):
        self.id = self.backward_index = self.grad = self.grad_values = self._metadata = None
        self.inputs = ()
        self.op = snapshot[0] if snapshot is not None else None
        self.kind = kind
        self._ref = weakref.ref(node) if node is not None else None
        self._snapshot = snapshot
        self._input_entries = input_entries  # ((GraphNode, output_nr) or None, ...)

    @property
    def node(self):
        """The autograd node this summarizes, while it is alive; None after."""
        return self._ref() if self._ref is not None else None

    @property
    def metadata(self) -> dict:
        """The node's metadata (see `Node.metadata`) as it was recorded, plus any keys the
        user added to the live node's own ``metadata`` dict."""
        if self._metadata is None:
            if self._snapshot is None:
                return {}
            self._metadata = _metadata_from(self._snapshot)
        metadata = self._metadata
        node = self.node
        own = node.__dict__.get("_metadata") if node is not None else None
        if own:
            metadata = dict(metadata)
            metadata.update((k, v) for k, v in own.items() if k not in STANDARD_KEYS)
        return metadata

    def to_dict(self, *, gradient_values=True) -> dict:
        out = {"id": self.id, "op": self.op, "kind": self.kind,
               "inputs": [None if e is None else list(e) for e in self.inputs],
               "metadata": _jsonable(self.metadata)}
        if self.backward_index is not None:
            out["backward_index"] = self.backward_index
        if self.grad is not None:
            out["grad"] = self.grad
        if gradient_values and self.grad_values is not None:
            out["grad_values"] = [None if g is None else g.tolist() for g in self.grad_values]
        return out

    @classmethod
    def _from_dict(cls, data) -> GraphNode:
        self = cls(None, data["kind"], None, ())
        self.id, self.op = data["id"], data["op"]
        self.inputs = tuple(None if e is None else tuple(e) for e in data["inputs"])
        self._metadata = data["metadata"]
        self.backward_index = data.get("backward_index")
        self.grad = data.get("grad")
        if data.get("grad_values") is not None:
            import numpy
            self.grad_values = [None if g is None else numpy.asarray(g)
                                for g in data["grad_values"]]
        return self

    def __repr__(self):
        return f"<GraphNode {self.id}: {self.op} ({self.kind})>"


class Graph:
    """A recorded or walked autograd graph: `nodes` in forward order, `edges`, `inputs`,
    `outputs` and, when backward was captured, `backward_runs`. See the module docstring."""

    def __init__(self):
        self._entries = []  # GraphNodes in the order they were met
        # forward index of an autograd node -> its GraphNode: unlike id(), never reused
        self._by_seq = {}
        self._output_entries = None  # graph_of: the given outputs' nodes; else the sinks
        self._runs = []  # [{"roots": [GraphNode], "order": [GraphNode]}]
        self._nodes = None  # the sorted, numbered list; rebuilt after a change

    # -- building (record_graph and graph_of) --

    def _entry_of(self, node):
        return self._by_seq.get(node._seq)

    def _add(self, node, kind, input_entries):
        entry = GraphNode(node, kind, _snapshot(node), input_entries)
        self._entries.append(entry)
        self._by_seq[node._seq] = entry
        self._nodes = None
        return entry

    def _input_entry(self, node):
        """The entry of `node`, which a recorded node uses but the block did not record."""
        entry = self._entry_of(node)
        if entry is None:
            kind = "leaf" if type(node) is AccumulateGrad else "external"
            entry = self._add(node, kind, ())
        return entry

    # -- reading --

    @property
    def nodes(self) -> list:
        """The GraphNodes, sorted by forward index; ``nodes[i].id == i``."""
        if self._nodes is None:
            nodes = sorted(self._entries, key=_forward_index)
            for i, entry in enumerate(nodes):
                entry.id = i
            for entry in nodes:
                entry.inputs = tuple(None if edge is None else (edge[0].id, edge[1])
                                     for edge in entry._input_entries)
            self._nodes = nodes
        return self._nodes

    def __len__(self):
        return len(self._entries)

    def __iter__(self):
        return iter(self.nodes)

    def __getitem__(self, i) -> GraphNode:
        return self.nodes[i]

    @property
    def edges(self) -> list:
        """``(from_id, output_nr, to_id, input_nr)`` for every input of every node: output
        `output_nr` of node `from_id` is input `input_nr` of node `to_id`."""
        edges = []
        for node in self.nodes:
            for input_nr, edge in enumerate(node.inputs):
                if edge is not None:
                    edges.append((edge[0], edge[1], node.id, input_nr))
        return edges

    @property
    def inputs(self) -> list:
        """Ids of the graph's inputs: leaf tensors and parameters (kind "leaf"), and nodes
        made before recording began (kind "external")."""
        return [n.id for n in self.nodes if n.kind != "op"]

    @property
    def outputs(self) -> list:
        """Ids of the outputs: for `graph_of`, the nodes of the tensors it was given; for
        `record_graph`, the recorded nodes whose outputs no recorded node used."""
        nodes = self.nodes
        if self._output_entries is not None:
            return [e.id for e in self._output_entries]
        used = {edge[0] for n in nodes for edge in n.inputs if edge is not None}
        return [n.id for n in nodes if n.kind == "op" and n.id not in used]

    @property
    def backward_runs(self) -> list:
        """One dict per backward run seen: ``{"roots": [ids], "order": [ids]}``, the ids of
        the nodes backward started from and of the nodes it ran, in the order it ran them."""
        self.nodes  # number the entries
        return [{"roots": [e.id for e in run["roots"]], "order": [e.id for e in run["order"]]}
                for run in self._runs]

    def node_of(self, tensor):
        """The GraphNode of the autograd node that made `tensor` (its AccumulateGrad node for
        a leaf), or None if that node is not in this graph."""
        node = tensor.grad_fn if tensor.grad_fn is not None else tensor._accumulator
        entry = self._entry_of(node) if node is not None else None
        if entry is not None:
            self.nodes  # number the entries
        return entry

    def find(self, op: str) -> list:
        """The nodes whose op name is `op` (e.g. "MmBackward0"), in forward order."""
        return [n for n in self.nodes if n.op == op]

    def to_dict(self, *, gradient_values=True) -> dict:
        """Everything as plain dicts, lists, strings, numbers and None (JSON-able)."""
        out = {"format": FORMAT,
               "nodes": [n.to_dict(gradient_values=gradient_values) for n in self.nodes],
               "edges": [list(e) for e in self.edges],
               "inputs": self.inputs,
               "outputs": self.outputs}
        if self._runs:
            out["backward_runs"] = self.backward_runs
        return out

    def to_json(self, **kwargs) -> str:
        """``json.dumps(self.to_dict())``; keyword arguments go to json.dumps."""
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data) -> Graph:
        """A Graph (without live nodes) from `to_dict()` output, or its JSON parsed."""
        if data.get("format") != FORMAT:
            raise ValueError(f"Graph.from_dict: expected format {FORMAT!r}, got "
                             f"{data.get('format')!r}")
        self = cls()
        entries = [GraphNode._from_dict(n) for n in data["nodes"]]
        for i, entry in enumerate(entries):
            if entry.id != i:
                raise ValueError(f"Graph.from_dict: node {i} has id {entry.id}; ids must be "
                                 "0, 1, 2, ... in order")
            entry._input_entries = tuple(None if e is None else (entries[e[0]], e[1])
                                         for e in entry.inputs)
        self._entries = entries
        self._nodes = entries
        self._output_entries = [entries[i] for i in data["outputs"]]
        self._runs = [{"roots": [entries[i] for i in run["roots"]],
                       "order": [entries[i] for i in run["order"]]}
                      for run in data.get("backward_runs", ())]
        return self

    @classmethod
    def from_json(cls, text: str) -> Graph:
        return cls.from_dict(json.loads(text))

    def __repr__(self):
        return (f"<Graph: {len(self)} nodes, {len(self.inputs)} inputs, "
                f"{len(self._runs)} backward runs>")


def _forward_index(entry):
    return entry._snapshot[4]


def _jsonable(value):
    """`value` with anything JSON cannot hold turned into its repr (user metadata may hold
    anything)."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (int, float)):  # numpy scalars
        return value.item() if hasattr(value, "item") else value
    return repr(value)


# ------------------------------------------------------------------ recording

class record_graph(Observer):  # noqa: N801 - a context manager, named like no_grad
    """Record every autograd node created inside a ``with`` block as a `Graph`.

    ``with record_graph() as g:`` gives the Graph, which fills as ops run. Nodes used by a
    recorded node but made outside the block (leaf tensors' AccumulateGrad nodes, earlier
    nodes) are added as graph inputs.

    capture_backward: also record, for every backward run inside the block, the order it ran
        the graph's nodes in (``Graph.backward_runs``, ``GraphNode.backward_index``) and a
        summary of the gradient that arrived at each node (``GraphNode.grad``).
    gradient_stats: with capture_backward, whether to compute those summaries (statistics and
        a histogram of `bins` bins); False records the order only, which is cheaper.
    gradient_values: with capture_backward, also keep a copy of each gradient array
        (``GraphNode.grad_values``): memory grows with the graph, so only for small graphs.
    """

    def __init__(self, capture_backward=False, gradient_stats=True, gradient_values=False,
                 bins=16):
        self.graph = Graph()
        self.capture_backward = bool(capture_backward)
        self.gradient_stats = bool(gradient_stats)
        self.gradient_values = bool(gradient_values)
        self.bins = int(bins)
        self._run = None

    def __enter__(self) -> Graph:
        if self in _graph.observers:
            raise RuntimeError("record_graph: this recorder is already active")
        _graph.observers.append(self)
        return self.graph

    def __exit__(self, exc_type, exc_value, traceback):
        if self in _graph.observers:
            _graph.observers.remove(self)
        return False

    # -- Observer --

    def node_recorded(self, node, outputs):
        # Runs once per op while recording: plain lookups, no tensor kept (see _snapshot).
        graph = self.graph
        by_seq = graph._by_seq
        inputs = []
        for child, nr in node.next_functions:
            if child is None:
                inputs.append(None)
                continue
            entry = by_seq.get(child._seq)
            if entry is None:
                entry = graph._input_entry(child)
            inputs.append((entry, nr))
        entry = GraphNode(node, "op", _snapshot(node), tuple(inputs))
        graph._entries.append(entry)
        by_seq[node._seq] = entry
        graph._nodes = None

    def backward_begin(self, outputs):
        if not self.capture_backward:
            return
        roots = []
        for t in outputs:
            node = t.grad_fn if t.grad_fn is not None else t._accumulator
            entry = self.graph._entry_of(node) if node is not None else None
            if entry is not None and entry not in roots:
                roots.append(entry)
        self._run = {"roots": roots, "order": []}
        self.graph._runs.append(self._run)

    def node_ran(self, node, grad_outputs, grad_inputs):
        run = self._run
        if run is None:
            return
        entry = self.graph._entry_of(node)
        if entry is None:
            return
        entry.backward_index = len(run["order"])
        run["order"].append(entry)
        if grad_outputs is None:
            entry.grad = entry.grad_values = None
            return
        if self.gradient_stats:
            entry.grad = [None if g is None else summarize(g._data, self.bins)
                          for g in grad_outputs]
        if self.gradient_values:
            entry.grad_values = [None if g is None else g._data.copy() for g in grad_outputs]

    def backward_end(self, outputs):
        self._run = None


def graph_of(*tensors) -> Graph:
    """The graph that backward from `tensors` would run through: every node reachable from
    their grad_fn (AccumulateGrad nodes of leaves included), with the same ids and ordering
    rules as `record_graph`. Tensors that do not require grad are skipped."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    graph = Graph()
    roots = []
    for t in tensors:
        if not getattr(t, "_rg", False):
            continue
        node = _graph.edge_of(t)[0]
        if node not in roots:
            roots.append(node)
    # Every node reachable from the roots, children before parents.
    seen = set(roots)
    stack = list(roots)
    found = []
    while stack:
        node = stack.pop()
        found.append(node)
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                stack.append(child)
    for node in sorted(found, key=_seq_of):  # a node is made after the nodes it uses
        kind = "leaf" if type(node) is AccumulateGrad else "op"
        inputs = tuple(None if child is None else (graph._entry_of(child), nr)
                       for child, nr in node.next_functions)
        graph._add(node, kind, inputs)
    graph._output_entries = [graph._entry_of(node) for node in roots]
    return graph


def _seq_of(node):
    return node._seq
