"""Whether ops record the graph: no_grad, enable_grad, set_grad_enabled.

The flag is per thread, as in PyTorch, so a background thread (a notebook widget, a data
loader) cannot switch recording off for the training loop.
"""
from __future__ import annotations

import functools
import threading


class _State(threading.local):
    grad_enabled = True  # the default in every new thread


state = _State()


def is_grad_enabled() -> bool:
    return state.grad_enabled


class _GradModeContext:
    """Base for the grad-mode contexts; each also works as a decorator."""

    _enabled: bool

    def __enter__(self):
        self._previous = state.grad_enabled
        state.grad_enabled = self._enabled

    def __exit__(self, *exc):
        state.grad_enabled = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)._fresh(self):
                return fn(*args, **kwargs)
        return wrapper

    def _fresh(self):
        return type(self)()

    def clone(self):
        return self._fresh()


class no_grad(_GradModeContext):
    """Ops inside build no graph: ``with labgrad.no_grad(): ...`` or ``@labgrad.no_grad()``."""

    _enabled = False


class enable_grad(_GradModeContext):
    """Turn recording back on inside a no_grad region."""

    _enabled = True


class set_grad_enabled(_GradModeContext):
    """Switch recording on or off: as a function call, a context manager or a decorator."""

    def __init__(self, mode: bool):
        self._enabled = bool(mode)
        self._previous = state.grad_enabled
        state.grad_enabled = self._enabled  # like PyTorch, calling it takes effect at once

    def __enter__(self):
        pass

    def __call__(self, fn):
        state.grad_enabled = self._previous  # as a decorator it must not change the mode now
        return super().__call__(fn)

    def _fresh(self):
        return _SetGradEnabledContext(self._enabled)


class _SetGradEnabledContext(_GradModeContext):
    def __init__(self, mode):
        self._enabled = mode
