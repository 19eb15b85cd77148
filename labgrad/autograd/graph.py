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
                 "_outputs", "_seq", "_scope", "__dict__", "__weakref__")
    # Hooks, made on the first registration: record() never touches this, and the engine
    # looks at it once per node, so a graph without hooks pays nothing for them.
    _hooks = None

    def name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def metadata(self) -> dict:
        """A dict about this node, made on first access; yours to add keys to (as PyTorch's).

        It starts with: ``op`` (the node's name), ``inputs`` and ``outputs`` (one
        ``{"shape": [...], "dtype": "float32"}`` each; None for an input that is not a tensor),
        ``module`` (the qualified name of the module the op ran under, "" outside any),
        ``forward_index`` (the order of creation among all nodes), ``saved`` (shape, dtype and
        nbytes of each saved tensor; ``{"value": type name}`` for a plain value; None for the
        whole list once backward freed them) and ``saved_bytes``; an AccumulateGrad node also
        has ``variable`` (its leaf's shape, dtype and requires_grad; None once it is gone).
        Everything in it is plain JSON-able data (see labgrad.autograd.introspection).
        """
        metadata = self.__dict__.get("_metadata")
        if metadata is None:
            from .introspection import node_metadata
            metadata = self.__dict__["_metadata"] = node_metadata(self)
        return metadata

    @property
    def outputs(self) -> tuple:
        """The tensors this node made, while they live (None for each one gone): the node
        holds them by weak reference only, so a graph dies with its last tensor."""
        return tuple(ref() for ref in self._outputs)

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

    def register_hook(self, fn):
        """Call ``fn(grad_inputs, grad_outputs)`` after this node's backward has run.

        `grad_inputs` are the gradients it computed for its inputs (None where an input needs
        none), `grad_outputs` those it received. ``fn`` may return a tuple that replaces
        `grad_inputs`. Returns a handle whose ``remove()`` unregisters it.
        """
        hooks = hooks_of(self).post
        return _add(hooks, fn)

    def register_prehook(self, fn):
        """Call ``fn(grad_outputs)`` before this node's backward runs; it may return a tuple
        that replaces `grad_outputs`. Runs after the hooks of the tensors this node made."""
        hooks = hooks_of(self).pre
        return _add(hooks, fn)

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
        self._outputs = (self._variable,)
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
            leaf._grad = _plain_tensor(grad._data.copy())  # never a Parameter
        else:
            current._data += grad._data


# ------------------------------------------------------------------ hooks

class _HookDict(dict):
    """Hooks by handle id, in registration order (a dict a handle can refer to weakly)."""


class NodeHooks:
    """What runs around one node's backward, in PyTorch's order: the hooks of the tensors
    it made (by output number), then retain_grad, then the node's pre-hooks; after
    backward, a leaf's post-accumulate-grad hooks, then the node's post-hooks."""

    __slots__ = ("tensor", "retains", "pre", "post", "post_accumulate")

    def __init__(self):
        self.tensor = {}  # output number -> _HookDict of fn(grad)
        self.retains = []  # (output number, weak reference to the tensor)
        self.pre = _HookDict()
        self.post = _HookDict()
        self.post_accumulate = _HookDict()  # fn(leaf), AccumulateGrad only

    def run_tensor_hooks(self, grads) -> list:
        """The tensor hooks and retain_grad, on the gradients that arrived (a new list)."""
        grads = list(grads)
        for nr, hooks in list(self.tensor.items()):
            for fn in list(hooks.values()):  # a hook may remove hooks: run those seen first
                result = fn(grads[nr])
                if result is not None:
                    old = grads[nr]
                    if old is not None and tuple(result.shape) != tuple(old.shape):
                        raise RuntimeError(f"hook '{_name(fn)}' has changed the size of value")
                    grads[nr] = result
        for nr, ref in list(self.retains):
            tensor, g = ref(), grads[nr]
            if tensor is None or g is None:
                continue
            current = tensor._grad
            tensor._grad = g.clone() if current is None else current + g
        return grads

    def run_pre(self, grads) -> list:
        """Tensor hooks, retain_grad, then the node's pre-hooks."""
        grads = self.run_tensor_hooks(grads)
        for fn in list(self.pre.values()):
            result = fn(tuple(grads))
            if result is not None:
                grads = list(_checked_tuple(fn, result, grads))
        return grads

    def run_post(self, grad_inputs, grad_outputs):
        """The node's post-hooks: each may replace the gradients for its inputs."""
        grad_outputs = tuple(grad_outputs)
        for fn in list(self.post.values()):
            result = fn(tuple(grad_inputs), grad_outputs)
            if result is not None:
                result = _checked_tuple(fn, result, grad_inputs)
                for old, new in zip(grad_inputs, result):
                    if old is None and new is not None:
                        raise RuntimeError("can't replace a None gradient with a non-None value")
                grad_inputs = list(result)
        return grad_inputs


def hooks_of(node) -> NodeHooks:
    """The node's hooks, made on first use."""
    hooks = node._hooks
    if hooks is None:
        hooks = node._hooks = NodeHooks()
    return hooks


def _add(hooks: dict, fn):
    from ..utils.hooks import RemovableHandle
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    return handle


def add_tensor_hook(node, nr, fn):
    """Register fn(grad) for output `nr` of `node` (a tensor's register_hook)."""
    hooks = hooks_of(node).tensor
    if nr not in hooks:
        hooks[nr] = _HookDict()
    return _add(hooks[nr], fn)


def add_retain(node, nr, tensor):
    """Make `node` keep the gradient of its output `nr` in ``tensor.grad``."""
    hooks_of(node).retains.append((nr, weakref.ref(tensor)))
    tensor._retain_node = node


def drop_retain(tensor):
    """Undo add_retain for `tensor` (its memory was changed in place: it has a new grad_fn)."""
    node = tensor._retain_node
    if node is not None and node._hooks is not None:
        node._hooks.retains = [(nr, ref) for nr, ref in node._hooks.retains
                               if ref() is not tensor]
    tensor._retain_node = None


# Tensors whose retain_grad waits to move to their new grad_fn (set right after an in-place
# op marks them); run_backward moves them first.
moved_retains: list = []


def _checked_tuple(fn, result, expected):
    if type(result) is not tuple:
        raise TypeError(f"expected tuple, but hook returned '{type(result).__name__}'")
    if len(result) != len(expected):
        raise RuntimeError(f"hook '{_name(fn)}' has returned an incorrect number of values "
                           f"(got {len(result)}, but expected {len(expected)})")
    return result


def _name(fn):
    return getattr(fn, "__name__", type(fn).__name__)


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
    if t._retains_grad:  # retain_grad follows the tensor to the grad_fn it is about to get
        drop_retain(t)
        moved_retains.append(weakref.ref(t))


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
        node._outputs = tuple(map(_weakref, outputs))
    else:
        outputs.grad_fn, outputs._rg = node, True
        data = outputs._data
        node._output_meta = ((data.shape, data.dtype),)
        node._outputs = (_weakref(outputs),)

    if not saved:
        node._saved = node._versions = ()
    else:
        _save(node, outputs, saved)
    if observers:
        for observer in observers:
            observer.node_recorded(node, outputs)
    return node


def _save(node, outputs, saved):
    """Fill node._saved and node._versions from the values an op asked to save."""
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


_NOT_A_TENSOR = object()
_weakref = weakref.ref


class Observer:
    """Watches the graph being built and run: subclass it, override what you need, and add an
    instance to `observers` (and remove it when done). Anomaly mode, graph recording and the
    public event hooks are observers. With none registered, record() and the backward engine
    pay one check of an empty list. An exception an observer raises propagates (anomaly mode
    relies on that); code calling user callbacks must catch and report their errors itself.
    """

    def node_recorded(self, node, outputs):
        """After record() made `node` for `outputs` (a tensor or a tuple of them)."""

    def backward_begin(self, outputs):
        """Before the engine runs, with the tensors backward starts from."""

    def node_ran(self, node, grad_outputs, grad_inputs):
        """After the engine ran `node` (AccumulateGrad included): the gradients that arrived
        at its outputs, and those it passed on (empty for AccumulateGrad)."""

    def backward_failed(self, node, error):
        """When the engine raises `error` while running `node` (None: before any node ran);
        backward_end follows."""

    def backward_end(self, outputs):
        """After the engine finished (also when it raised)."""


observers: list = []


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


def _plain_tensor(array):
    from ..tensor import Tensor
    return Tensor._wrap(array)


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
    return [g if g is not None else _plain_tensor(xp.zeros(shape, dtype))
            for g, (shape, dtype) in zip(grads, output_meta)]
