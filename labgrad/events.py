"""Event hooks: global callbacks for backward begin and end, optimizer step and module forward.

    handle = labgrad.events.register_backward_end_hook(lambda roots: print("done", roots))
    ...
    handle.remove()          # or: with labgrad.events.register_...(fn): ...

Every ``register_*`` returns a `RemovableHandle`. Callbacks run in registration order.

Free when nothing subscribes: the backward hooks reach the engine through one
`graph.Observer`, added to ``graph.observers`` when the first backward callback is registered
and removed with the last one; optimizer-step and module-forward emitters return after one
check of an empty dict (callers on a hot path can test `listening` themselves first).

Errors: an exception raised by a callback is caught and reported with `warnings.warn`
(category `EventHookWarning`, the message holds the traceback); where warnings are configured
to raise, the report goes to the ``labgrad.events`` logger instead. Either way the operation
that fired the event (a backward pass, an optimizer step, a forward) goes on and completes.
"""
from __future__ import annotations

import logging
import traceback
import warnings

from .autograd import graph as _graph
from .utils.hooks import RemovableHandle

__all__ = ["EventHookWarning", "register_backward_begin_hook", "register_backward_end_hook",
           "register_optimizer_step_hook", "register_module_forward_hook",
           "emit_optimizer_step", "emit_module_forward", "listening"]

logger = logging.getLogger("labgrad.events")


class EventHookWarning(RuntimeWarning):
    """An event callback raised an exception (it was caught; see the message)."""


class _Hooks(dict):
    """Callbacks by handle id, in registration order; tells `on_change` when one goes."""

    def __init__(self, on_change=None):
        super().__init__()
        self.on_change = on_change

    def pop(self, key, *default):
        value = super().pop(key, *default)
        if self.on_change is not None:
            self.on_change()
        return value


def _sync_observer():
    """Keep the backward observer registered exactly while a backward callback exists."""
    wanted = bool(backward_begin_hooks or backward_end_hooks)
    present = _OBSERVER in _graph.observers
    if wanted and not present:
        _graph.observers.append(_OBSERVER)
    elif present and not wanted:
        _graph.observers.remove(_OBSERVER)


backward_begin_hooks = _Hooks(_sync_observer)  # fn(roots)
backward_end_hooks = _Hooks(_sync_observer)  # fn(roots)
optimizer_step_hooks = _Hooks()  # fn(optimizer)
module_forward_hooks = _Hooks()  # fn(module, inputs, output)

_EVENTS = {"backward_begin": backward_begin_hooks, "backward_end": backward_end_hooks,
           "optimizer_step": optimizer_step_hooks, "module_forward": module_forward_hooks}


def _register(hooks, fn):
    if not callable(fn):
        raise TypeError(f"expected a callable, got {type(fn).__name__}")
    handle = RemovableHandle(hooks)
    hooks[handle.id] = fn
    _sync_observer()
    return handle


def register_backward_begin_hook(fn) -> RemovableHandle:
    """Call ``fn(roots)`` when a backward pass starts (Tensor.backward, autograd.backward or
    autograd.grad), with the tuple of tensors it starts from."""
    return _register(backward_begin_hooks, fn)


def register_backward_end_hook(fn) -> RemovableHandle:
    """Call ``fn(roots)`` when a backward pass has finished (also when it raised)."""
    return _register(backward_end_hooks, fn)


def register_optimizer_step_hook(fn) -> RemovableHandle:
    """Call ``fn(optimizer)`` after every optimizer step (see `emit_optimizer_step`)."""
    return _register(optimizer_step_hooks, fn)


def register_module_forward_hook(fn) -> RemovableHandle:
    """Call ``fn(module, inputs, output)`` after every module's forward, for all modules
    (see `emit_module_forward`). Its return value is ignored: it observes, never replaces."""
    return _register(module_forward_hooks, fn)


def listening(event: str) -> bool:
    """Whether any callback is registered for `event`: "backward_begin", "backward_end",
    "optimizer_step" or "module_forward"."""
    return bool(_EVENTS[event])


def emit_optimizer_step(optimizer) -> None:
    """For optimizers: report that `optimizer` finished a step (call after the update)."""
    if optimizer_step_hooks:
        _fire("optimizer_step", optimizer_step_hooks, (optimizer,))


def emit_module_forward(module, inputs, output) -> None:
    """For nn.Module.__call__: report that `module` ran forward on `inputs` (a tuple)."""
    if module_forward_hooks:
        _fire("module_forward", module_forward_hooks, (module, inputs, output))


def _fire(event, hooks, args):
    for fn in list(hooks.values()):  # a callback may remove callbacks: run those seen first
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - reported, never silent (see _report)
            _report(event, fn, traceback.format_exc())


def _report(event, fn, tb):
    name = getattr(fn, "__qualname__", None) or type(fn).__name__
    message = (f"labgrad.events: the {event} callback {name!r} raised an exception; it was "
               f"caught so that the operation completes:\n{tb}")
    try:
        warnings.warn(message, EventHookWarning, stacklevel=3)
    except Exception:  # noqa: BLE001 - warnings are errors here: never break backward for it
        logger.error(message)


class _BackwardEvents(_graph.Observer):
    """The one observer through which backward callbacks run (registered only while some
    backward callback exists)."""

    def backward_begin(self, outputs):
        if backward_begin_hooks:
            _fire("backward_begin", backward_begin_hooks, (tuple(outputs),))

    def backward_end(self, outputs):
        if backward_end_hooks:
            _fire("backward_end", backward_end_hooks, (tuple(outputs),))


_OBSERVER = _BackwardEvents()
