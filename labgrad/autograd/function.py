"""Custom differentiable operations: subclass `Function`, as in PyTorch.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            y, = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)            # y.grad_fn is an ExpBackward node

`apply` runs forward with grad recording off, then records one node for all the tensor
outputs, with an edge for each tensor input, through the same `record()` every built-in op
uses: saved tensors get its in-place version checks and are freed by backward like any other.
The `ctx` that forward fills becomes that node's attributes, so backward (and anyone holding
``y.grad_fn``) reads the same ``ctx.constant`` or ``ctx.saved_tensors``.

Backward runs with recording on only for ``create_graph=True``; written with labgrad ops, it is
then differentiable itself, unless it is decorated with `once_differentiable`.
"""
from __future__ import annotations

import functools
import inspect

from ..dtypes import from_numpy_dtype
from ..tensor import Tensor
from . import grad_mode
from .graph import (Node, _materialize, _sum_to_shape, mark_inplace_with_grad, record,
                    take_sequence_number)

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable"]


class FunctionCtx:
    """What forward (or setup_context) may tell backward: saved tensors, flags, anything."""

    def save_for_backward(self, *tensors):
        """Keep tensors (inputs, outputs or None) for backward; read them as ctx.saved_tensors."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save tensors (or None), but "
                                f"argument {i} is of type {type(t).__name__}")
        self.to_save = tensors

    def mark_dirty(self, *tensors):
        """Declare the inputs forward modified in place (it must also return them)."""
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that get no gradient (indices, masks): they will not require grad."""
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool):
        """With True (the default), backward gets zeros for outputs that got no gradient;
        with False it gets None for them."""
        self.materialize_grads = bool(value)


class BackwardCFunction(Node, FunctionCtx):
    """The node recorded by `Function.apply`; each Function gets a subclass named
    ``<Function>Backward``. It is also the `ctx` that backward receives."""

    _forward_cls = None
    needs_input_grad = ()  # one bool per forward argument, set by apply (not a Node property)
    materialize_grads = True

    def backward(self, *grad_outputs):
        fn = self._forward_cls
        backward, vjp = fn.backward, fn.vjp
        if backward is not Function.backward and vjp is not Function.vjp:
            raise RuntimeError(f"{fn.__name__}: implementing both 'backward' and 'vjp' for a "
                               "custom Function is not allowed; implement only one of them")
        user_fn = vjp if vjp is not Function.vjp else backward
        return user_fn(self, *grad_outputs)

    def _apply(self, grads: list) -> list:
        """Call the user's backward with one gradient per forward output, and check that it
        returned one per forward argument, each shaped like its input."""
        if self.materialize_grads:
            for g in grads:  # an identity test: `None in grads` would call Tensor.__eq__
                if g is None:
                    grads = _materialize(grads, self._output_meta)
                    break
        full = [None] * self._n_outputs  # non-tensor outputs get None
        for position, g in zip(self._tensor_outputs, grads):
            full[position] = g
        result = self.backward(*full)
        if type(result) is not tuple:
            result = (result,)
        return self._check_gradients(result)

    def _check_gradients(self, result) -> list:
        name, n_args = self.name(), len(self.needs_input_grad)
        if len(result) != n_args:
            if len(result) < n_args or any(g is not None for g in result[n_args:]):
                raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                                   f"(expected {n_args}, got {len(result)})")
            result = result[:n_args]
        tensor_grads = []
        for i, g in enumerate(result):
            if i in self._tensor_inputs:
                tensor_grads.append(g)
            elif g is not None:
                raise RuntimeError(f"function {name} returned a gradient different than None "
                                   f"at position {i + 1}, but the corresponding forward input "
                                   "was not a Tensor")
        shaped = []
        for i, (g, (shape, dtype), edge) in enumerate(zip(tensor_grads, self._input_meta,
                                                          self.next_functions)):
            if g is None or edge[0] is None:
                shaped.append(None)
                continue
            if g._data.shape != shape:
                if not _expandable(shape, g._data.shape):
                    raise RuntimeError(f"Function {name} returned an invalid gradient at index "
                                       f"{i} - got {list(g.shape)} but expected shape "
                                       f"compatible with {list(shape)}")
                g = _sum_to_shape(g, shape)
            if g._data.dtype != dtype:
                g = g.to(from_numpy_dtype(dtype))
            shaped.append(g)
        return shaped


def _expandable(shape, target):
    """Whether `shape` broadcasts to `target` (so a gradient of `target` sums down to it)."""
    if len(shape) > len(target):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(target)))


class Function:
    """Base class for custom autograd operations; call them as ``MyFunction.apply(*args)``."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(cls.__name__ + "Backward", (BackwardCFunction,),
                                 {"_forward_cls": cls, "__module__": cls.__module__})

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on `args` and record the node that backward will run. Keyword
        arguments go to forward; with setup_context they count as inputs too."""
        has_setup_context = cls.setup_context is not Function.setup_context
        if has_setup_context:  # inputs are forward's arguments, keywords and defaults included
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, {}
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        with grad_mode.no_grad():
            if has_setup_context:
                output = cls.forward(*args)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        outputs = output if type(output) is tuple else (output,)
        dirty = getattr(ctx, "dirty_tensors", ())
        for t in dirty:
            if not _is_one_of(t, outputs):
                raise RuntimeError(f"{cls.__name__}: some tensors marked as dirty during forward "
                                   "were not returned as outputs; the inputs that are modified "
                                   "in place must all be outputs of the Function")
        outputs = tuple(_as_output(o, args, dirty) for o in outputs)
        if grad_mode.state.grad_enabled and any(ctx.needs_input_grad):
            _record(cls, ctx, args, outputs, dirty)
        return outputs if type(output) is tuple else outputs[0]


def _record(cls, ctx, args, outputs, dirty):
    """Record cls's node for `outputs`: the differentiable tensors get it as grad_fn."""
    non_diff = getattr(ctx, "non_differentiable", ())
    tensor_outputs = tuple(i for i, o in enumerate(outputs) if isinstance(o, Tensor))
    inputs = tuple(a for a in args if isinstance(a, Tensor))
    since = _check_dirty(cls, dirty)

    node = record(cls._backward_cls, inputs, tuple(outputs[i] for i in tensor_outputs),
                  saved=getattr(ctx, "to_save", ()))
    node.__dict__.update(ctx.__dict__)
    node._n_outputs = len(outputs)
    node._tensor_outputs = tensor_outputs
    node._tensor_inputs = frozenset(i for i, a in enumerate(args) if isinstance(a, Tensor))

    for o in outputs:
        if isinstance(o, Tensor) and (_is_one_of(o, non_diff) or not _differentiable(o)):
            o.grad_fn, o._rg = None, False
    for t in dirty:
        _take_new_history(t, since)


def _as_output(value, args, dirty):
    """An input returned unchanged becomes a view of it (as in PyTorch), unless forward
    modified it in place and said so with mark_dirty: then it is the input itself."""
    if isinstance(value, Tensor) and _is_one_of(value, args) and not _is_one_of(value, dirty):
        return Tensor._wrap(value._data)._as_view_of(value)
    return value


def _check_dirty(cls, dirty):
    """Refuse in-place changes autograd cannot follow; returns a sequence number older than
    the node about to be recorded (see graph.mark_inplace_with_grad)."""
    from ..ops.inplace import check_inplace_allowed
    for t in dirty:
        check_inplace_allowed(cls.__name__, t)
        base = t._base
        if base is not None and base._rg and base.grad_fn is None and t.grad_fn is not None:
            raise RuntimeError(f"{cls.__name__}: a view of a leaf tensor that requires grad is "
                               "being modified in place by a custom Function")
        t._bump_version()  # PyTorch counts the Function's in-place change once more
    return take_sequence_number()


def _take_new_history(t, since):
    """After record() gave dirty tensor `t` the new node: views of its memory are remade,
    and if `t` is itself a view, its base takes the change too (as inplace.assign does)."""
    from ..ops.inplace import _rebase_view
    mark_inplace_with_grad(t, since)
    base = t._base
    if base is not None and not (base._rg and base.grad_fn is None):
        _rebase_view(t, base, t)


def _differentiable(t):
    dtype = t.dtype
    return dtype.is_floating_point or dtype.is_complex


def _is_one_of(value, items):
    return any(value is item for item in items)


# ------------------------------------------------------------------ once_differentiable

class DelayedError(Node):
    """Stands between a once_differentiable backward's results and anything that would
    differentiate them: running its backward raises."""

    def backward(self, *grads):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")


def once_differentiable(backward):
    """Decorate a Function's backward that is not itself differentiable (it may use raw
    arrays): it runs without recording, and with create_graph=True, differentiating its
    results raises a clear error instead of giving silently wrong gradients."""
    @functools.wraps(backward)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            outputs = backward(ctx, *args)
        if not grad_mode.state.grad_enabled:
            return outputs
        if not any(isinstance(a, Tensor) and a._rg for a in args):
            return outputs
        single = type(outputs) is not tuple
        results = (outputs,) if single else outputs
        guarded = tuple(_guard(g) for g in results)
        return guarded[0] if single else guarded

    return wrapper


def _guard(grad):
    if not isinstance(grad, Tensor):
        return grad
    out = Tensor._wrap(grad._data)
    record(DelayedError, (grad,), out)
    return out
