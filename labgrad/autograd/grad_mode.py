"""Whether ops record the graph: no_grad, enable_grad, set_grad_enabled, inference_mode.

The flag is per thread, as in PyTorch, so a background thread (a notebook widget, a data
loader) cannot switch recording off for the training loop.

Each switch works as a context manager and as a decorator, with or without parentheses
(``@no_grad`` and ``@no_grad()``); a decorated generator runs with the mode set each time it
resumes, and the caller's mode is back in place at every ``yield``.
"""
from __future__ import annotations

import functools
import inspect
import threading


class _State(threading.local):
    grad_enabled = True  # the default in every new thread


state = _State()


def is_grad_enabled() -> bool:
    return state.grad_enabled


def _wrap_generator(make_context, gen_fn):
    """gen_fn with every step of the generator run inside a fresh context."""
    @functools.wraps(gen_fn)
    def generator(*args, **kwargs):
        gen = gen_fn(*args, **kwargs)
        try:
            with make_context():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make_context():
                        gen.close()
                    raise
                except BaseException as error:  # thrown in by the caller: pass it on
                    with make_context():
                        response = gen.throw(error)
                else:
                    with make_context():
                        response = gen.send(request)
        except StopIteration as stop:  # the wrapped generator finished: finish with its value
            return stop.value
    return generator


class _GradModeContext:
    """Base for the grad-mode switches; each also works as a decorator."""

    _enabled: bool

    def __enter__(self):
        self._previous = state.grad_enabled
        state.grad_enabled = self._enabled

    def __exit__(self, *exc):
        state.grad_enabled = self._previous
        return False

    def __call__(self, fn):
        if inspect.isclass(fn):
            raise TypeError(f"{type(self).__name__}: cannot decorate a class; decorate its "
                            "methods instead")
        make_context = self.clone
        if inspect.isgeneratorfunction(fn):
            return _wrap_generator(make_context, fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with make_context():
                return fn(*args, **kwargs)
        return wrapper

    def clone(self):
        """A fresh context with the same mode (each decorated call enters its own)."""
        return type(self)()


class _NoArgumentContext(_GradModeContext):
    """A switch that also decorates without parentheses: ``@no_grad`` as ``@no_grad()``."""

    def __new__(cls, fn=None):
        if fn is None:
            return object.__new__(cls)
        return cls()(fn)


class no_grad(_NoArgumentContext):
    """Ops inside build no graph: ``with labgrad.no_grad(): ...`` or ``@labgrad.no_grad``."""

    _enabled = False


class enable_grad(_NoArgumentContext):
    """Turn recording back on inside a no_grad region."""

    _enabled = True


class inference_mode(_GradModeContext):
    """Like no_grad (labgrad has no separate inference tensors): ``inference_mode(False)``
    leaves the mode as it is."""

    def __new__(cls, mode=True):
        if callable(mode):  # used bare: @inference_mode
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self._previous = state.grad_enabled
        if self.mode:
            state.grad_enabled = False

    def clone(self):
        return type(self)(self.mode)


class set_grad_enabled(_GradModeContext):
    """Switch recording on or off: as a function call, a context manager or a decorator.

    Like PyTorch, the call itself takes effect at once (``set_grad_enabled(False)`` on its own
    line turns recording off); ``with`` restores the previous mode on exit; used as a decorator
    it leaves the current mode alone and sets the mode only while the function runs.
    """

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._previous = state.grad_enabled
        state.grad_enabled = self.mode

    def __enter__(self):
        state.grad_enabled = self.mode

    def __call__(self, fn):
        state.grad_enabled = self._previous  # as a decorator it must not change the mode now
        return super().__call__(fn)

    def clone(self):
        return type(self)(self.mode)

    def __repr__(self):
        return f"labgrad.set_grad_enabled(mode={self.mode})"
