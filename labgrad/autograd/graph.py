"""Graph nodes: what an op records so that backward can run later.

A node keeps edges to the nodes that produced its inputs (``next_functions``), the shapes and
dtypes of its inputs (gradients are reduced and cast to match them), and only the tensors the
op asked to save. Saved outputs are kept as arrays, not tensors, so a node never holds its
own output: a graph is freed by reference counting as soon as its last tensor goes.
"""
from __future__ import annotations

import itertools
import weakref

from ..dtypes import from_numpy_dtype
from . import grad_mode

_forward_counter = itertools.count()
_NO_EDGE = (None, 0)


def take_sequence_number() -> int:
    """A number below that of every node made from now on (and above every earlier one)."""
    return next(_forward_counter)


class _SavedOutput:
    """An op's own output, saved without a reference cycle (the node would own its output)."""

    __slots__ = ("data", "counter", "output_nr")

    def __init__(self, tensor):
        if tensor._vc is None:
            tensor._vc = [0]
        self.data = tensor._data
        self.counter = tensor._vc
        self.output_nr = tensor._output_nr


class Node:
    """One recorded op. Subclasses define ``backward(self, *grad_outputs)``."""

    __slots__ = ("next_functions", "_saved", "_versions", "_input_meta", "_output_meta",
                 "_seq", "_scope", "__dict__", "__weakref__")

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(edge[0] is not None for edge in self.next_functions)

    @property
    def saved_tensors(self) -> tuple:
        """The saved values, each checked against in-place changes since it was saved."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (or to read "
                "saved tensors after they were freed). Its saved tensors were freed by the first "
                "backward; pass retain_graph=True to the first backward() to keep them.")
        if not self._versions:  # nothing was saved
            return saved
        out = []
        for item, version in zip(saved, self._versions):
            if version is None:  # not a tensor: nothing to check
                out.append(item)
                continue
            if type(item) is _SavedOutput:
                counter, tensor = item.counter, _unpack_output(self, item)
            else:
                counter, tensor = item._vc, item
            current = counter[0] if counter else 0
            if current != version:
                raise _modified_error(self, tensor, current, version)
            out.append(tensor)
        return tuple(out)

    def _apply(self, grads: list) -> list:
        """Run backward and shape each input gradient like its input."""
        if len(grads) > 1:
            for g in grads:  # an identity test: `None in grads` would call Tensor.__eq__
                if g is None:  # outputs that got no gradient
                    grads = _materialize(grads, self._output_meta)
                    break
        result = self.backward(*grads)
        if type(result) is not tuple:
            result = (result,)
        metas = self._input_meta
        if len(result) != len(metas):
            raise RuntimeError(f"{self.name()}: backward returned {len(result)} gradients for "
                               f"{len(metas)} inputs")
        shaped = []
        for g, meta, edge in zip(result, metas, self.next_functions):
            if g is None or edge[0] is None:
                shaped.append(None)
                continue
            data = g._data
            if data.shape != meta[0]:
                g = _sum_to_shape(g, meta[0])
            if data.dtype != meta[1]:
                g = g.to(from_numpy_dtype(meta[1]))
            shaped.append(g)
        return shaped


def _modified_error(node, tensor, current, version):
    """The error for a saved tensor changed in place between forward and backward."""
    if tensor.grad_fn is not None:
        origin = f"output {tensor._output_nr} of {tensor.grad_fn.name()}"
    else:
        origin = "a leaf tensor"
    return RuntimeError(
        f"{node.name()}: one of the tensors it saved for backward was modified by an in-place "
        f"operation: a tensor of shape {tuple(tensor.shape)} ({tensor.dtype.name}), now "
        f"{origin}, is at version {current}; expected version {version} instead. Hint: make "
        "that in-place op out-of-place (y = y.relu() instead of y.relu_()), or modify a .clone() "
        "instead.")


class AccumulateGrad(Node):
    """The sink for a leaf tensor: adds the incoming gradient into ``variable.grad``.

    The leaf holds its node (so the node is made once, not once per op) and the node holds
    the leaf weakly, so neither keeps the other alive through a cycle.
    """

    def __init__(self, variable):
        self._variable = weakref.ref(variable)
        self.next_functions = ()
        self._saved = ()
        self._versions = ()
        self._input_meta = ()
        self._output_meta = ((variable._data.shape, variable._data.dtype),)
        self._seq = next(_forward_counter)
        self._scope = ""

    @property
    def variable(self):
        return self._variable()

    def accumulate(self, grad):
        leaf = self._variable()
        if leaf is None:  # the leaf is gone: nobody can read its gradient
            return
        data = leaf._data
        if grad._data.shape != data.shape:
            grad = _sum_to_shape(grad, data.shape)
        if grad._data.dtype != data.dtype:
            grad = grad.to(leaf.dtype)
        current = leaf._grad
        if grad_mode.state.grad_enabled:  # create_graph: keep the gradient's own graph
            leaf._grad = grad if current is None else current + grad
        elif current is None:
            # A copy, so that in-place changes to .grad (clipping, zeroing) never reach a
            # tensor the gradient shares memory with.
            leaf._grad = type(grad)._wrap(grad._data.copy())
        else:
            current._data += grad._data


def accumulator_of(leaf) -> AccumulateGrad:
    """The leaf's AccumulateGrad node, made on first use."""
    node = leaf._accumulator
    if node is None:
        node = leaf._accumulator = AccumulateGrad(leaf)
    return node


def edge_of(t):
    """The (node, output number) that gradients for tensor `t` flow into."""
    fn = t.grad_fn
    if fn is None:
        return accumulator_of(t), 0
    if t._base is not None:
        fn = view_grad_fn(t, fn)
    return fn, t._output_nr


def view_grad_fn(view, fn):
    """The grad_fn of a view, brought up to date if its memory was changed in place with
    grad recording since `fn` was made: the view is then re-expressed as elements of its base,
    as PyTorch does. Slot 1 of the shared version counter holds a sequence number taken just
    before the latest such change: nodes up to it are older than the change."""
    counter = view._vc
    if len(counter) < 2 or counter[1] < fn._seq:
        return fn
    from ..ops.inplace import regenerate_view
    return regenerate_view(view)


def mark_inplace_with_grad(t, since):
    """Note on t's version counter that its memory was changed in place with grad recording
    by an op whose nodes all come after sequence number `since`."""
    counter = t._vc
    if len(counter) > 1:
        counter[1] = since
    else:
        counter.append(since)


def record(node_cls, inputs, outputs, saved=()):
    """Attach a new `node_cls` node to `outputs`, with edges to the tensors in `inputs`.

    `inputs` may hold non-tensors (scalars) as None; `outputs` is a tensor or a tuple of them;
    `saved` may mix input tensors, output tensors, plain values (such as Python scalars) and
    None. A node that saved nothing but None can run backward any number of times, like
    PyTorch's AddBackward0; otherwise backward frees what it saved, scalars included (PyTorch
    frees the scalar it wraps for ``x * 2`` too).
    """
    node = node_cls.__new__(node_cls)
    edges = []
    input_meta = []
    for t in inputs:
        if t is None:
            edges.append(_NO_EDGE)
            input_meta.append(None)
            continue
        data = t._data
        input_meta.append((data.shape, data.dtype))
        if not t._rg:
            edges.append(_NO_EDGE)
            continue
        fn = t.grad_fn  # edge_of(t), inlined: keep the two in sync
        if fn is None:
            edges.append((accumulator_of(t), 0))
        else:
            if t._base is not None:
                fn = view_grad_fn(t, fn)
            edges.append((fn, t._output_nr))
    node.next_functions = tuple(edges)
    node._input_meta = tuple(input_meta)
    node._seq = next(_forward_counter)
    node._scope = scope[-1] if scope else ""

    if type(outputs) is tuple:
        for nr, out in enumerate(outputs):
            out.grad_fn, out._output_nr, out._rg = node, nr, True
        node._output_meta = tuple((o._data.shape, o._data.dtype) for o in outputs)
    else:
        outputs.grad_fn, outputs._rg = node, True
        data = outputs._data
        node._output_meta = ((data.shape, data.dtype),)

    if not saved:
        node._saved = node._versions = ()
        return node
    items = []
    versions = []
    anything = False
    for value in saved:
        if value is None:
            items.append(None)
            versions.append(None)
            continue
        anything = True
        counter = getattr(value, "_vc", _NOT_A_TENSOR)
        if counter is _NOT_A_TENSOR:  # a plain value: nothing to check
            items.append(value)
            versions.append(None)
        elif value is outputs or (type(outputs) is tuple and _is_one_of(value, outputs)):
            items.append(_SavedOutput(value))  # made value._vc: read it again
            versions.append(value._vc[0])
        else:
            items.append(value)
            versions.append(counter[0] if counter else 0)
    node._saved = tuple(items)
    node._versions = tuple(versions) if anything else ()
    return node


_NOT_A_TENSOR = object()


def _is_one_of(value, tensors):
    for t in tensors:
        if value is t:
            return True
    return False


# Qualified names of the modules currently running; the nn layer will push and pop them.
scope: list = []


def _sum_to_shape(grad, shape):
    """reductions.sum_to_shape: `grad` summed over the dims its input was broadcast along.
    Imported on first use (reductions imports this module), then this name is rebound to it,
    so later calls go straight there."""
    global _sum_to_shape
    from ..ops.reductions import sum_to_shape
    _sum_to_shape = sum_to_shape
    return sum_to_shape(grad, shape)


def _unpack_output(node, item):
    from ..tensor import Tensor
    t = Tensor._wrap(item.data)
    t.grad_fn, t._output_nr, t._rg = node, item.output_nr, True
    t._vc = item.counter
    return t


def _materialize(grads, output_meta):
    """Zeros, on the device of the gradients that did arrive, for those that did not."""
    from ..backend import xp_of
    template = next(g for g in grads if g is not None)
    xp = xp_of(template._data)
    return [g if g is not None else type(template)._wrap(xp.zeros(shape, dtype))
            for g, (shape, dtype) in zip(grads, output_meta)]
