"""Event hooks: backward begin/end, optimizer step, module forward (labgrad/events.py)."""
from __future__ import annotations

import logging
import warnings

import pytest

import labgrad as lg
from labgrad import events
from labgrad.autograd import graph as autograd_graph


def test_no_observer_and_nothing_listening_by_default():
    assert events._OBSERVER not in autograd_graph.observers
    assert not any(events.listening(e) for e in ("backward_begin", "backward_end",
                                                   "optimizer_step", "module_forward"))
    events.emit_optimizer_step(object())  # nobody listens: returns at once
    events.emit_module_forward(object(), (), None)


def test_backward_events_fire_in_order_and_handles_remove():
    calls = []
    a = lg.ones(3, requires_grad=True)
    with events.register_backward_begin_hook(lambda roots: calls.append(("begin", roots))), \
            events.register_backward_end_hook(lambda roots: calls.append(("end", roots))):
        assert events._OBSERVER in autograd_graph.observers
        assert autograd_graph.observers.count(events._OBSERVER) == 1
        loss = (a * 2.0).sum()
        loss.backward()
        assert [c[0] for c in calls] == ["begin", "end"]
        assert calls[0][1] == (loss,) and calls[1][1][0] is loss
        lg.autograd.grad((a * 3.0).sum(), a)  # grad() runs the engine too
        assert len(calls) == 4
    assert events._OBSERVER not in autograd_graph.observers
    (a * 2.0).sum().backward()
    assert len(calls) == 4


def test_observer_stays_while_any_backward_hook_remains():
    h1 = events.register_backward_begin_hook(lambda roots: None)
    h2 = events.register_backward_end_hook(lambda roots: None)
    h1.remove()
    assert events._OBSERVER in autograd_graph.observers
    h2.remove()
    h2.remove()  # twice: nothing happens
    assert events._OBSERVER not in autograd_graph.observers


def test_optimizer_step_and_module_forward_emit():
    seen = []
    h1 = events.register_optimizer_step_hook(lambda opt: seen.append(("step", opt)))
    h2 = events.register_module_forward_hook(lambda m, i, o: seen.append(("fwd", m, i, o)))
    h3 = events.register_optimizer_step_hook(lambda opt: seen.append(("step2", opt)))
    assert events.listening("optimizer_step") and events.listening("module_forward")
    events.emit_optimizer_step("opt")
    events.emit_module_forward("mod", ("x",), "y")
    assert seen == [("step", "opt"), ("step2", "opt"), ("fwd", "mod", ("x",), "y")]
    for h in (h1, h2, h3):
        h.remove()
    events.emit_optimizer_step("opt")
    assert len(seen) == 3 and not events.listening("optimizer_step")
    with pytest.raises(TypeError):
        events.register_optimizer_step_hook(42)


def test_exception_in_callback_is_reported_and_backward_completes():
    def broken(roots):
        raise ValueError("boom in callback")

    a = lg.ones(3, requires_grad=True)
    with events.register_backward_begin_hook(broken), events.register_backward_end_hook(broken):
        with pytest.warns(events.EventHookWarning, match="boom in callback") as record:
            (a * 2.0).sum().backward()
    assert len(record) == 2 and "Traceback" in str(record[0].message)
    assert a.grad.tolist() == [2.0, 2.0, 2.0]  # backward completed


def test_warnings_as_errors_fall_back_to_logging(caplog):
    def broken(opt):
        raise RuntimeError("step hook failed")

    a = lg.ones(2, requires_grad=True)
    with events.register_optimizer_step_hook(broken), \
            events.register_backward_end_hook(lambda roots: 1 / 0):
        with warnings.catch_warnings(), caplog.at_level(logging.ERROR, "labgrad.events"):
            warnings.simplefilter("error")
            events.emit_optimizer_step("opt")
            (a * 3.0).sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]
    messages = [r.getMessage() for r in caplog.records]
    assert any("step hook failed" in m for m in messages)
    assert any("ZeroDivisionError" in m for m in messages)


def test_callback_removing_itself_while_firing():
    seen = []

    def once(opt):
        seen.append(opt)
        handle.remove()

    handle = events.register_optimizer_step_hook(once)
    events.emit_optimizer_step(1)
    events.emit_optimizer_step(2)
    assert seen == [1]
