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
graph are checked (some input requires grad, and grad mode is on). Like PyTorch, only NaN is
an anomaly, not +-inf: ``log(0)`` and ``masked_fill(mask, -inf)`` are ordinary.

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
           "is_anomaly_check_nan_enabled", "traceback_of"]

_enabled = False
_check_nan = True

# A path prefix that every file of the labgrad package starts with.
_LABGRAD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def is_anomaly_enabled() -> bool:
    """Whether anomaly mode is on."""
    return _enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly mode, when on, raises on NaN values."""
    return _check_nan


def _set_anomaly_enabled(mode: bool, check_nan: bool = True):
    """Switch the mode, registering the observer only while it is on."""
    global _enabled, _check_nan
    _enabled, _check_nan = bool(mode), bool(check_nan)
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
    restored on exit, so blocks nest.
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = bool(check_nan)
        self._previous = []  # a stack, so one instance can be entered again while inside
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime "
                      "and should only be enabled for debugging.", stacklevel=2)

    def __enter__(self):
        self._previous.append((_enabled, _check_nan))
        _set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        _set_anomaly_enabled(*self._previous.pop())
        return False

    def __call__(self, fn):
        return _decorate(lambda: self, fn)


class set_detect_anomaly:
    """Switch anomaly mode on or off: the call takes effect at once; used with ``with``, the
    previous mode comes back on exit."""

    def __init__(self, mode: bool, check_nan: bool = True):
        self.mode, self.check_nan = bool(mode), bool(check_nan)
        self._previous = (_enabled, _check_nan)
        _set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        _set_anomaly_enabled(*self._previous)
        return False

    def __repr__(self):
        return f"labgrad.autograd.set_detect_anomaly(mode={self.mode}, check_nan={self.check_nan})"


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
        if not _check_nan:
            return
        outs = outputs if type(outputs) is tuple else (outputs,)
        for nr, out in enumerate(outs):
            if _has_nan(out._data):
                raise _forward_nan_error(node, nr, outs, caller)

    def node_ran(self, node, grad_outputs, grad_inputs):
        if not _check_nan:
            return
        for i, g in enumerate(grad_inputs):
            if g is not None and _has_nan(g._data):
                raise _backward_nan_error(node, i, grad_outputs, grad_inputs)

    def backward_failed(self, node, error):
        if node is not None and not isinstance(error, _AnomalyError):
            warnings.warn(_error_detected(node), stacklevel=_user_stacklevel())


_OBSERVER = _AnomalyObserver()


class _AnomalyError(RuntimeError):
    """The error anomaly mode raises for NaN values (a RuntimeError, as in PyTorch)."""


def _has_nan(data) -> bool:
    if data.dtype.kind not in "fc":
        return False
    return bool(xp_of(data).isnan(data).any())


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


def _nan_count(data) -> str:
    count = int(xp_of(data).isnan(data).sum())
    return f"{count} of its {data.size} values {'is' if count == 1 else 'are'} nan"


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


def _forward_nan_error(node, nr, outs, caller):
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
        f"'{node.name()}'){line} returned nan values in its {nr}th output; "
        f"{_nan_count(data)} ({shapes}).\n"
        "Hint: one of its inputs is outside the op's domain (log or sqrt of a negative number, "
        "0/0, inf - inf, 0 * inf) or already held nan; print the inputs of that line. "
        "Pass check_nan=False to detect_anomaly() to keep only the tracebacks.\n"
        "Traceback of forward call that caused the error:\n" + "".join(node._traceback))


def _backward_nan_error(node, i, grad_outputs, grad_inputs):
    g = grad_inputs[i]._data
    received = [f"{_describe(go._data)}{' (holding nan)' if _has_nan(go._data) else ''}"
                for go in (grad_outputs or ()) if go is not None]
    message = (
        f"Function '{node.name()}' returned nan values in its {i}th output. "
        f"That gradient has {_describe(g)}: {_nan_count(g)}; the gradients it received: "
        f"{', '.join(received) or 'none'}.\n")
    if any(go is not None and _has_nan(go._data) for go in (grad_outputs or ())):
        message += ("Hint: the gradient it received already held nan (was it passed to "
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
