"""The backward pass: run graph nodes in dependency order, without recursion.

Dependencies are counted first; a node runs once every consumer of its outputs has sent its
gradient. Among ready nodes the most recently created runs first (a heap keyed by the forward
index), so the order is the same on every run and graph depth is limited only by memory.
"""
from __future__ import annotations

import heapq

from . import grad_mode
from .graph import AccumulateGrad, accumulator_of


def _root_edge(t):
    return (t.grad_fn, t._output_nr) if t.grad_fn is not None else (accumulator_of(t), 0)


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
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return deps


def run_backward(outputs, grad_outputs, retain_graph=False, create_graph=False, inputs=None,
                 capture=False):
    """Propagate `grad_outputs` from `outputs` back through the graph.

    With ``capture=False`` gradients accumulate into the ``.grad`` of leaves (only of `inputs`,
    when given). With ``capture=True`` nothing accumulates and the gradients of `inputs` are
    returned, in order (None where an input got none).
    """
    buffers = {}
    roots = []
    for t, g in zip(outputs, grad_outputs):
        node, nr = _root_edge(t)
        buffer = buffers.get(node)
        if buffer is None:
            buffer = buffers[node] = [None] * len(node._output_meta)
            roots.append(node)
        buffer[nr] = g if buffer[nr] is None else buffer[nr] + g

    targets = None
    if inputs is not None:
        targets = {}
        for i, t in enumerate(inputs):
            targets.setdefault(_root_edge(t), []).append(i)
    captured = [None] * len(inputs) if capture else None

    deps = _count_dependencies(roots)
    ready = [(-node._seq, node) for node in roots if node not in deps]
    heapq.heapify(ready)
    with grad_mode.set_grad_enabled(create_graph):
        while ready:
            _, node = heapq.heappop(ready)
            grads = buffers.pop(node, None)
            if targets is not None and grads is not None:
                for nr, g in enumerate(grads):
                    for i in targets.get((node, nr), ()):
                        if capture:
                            captured[i] = g
                        elif g is not None and type(node) is not AccumulateGrad:
                            inputs[i]._accumulate_nonleaf_grad(g)
            if type(node) is AccumulateGrad:
                if grads is not None and grads[0] is not None and not capture and (
                        targets is None or (node, 0) in targets):
                    node.accumulate(grads[0])
                continue

            if grads is None or all(g is None for g in grads):
                input_grads = None
            else:
                input_grads = node._apply(grads)
            if not retain_graph:
                node._release()
            for i, (child, nr) in enumerate(node.next_functions):
                if child is None:
                    continue
                g = input_grads[i] if input_grads is not None else None
                if g is not None:
                    buffer = buffers.get(child)
                    if buffer is None:
                        buffer = buffers[child] = [None] * len(child._output_meta)
                    buffer[nr] = g if buffer[nr] is None else buffer[nr] + g
                remaining = deps[child] - 1
                deps[child] = remaining
                if remaining == 0:
                    heapq.heappush(ready, (-child._seq, child))
    return captured
