"""Anomaly mode: find the op that made a NaN, and the line of your code that called it.

    with labgrad.autograd.detect_anomaly():
        loss = model(x).sum()
        loss.backward()

While it is on, as in PyTorch:

- every recorded node keeps the traceback of the forward call that made it (your frames only:
  labgrad's own are left out, so the last line shown is the line of your code);
- with ``check_nan=True`` (the default) backward raises as soon as a node returns a gradient
  holding NaN, with PyTorch's words ("Function 'SqrtBackward0' returned nan values in its 0th
  output.") followed by that node's forward traceback;
- any other error raised while backward runs a node (a saved tensor modified in place, a
  custom Function's backward failing) is preceded by PyTorch's warning "Error detected in
  XBackward0. Traceback of forward call that caused the error: ...".

labgrad also checks forward: with ``check_nan=True`` the first recorded op whose output holds
NaN raises, naming the op and your line (PyTorch checks backward only). Only ops that record a
graph are checked (some input requires grad, and grad mode is on). By default, as in PyTorch,
only NaN is an anomaly, not +-inf: ``log(0)`` and ``masked_fill(mask, -inf)`` are ordinary.
``check_inf=True`` (labgrad's own option) makes +-inf an anomaly too, in forward outputs and in
gradients: the way to find where an overflow or a division by zero began.

It is built as a graph Observer, registered only while the mode is on: with it off, ops and
backward pay nothing and nodes carry no traceback. The flag is global, not per thread, as in
PyTorch.
"""
from __future__ import annotations

import functools
import inspect
import os
import re
import sys
import traceback
import warnings

from ..backend import xp_of
from . import graph
from ..dtypes import from_numpy_dtype

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "is_anomaly_check_inf_enabled", "traceback_of"]

_enabled = False
_check_nan = True
_check_inf = False

# A path prefix that every file of the labgrad package starts with.
_LABGRAD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def is_anomaly_enabled() -> bool:
    """Whether anomaly mode is on."""
    return _enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode, when on, raises on NaN values."""
    return _check_nan


def is_anomaly_check_inf_enabled() -> bool:
    """Whether anomaly mode, when on, also raises on +-inf values (labgrad's option)."""
    return _check_inf


def _set_anomaly_enabled(mode: bool, check_nan: bool = True, check_inf: bool = False):
    """Switch the mode, registering the observer only while it is on."""
    global _enabled, _check_nan, _check_inf
    _enabled, _check_nan, _check_inf = bool(mode), bool(check_nan), bool(check_inf)
    registered = _OBSERVER in graph.observers
    if _enabled and not registered:
        graph.observers.append(_OBSERVER)
    elif not _enabled and registered:
        graph.observers.remove(_OBSERVER)


def _decorate(context_factory, fn):
    """fn run inside a fresh context from context_factory() at each call."""
    if inspect.isclass(fn):
        raise TypeError("anomaly mode: cannot decorate a class; decorate its methods instead")

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with context_factory():
            return fn(*args, **kwargs)
    return wrapper


class detect_anomaly:
    """Turn anomaly mode on inside a ``with`` block, or while a decorated function runs.

    Warns once, when made, that it slows things down (as PyTorch does). The previous mode is
    restored on exit, so blocks nest. ``check_inf=True`` also raises on +-inf values.
    """

    def __init__(self, check_nan: bool = True, check_inf: bool = False):
        self.check_nan, self.check_inf = bool(check_nan), bool(check_inf)
        self._previous = []  # a stack, so one instance can be entered again while inside
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self._previous.append((_enabled, _check_nan, _check_inf))
        _set_anomaly_enabled(True, self.check_nan, self.check_inf)

    def __exit__(self, *exc):
        _set_anomaly_enabled(*self._previous.pop())
        return False

    def __call__(self, fn):
        return _decorate(lambda: self, fn)


class set_detect_anomaly:
    """Switch anomaly mode on or off: the call takes effect at once; used with ``with``, the
    previous mode comes back on exit."""

    def __init__(self, mode: bool, check_nan: bool = True, check_inf: bool = False):
        self.mode, self.check_nan, self.check_inf = bool(mode), bool(check_nan), bool(check_inf)
        self._previous = (_enabled, _check_nan, _check_inf)
        _set_anomaly_enabled(mode, check_nan, check_inf)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set_anomaly_enabled(*self._previous)
        return False

    def __repr__(self):
        return (f"labgrad.autograd.set_detect_anomaly(mode={self.mode}, "
                f"check_nan={self.check_nan}, check_inf={self.check_inf})")


def traceback_of(node):
    """The forward traceback anomaly mode stored on `node` (a list of formatted frames,
    outermost first, like ``traceback.format_stack()``; PyTorch keeps the same list as
    ``node.metadata["traceback_"]``), or None when it was recorded with the mode off."""
    return getattr(node, "_traceback", None)


# ------------------------------------------------------------------ the observer

class _AnomalyObserver(graph.Observer):
    def node_recorded(self, node, outputs):
        caller = sys._getframe(2)  # record()'s caller: the op
        node._traceback = _user_stack(caller).format()
        outs = outputs if type(outputs) is tuple else (outputs,)
        for nr, out in enumerate(outs):
            kind = _anomaly_in(out._data)
            if kind:
                raise _forward_error(node, nr, outs, caller, kind)

    def node_ran(self, node, grad_outputs, grad_inputs):
        for i, g in enumerate(grad_inputs):
            kind = g is not None and _anomaly_in(g._data)
            if kind:
                raise _backward_error(node, i, grad_outputs, grad_inputs, kind)

    def backward_failed(self, node, error):
        if node is not None and not isinstance(error, _AnomalyError):
            warnings.warn(_error_detected(node), stacklevel=_user_stacklevel())


_OBSERVER = _AnomalyObserver()


class _AnomalyError(RuntimeError):
    """The error anomaly mode raises for NaN values (a RuntimeError, as in PyTorch)."""


def _anomaly_in(data):
    """"nan" or "inf" when `data` holds a value the mode was asked to catch, else None."""
    if data.dtype.kind not in "fc" or not (_check_nan or _check_inf):
        return None
    xp = xp_of(data)
    if _check_nan and xp.isnan(data).any():
        return "nan"
    if _check_inf and xp.isinf(data).any():
        return "inf"
    return None


def _has(data, kind) -> bool:
    xp = xp_of(data)
    return data.dtype.kind in "fc" and bool((xp.isnan if kind == "nan" else xp.isinf)(data).any())


def _is_labgrad(frame) -> bool:
    return frame.f_code.co_filename.startswith(_LABGRAD_DIR)


def _user_stack(frame) -> traceback.StackSummary:
    """The frames from `frame` outwards that are not labgrad's, outermost first."""
    frames = []
    while frame is not None:
        if not _is_labgrad(frame):
            frames.append((frame, frame.f_lineno))
        frame = frame.f_back
    summary = traceback.StackSummary.extract(frames)
    summary.reverse()
    return summary


def _user_stacklevel() -> int:
    """The stacklevel that points a warning at the first frame outside labgrad."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and _is_labgrad(frame):
        level += 1
        frame = frame.f_back
    return level


def _describe(data) -> str:
    return f"shape {tuple(data.shape)} and dtype {_dtype_name(data)}"


def _dtype_name(data) -> str:
    try:
        return from_numpy_dtype(data.dtype).name
    except (KeyError, TypeError, ValueError):
        return str(data.dtype)


def _count(data, kind) -> str:
    xp = xp_of(data)
    count = int((xp.isnan if kind == "nan" else xp.isinf)(data).sum())
    return f"{count} of its {data.size} values {'is' if count == 1 else 'are'} {kind}"


def _op_name(node, caller) -> str:
    """The op as the user knows it: MyFunction.apply for a custom Function; for a built-in
    node its name without "Backward" where labgrad has that op (LogBackward0 -> 'log'),
    else the labgrad function that user code called."""
    import labgrad
    from .function import BackwardCFunction
    if isinstance(node, BackwardCFunction) and node._forward_cls is not None:
        return f"{node._forward_cls.__name__}.apply"
    base = re.sub(r"Backward\d*$", "", node.name())
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base).lower()
    if snake and (hasattr(labgrad.Tensor, snake) or hasattr(labgrad, snake)):
        return snake
    entry = None  # the outermost labgrad frame: what user code called
    frame = caller
    while frame is not None and _is_labgrad(frame):
        entry, frame = frame, frame.f_back
    if entry is None:
        return base
    name = entry.f_code.co_qualname
    return base if "<locals>" in name else name


def _forward_error(node, nr, outs, caller, kind):
    data = outs[nr]._data
    stack = _user_stack(caller)
    if stack:
        where = stack[-1]
        line = f" at {where.filename}:{where.lineno} ({(where.line or '').strip()})"
    else:
        where, line = None, ""
    shapes = ", ".join(f"output {i}: {_describe(o._data)}" for i, o in enumerate(outs))
    return _AnomalyError(
        f"Anomaly detected in forward: op '{_op_name(node, caller)}' (node "
        f"'{node.name()}'){line} returned {kind} values in its {nr}th output; "
        f"{_count(data, kind)} ({shapes}).\n" + _FORWARD_HINTS[kind] +
        "Traceback of forward call that caused the error:\n" + "".join(node._traceback))


_FORWARD_HINTS = {
    "nan": ("Hint: one of its inputs is outside the op's domain (log or sqrt of a negative "
            "number, 0/0, inf - inf, 0 * inf) or already held nan; print the inputs of that "
            "line. Pass check_nan=False to detect_anomaly() to keep only the tracebacks.\n"),
    "inf": ("Hint: a division by zero, log(0), or an overflow of the dtype (exp of a large "
            "value; float16 ends at 65504); print the inputs of that line. Pass "
            "check_inf=False to detect_anomaly() to allow inf values.\n"),
}


def _backward_error(node, i, grad_outputs, grad_inputs, kind):
    g = grad_inputs[i]._data
    received = [f"{_describe(go._data)}{f' (holding {kind})' if _has(go._data, kind) else ''}"
                for go in (grad_outputs or ()) if go is not None]
    message = (
        f"Function '{node.name()}' returned {kind} values in its {i}th output. "
        f"That gradient has {_describe(g)}: {_count(g, kind)}; the gradients it received: "
        f"{', '.join(received) or 'none'}.\n")
    if any(go is not None and _has(go._data, kind) for go in (grad_outputs or ())):
        message += (f"Hint: the gradient it received already held {kind} (was it passed to "
                    "backward()?).\n")
    return _AnomalyError(message + _forward_traceback(node))


def _forward_traceback(node) -> str:
    stack = traceback_of(node)
    if stack is None:
        return ("No forward pass information available. Enable detect anomaly during forward "
                "pass for more information.")
    return "Traceback of forward call that caused the error:\n" + "".join(stack)


def _error_detected(node) -> str:
    return f"Error detected in {node.name()}. " + _forward_traceback(node)
