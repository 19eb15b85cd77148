"""The backward pass: run graph nodes in dependency order, without recursion.

Dependencies are counted first; a node runs once every consumer of its outputs has sent its
gradient. Among ready nodes the most recently created runs first (a heap keyed by the forward
index), so the order is the same on every run and graph depth is limited only by memory.

When `inputs` are given, only the part of the graph between the outputs and those inputs runs,
as in PyTorch: nodes below the inputs keep their saved tensors, and no other leaf accumulates.
"""
from __future__ import annotations

import heapq

from . import grad_mode
from . import graph
from .graph import AccumulateGrad, edge_of

# The dependency count of a node that must never run (it leads to none of the inputs).
_NEVER = 1 << 62


def _count_dependencies(roots):
    """How many edges point at each node reachable from `roots` (an iterative walk)."""
    deps = {}
    stack = list(roots)
    seen = set(roots)
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            if child in deps:
                deps[child] += 1
            else:
                deps[child] = 1
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
    return deps, seen


def _prune(nodes, deps, target_nodes, capture):
    """Restrict the run to nodes on a path to `target_nodes`.

    Returns the nodes whose backward must run; nodes that lead to no target get a dependency
    count that never reaches zero. A node is always created after the nodes it has edges to,
    so one pass in forward order sees every child before its parents.
    """
    useful = set()
    runnable = set()
    for node in sorted(nodes, key=_seq_of):
        leads = any(child in useful for child, _ in node.next_functions)
        if leads or node in target_nodes:
            useful.add(node)
        # grad() stops at a target; backward(inputs=) runs a non-leaf target's node, as PyTorch
        # does, even where nothing below it is wanted.
        if leads or (node in target_nodes and not capture):
            runnable.add(node)
    for node in nodes:
        if node not in useful:
            deps[node] = _NEVER
    return useful, runnable


def _seq_of(node):
    return node._seq


def run_backward(outputs, grad_outputs, retain_graph=False, create_graph=False, inputs=None,
                 capture=False):
    """Propagate `grad_outputs` from `outputs` back through the graph.

    With ``capture=False`` gradients accumulate into the ``.grad`` of leaves (only of `inputs`,
    when given). With ``capture=True`` nothing accumulates and the gradients of `inputs` are
    returned, in order (None where an input got none).
    """
    if inputs is not None and not capture:
        # backward(inputs=) fills the .grad of a non-leaf input through retain_grad, as
        # PyTorch does (so its hooks run first, and it retains grad from then on).
        for t in inputs:
            if t.grad_fn is not None:
                t.retain_grad()
    if graph.moved_retains:
        _move_retains()
    buffers = {}
    roots = []
    for t, g in zip(outputs, grad_outputs):
        node, nr = edge_of(t)
        buffer = buffers.get(node)
        if buffer is None:
            buffer = buffers[node] = [None] * len(node._output_meta)
            roots.append(node)
        buffer[nr] = g if buffer[nr] is None else buffer[nr] + g

    deps, nodes = _count_dependencies(roots)
    targets = runnable = None
    if inputs is not None:
        targets = {}
        for i, t in enumerate(inputs):
            targets.setdefault(edge_of(t), []).append(i)
        target_nodes = {node for node, _ in targets}
        useful, runnable = _prune(nodes, deps, target_nodes, capture)
        roots = [node for node in roots if node in useful]
    captured = [None] * len(inputs) if capture else None

    ready = [(-node._seq, node) for node in roots if node not in deps]
    heapq.heapify(ready)
    heappop, heappush = heapq.heappop, heapq.heappush
    state = grad_mode.state
    previous_mode = state.grad_enabled
    watching = tuple(graph.observers)
    for observer in watching:
        observer.backward_begin(outputs)
    state.grad_enabled = bool(create_graph)  # formulas record only for create_graph
    node = None
    try:
        while ready:
            node = heappop(ready)[1]
            # A buffer exists only once some gradient has arrived (roots always have one).
            grads = buffers.pop(node, None)
            hooks = node._hooks  # the one look at hooks a node pays when it has none
            if targets is not None:
                if node not in runnable:
                    # A target that does not run: its tensors' hooks run before grad()
                    # captures the gradient (PyTorch's order), its own hooks do not.
                    if grads is not None:
                        if hooks is not None:
                            grads = hooks.run_tensor_hooks(grads)
                        if capture:
                            _deliver(node, grads, targets, captured)
                    continue
                if capture and grads is not None:  # captured before its hooks, as PyTorch
                    _deliver(node, grads, targets, captured)
            if hooks is not None and grads is not None:
                grads = hooks.run_pre(grads)
            if type(node) is AccumulateGrad:
                if grads is not None and grads[0] is not None and not capture:
                    node.accumulate(grads[0])
                    if hooks is not None:
                        _after_accumulate(node, hooks, grads)
                if watching:
                    for observer in watching:
                        observer.node_ran(node, grads, ())
                continue

            edges = node.next_functions
            if grads is None:
                input_grads = (None,) * len(edges)
            else:
                input_grads = node._apply(grads)
                if hooks is not None and hooks.post:
                    input_grads = hooks.run_post(input_grads, grads)
                # Free what it saved (a node that saved nothing can run again).
                if not retain_graph and node._versions:
                    node._saved = None
            if watching:
                for observer in watching:
                    observer.node_ran(node, grads, input_grads)
            for g, (child, nr) in zip(input_grads, edges):
                if child is None:
                    continue
                if g is not None:
                    buffer = buffers.get(child)
                    if buffer is None:
                        buffer = buffers[child] = [None] * len(child._output_meta)
                        buffer[nr] = g
                    elif buffer[nr] is None:
                        buffer[nr] = g
                    else:
                        buffer[nr] = buffer[nr] + g
                remaining = deps[child] - 1
                deps[child] = remaining
                if not remaining:
                    heappush(ready, (-child._seq, child))
    except BaseException as error:
        for observer in watching:
            observer.backward_failed(node, error)
        raise
    finally:
        state.grad_enabled = previous_mode
        for observer in watching:
            observer.backward_end(outputs)
    return captured


def _deliver(node, grads, targets, captured):
    """Hand the gradients arriving at `node` to grad()'s result for the inputs it produced."""
    for nr, g in enumerate(grads):
        for i in targets.get((node, nr), ()):
            captured[i] = g


def _after_accumulate(node, hooks, grads):
    """A leaf's post-accumulate-grad hooks, then its AccumulateGrad node's post-hooks."""
    leaf = node.variable
    if leaf is not None:
        for fn in list(hooks.post_accumulate.values()):
            fn(leaf)
    if hooks.post:
        hooks.run_post((), grads)


def _move_retains():
    """Re-register retain_grad for tensors changed in place since they asked for it."""
    moved = graph.moved_retains[:]
    graph.moved_retains.clear()
    for ref in moved:
        t = ref()
        if t is not None and t._retains_grad and t._retain_node is None:
            graph.add_retain(*edge_of(t), t)
