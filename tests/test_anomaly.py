"""Anomaly mode: the switches, the tracebacks it keeps, and the NaN errors, checked against
PyTorch where PyTorch raises or warns too."""
from __future__ import annotations

import inspect
import os
import warnings

import pytest

import labgrad as lg
from labgrad.autograd import anomaly_mode, graph

# NumPy's own warnings for log(-1), 0/0 and the like: the NaNs here are made on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

ENABLED = "Anomaly Detection has been enabled"
LABGRAD_DIR = os.path.dirname(lg.__file__)


@pytest.fixture(autouse=True)
def _anomaly_off():
    """Every test starts and ends with the mode off (a failing test must not leak it)."""
    assert not lg.is_anomaly_enabled()
    yield
    state = (lg.is_anomaly_enabled(), lg.is_anomaly_check_nan_enabled(),
             anomaly_mode._OBSERVER in graph.observers)
    lg.autograd.set_detect_anomaly(False)
    assert state == (False, True, False)


def _quiet(make):
    """make(), without the warning detect_anomaly gives when it is made."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=ENABLED)
        return make()


def _line_of(text):
    """The line number in this file of the first line holding `text`."""
    lines = inspect.getsource(inspect.getmodule(_line_of)).splitlines()
    return 1 + next(i for i, line in enumerate(lines) if text in line)


# ------------------------------------------------------------------ switches and state

def test_off_by_default_and_free():
    assert not lg.is_anomaly_enabled()
    assert lg.is_anomaly_check_nan_enabled()
    assert lg.autograd.is_anomaly_enabled is lg.is_anomaly_enabled
    assert anomaly_mode._OBSERVER not in graph.observers
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).log()
    assert not hasattr(y.grad_fn, "_traceback")
    assert anomaly_mode.traceback_of(y.grad_fn) is None
    y.sum().backward()  # a NaN-free backward with the mode off: nothing to report


def test_observer_registered_only_while_on():
    with _quiet(lg.autograd.detect_anomaly):
        assert graph.observers.count(anomaly_mode._OBSERVER) == 1
        with _quiet(lg.autograd.detect_anomaly):  # nested: still registered once
            assert graph.observers.count(anomaly_mode._OBSERVER) == 1
        assert graph.observers.count(anomaly_mode._OBSERVER) == 1
    assert anomaly_mode._OBSERVER not in graph.observers


def _nesting(m):
    """The (enabled, check_nan) states through nested switches, for labgrad or torch."""
    log = []

    def note():
        log.append((m.is_anomaly_enabled(), m.is_anomaly_check_nan_enabled()))

    note()
    with m.autograd.detect_anomaly():
        note()
        with m.autograd.detect_anomaly(check_nan=False):
            note()
            with m.autograd.set_detect_anomaly(False):
                note()
            note()
        note()
        try:
            with m.autograd.set_detect_anomaly(True, check_nan=False):
                note()
                raise KeyError("inside")
        except KeyError:
            note()
    note()
    m.autograd.set_detect_anomaly(True)  # as a plain call: on at once, until switched off
    note()
    m.autograd.set_detect_anomaly(False, check_nan=False)
    note()
    m.autograd.set_detect_anomaly(False)
    note()
    return log


@pytest.mark.torch
def test_nesting_restores_state_like_torch(torch):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=ENABLED)
        ours, theirs = _nesting(lg), _nesting(torch)
    assert ours == theirs
    assert ours[0] == (False, True) and ours[2] == (True, False) and ours[3] == (False, True)


@pytest.mark.torch
def test_detect_anomaly_warns_like_torch(torch):
    with pytest.warns(UserWarning) as ours:
        lg.autograd.detect_anomaly()
    with pytest.warns(UserWarning) as theirs:
        torch.autograd.detect_anomaly()
    assert str(ours[0].message) == str(theirs[0].message)
    assert ours[0].filename == __file__  # points at the caller
    assert not lg.is_anomaly_enabled()  # made but not entered: nothing switched on
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lg.autograd.set_detect_anomaly(False)  # no warning, as in PyTorch


def test_decorator():
    seen = []

    @_quiet(lambda: lg.autograd.detect_anomaly(check_nan=False))
    def step(x):
        seen.append((lg.is_anomaly_enabled(), lg.is_anomaly_check_nan_enabled()))
        return x * 2

    assert not lg.is_anomaly_enabled()
    step(lg.tensor([1.0]))
    step(lg.tensor([1.0]))
    assert seen == [(True, False), (True, False)]
    assert not lg.is_anomaly_enabled()
    assert step.__name__ == "step"


def test_restored_after_an_error_inside():
    with pytest.raises(ValueError):
        with _quiet(lg.autograd.detect_anomaly):
            raise ValueError("boom")
    assert not lg.is_anomaly_enabled()
    assert anomaly_mode._OBSERVER not in graph.observers


# ------------------------------------------------------------------ tracebacks on nodes

def _make_node(x):
    return x.exp() * 3  # MAKE-NODE


def test_node_keeps_the_user_traceback():
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    with _quiet(lg.autograd.detect_anomaly):
        y = _make_node(x)
    stack = anomaly_mode.traceback_of(y.grad_fn)
    assert stack == y.grad_fn._traceback
    assert isinstance(stack, list) and all(isinstance(s, str) for s in stack)
    # The innermost frame is the user's line; labgrad's own frames are left out.
    assert f'"{__file__}", line {_line_of("# MAKE-NODE")}, in _make_node' in stack[-1]
    assert "x.exp() * 3" in stack[-1]
    assert "test_node_keeps_the_user_traceback" in stack[-2]
    assert not any(LABGRAD_DIR in s for s in stack)
    exp_node = y.grad_fn.next_functions[0][0]
    assert exp_node.name() == "ExpBackward0" and exp_node._traceback == stack
    z = x * 2  # recorded after the mode went off: nothing stored
    assert anomaly_mode.traceback_of(z.grad_fn) is None


def test_check_nan_false_records_tracebacks_only():
    x = lg.tensor([-1.0, 0.0], requires_grad=True)
    with _quiet(lambda: lg.autograd.detect_anomaly(check_nan=False)):
        y = x.log()  # nan and -inf: not raised
        (y * 0).sum().backward()  # nan gradient: not raised either
    assert anomaly_mode.traceback_of(y.grad_fn) is not None


# ------------------------------------------------------------------ NaN in forward

def test_forward_nan_names_op_shape_and_line():
    x = lg.tensor([[1.0, -1.0, 2.0]], requires_grad=True)
    with _quiet(lg.autograd.detect_anomaly):
        with pytest.raises(RuntimeError) as info:
            x.log()  # FORWARD-LOG
    message = str(info.value)
    assert "op 'log'" in message and "'LogBackward0'" in message
    assert "shape (1, 3) and dtype float32" in message
    assert "1 of its 3 values is nan" in message
    assert f"{__file__}:{_line_of('# FORWARD-LOG')} (x.log()" in message
    assert "Traceback of forward call that caused the error:" in message


def test_forward_zero_over_zero():
    a = lg.tensor([0.0, 1.0], dtype=lg.float64, requires_grad=True)
    with _quiet(lg.autograd.detect_anomaly):
        b = a * 1  # fine
        with pytest.raises(RuntimeError, match=r"op 'div' \(node 'DivBackward0'\).*float64"):
            b / lg.tensor([0.0, 1.0], dtype=lg.float64)
        with pytest.raises(RuntimeError, match="DivBackward0"):
            a / a


def test_forward_inf_and_integers_are_not_anomalies():
    x = lg.tensor([0.0, 1.0], requires_grad=True)
    with _quiet(lg.autograd.detect_anomaly):
        y = x.log()  # -inf: an ordinary value, as in PyTorch
        m = y.masked_fill(lg.tensor([True, False]), float("-inf"))
        assert m.grad_fn is not None
        assert (x > 0).dtype == lg.bool


def test_forward_without_grad_is_not_checked():
    x = lg.tensor([-1.0], requires_grad=True)
    with _quiet(lg.autograd.detect_anomaly):
        with lg.no_grad():
            x.log()  # no node recorded: nothing to check
        lg.tensor([-1.0]).log()  # no input requires grad


def test_forward_nan_in_a_custom_function():
    class Half(lg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x / 2

        @staticmethod
        def backward(ctx, g):
            return g / 2

    x = lg.tensor([float("nan")], requires_grad=True)
    with _quiet(lg.autograd.detect_anomaly):
        with pytest.raises(RuntimeError, match=r"op 'Half.apply' \(node 'HalfBackward'\)"):
            Half.apply(x)


# ------------------------------------------------------------------ NaN in backward

def _sqrt_at_zero(m):
    x = m.tensor([0.0, 4.0], requires_grad=True)
    y = x.sqrt()  # the gradient of sqrt at 0 is inf; times 0 it is nan
    (y * 0).sum().backward()


def _custom_nan(m):
    class Bad(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = m.ones(3, requires_grad=True)
    Bad.apply(x * 2).sum().backward()


def _second_input(m):
    a = m.ones(2, requires_grad=True)
    b = m.zeros(2, requires_grad=True)
    (a.log() * 0 + m.pow(b, 0.5) * 0).sum().backward()


@pytest.mark.torch
@pytest.mark.parametrize("case, node, nr", [(_sqrt_at_zero, "SqrtBackward0", 0),
                                            (_custom_nan, "BadBackward", 0),
                                            (_second_input, "PowBackward0", 0)],
                         ids=["sqrt-at-zero", "custom-function", "pow"])
def test_backward_nan_raises_like_torch(torch, case, node, nr):
    first = f"Function '{node}' returned nan values in its {nr}th output."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch also warns "Error detected in ..."
        with torch.autograd.detect_anomaly():
            with pytest.raises(RuntimeError) as theirs:
                case(torch)
    assert first in str(theirs.value)
    with _quiet(lg.autograd.detect_anomaly):
        with pytest.raises(RuntimeError) as ours:
            case(lg)
    message = str(ours.value)
    assert message.startswith(first)
    assert "Traceback of forward call that caused the error:" in message
    assert __file__ in message and case.__name__ in message
    assert "shape" in message and "float32" in message
    # Without anomaly mode neither library raises.
    case(lg)
    case(torch)


def test_backward_nan_shows_the_forward_line():
    x = lg.tensor([0.0, 4.0], requires_grad=True)
    with _quiet(lg.autograd.detect_anomaly):
        y = x.sqrt()  # BACKWARD-SQRT
        with pytest.raises(RuntimeError) as info:
            (y * 0).sum().backward()
    message = str(info.value)
    forward = message.split("Traceback of forward call that caused the error:\n")[1]
    assert f'line {_line_of("# BACKWARD-SQRT")}' in forward.splitlines()[-2]
    assert "y = x.sqrt()" in forward.splitlines()[-1]
    assert "1 of its 2 values is nan" in message


def test_backward_nan_without_forward_information():
    x = lg.tensor([0.0], requires_grad=True)
    y = (x.sqrt() * 0).sum()  # recorded with the mode off
    with _quiet(lg.autograd.detect_anomaly):
        with pytest.raises(RuntimeError, match="No forward pass information available"):
            y.backward()


@pytest.mark.torch
def test_inf_gradient_is_not_an_anomaly_like_torch(torch):
    for m in (lg, torch):
        x = m.tensor([0.0, 4.0], requires_grad=True)
        with _quiet(m.autograd.detect_anomaly):
            x.sqrt().sum().backward()
        assert x.grad.tolist() == [float("inf"), 0.25]


def test_check_inf_catches_inf_in_forward_and_backward():
    x = lg.tensor([0.0, 4.0], requires_grad=True)
    with _quiet(lambda: lg.autograd.detect_anomaly(check_inf=True)):
        assert lg.autograd.is_anomaly_check_inf_enabled()
        with pytest.raises(RuntimeError, match=r"(?s)op 'log' \(node 'LogBackward0'\).*returned "
                                               r"inf values in its 0th output; 1 of its 2 "
                                               r"values is inf.*division by zero"):
            x.log()
        y = x.sqrt()  # finite; its gradient at 0 is not
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned inf values "
                                               "in its 0th output"):
            y.sum().backward()
    assert not lg.autograd.is_anomaly_check_inf_enabled()  # restored on exit
    mode = lg.autograd.set_detect_anomaly(True, check_nan=False, check_inf=True)
    with mode:
        with pytest.raises(RuntimeError, match="inf values"):
            x.log()
        (x * float("nan")).sum()  # nan not asked for
    assert "check_inf=True" in repr(mode) and not lg.is_anomaly_enabled()


def test_grad_and_create_graph_are_checked():
    x = lg.tensor([0.0], requires_grad=True)
    with _quiet(lg.autograd.detect_anomaly):
        y = x.sqrt() * 0
        with pytest.raises(RuntimeError, match="'SqrtBackward0' returned nan"):
            lg.autograd.grad(y.sum(), x)
        z = lg.tensor([1.0], requires_grad=True)
        (g,) = lg.autograd.grad((z ** 3).sum(), z, create_graph=True)
        g.sum().backward()  # double backward with clean values: no error
    assert z.grad.tolist() == [6.0]


# ------------------------------------------------------------------ other backward errors

def _modified_in_place(m):
    a = m.ones(2, requires_grad=True)
    b = a.exp()  # saves its output
    b.mul_(3)
    b.sum().backward()


@pytest.mark.torch
def test_other_errors_warn_with_the_forward_traceback_like_torch(torch):
    for m in (lg, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with m.autograd.detect_anomaly():
                with pytest.raises(RuntimeError, match="modified by an inplace|in-place"):
                    _modified_in_place(m)
        detected = [str(w.message) for w in caught if "Error detected in" in str(w.message)]
        assert len(detected) == 1, m.__name__
        assert detected[0].startswith(
            "Error detected in ExpBackward0. Traceback of forward call that caused the error:")
        assert "b = a.exp()" in detected[0]


def test_no_warning_for_an_error_outside_backward():
    x = lg.tensor([1.0], requires_grad=True)
    with _quiet(lg.autograd.detect_anomaly):
        try:
            raise KeyError("handled by the caller")
        except KeyError:  # backward inside an except block: that error is not backward's
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0]
