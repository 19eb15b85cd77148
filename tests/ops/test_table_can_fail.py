"""The op-table checks catch a wrong gradient formula: a test that cannot fail is no test."""
from __future__ import annotations

import pytest

import labgrad as lg
from labgrad.autograd import GradcheckError, gradcheck, gradgradcheck
from labgrad.ops import arithmetic, pointwise


def _inputs():
    lg.manual_seed(0)
    return lg.randn(3, 4, dtype=lg.float64, requires_grad=True), \
        lg.randn(3, 4, dtype=lg.float64, requires_grad=True)


def test_gradcheck_catches_a_wrong_binary_rule(monkeypatch):
    def wrong(self, grad):  # d(a*b)/da = b, not a
        a, b = self.saved_tensors
        return grad * a, grad * b
    monkeypatch.setattr(arithmetic.MulBackward0, "backward", wrong)
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda a, b: a * b, _inputs())


def test_gradcheck_catches_a_wrong_table_rule(monkeypatch):
    # exp's rule with a slightly wrong factor
    monkeypatch.setattr(pointwise.exp.node_class, "rule", staticmethod(lambda g, x, y: g * y * 1.01))
    with pytest.raises(GradcheckError):
        gradcheck(lambda a: a.exp(), _inputs()[:1])


def test_gradgradcheck_catches_a_rule_that_is_not_differentiable_correctly(monkeypatch):
    # sin's rule written with a detached cos: first derivatives stay right, second ones break
    monkeypatch.setattr(pointwise.sin.node_class, "rule",
                        staticmethod(lambda g, x, y: g * x.cos().detach()))
    a = _inputs()[:1]
    assert gradcheck(lambda a: a.sin(), a)
    with pytest.raises(GradcheckError):
        gradgradcheck(lambda a: a.sin(), a)
