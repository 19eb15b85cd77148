"""Stochastic gradient descent, optionally with momentum, as torch.optim.SGD."""
from __future__ import annotations

from ..backend import xp_of
from ..tensor import Tensor
from ._update import add_scaled_
from .optimizer import Optimizer, check_not_differentiable, check_options, scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum).

    Per parameter: ``g = grad + weight_decay * p``; with momentum
    ``buf = momentum * buf + (1 - dampening) * g`` (``buf = g`` on the first step) and
    ``g = g + momentum * buf`` (nesterov) or ``g = buf``; then ``p -= lr * g``. State:
    'momentum_buffer' per parameter when momentum is nonzero.

    ``foreach`` and ``fused`` are accepted for compatibility and change nothing.
    """

    _param_shaped_state = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_options("SGD", lr, momentum=momentum, weight_decay=weight_decay)
        check_not_differentiable("SGD", differentiable)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One SGD update of every parameter that has a gradient; returns closure's loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr = scalar(group["lr"])
            momentum = group["momentum"]
            weight_decay = scalar(group["weight_decay"])
            for p in group["params"]:
                if p._grad is None:
                    continue
                param = p._data
                grad = self._grad_for_update(param, p._grad._data, group["maximize"],
                                             weight_decay)
                if momentum != 0:
                    grad = self._momentum(p, grad, momentum, group)
                add_scaled_(param, grad, -lr, self._scratch(param, 2))
                p._bump_version()
        return loss

    def _momentum(self, p, grad, momentum, group):
        """Update p's momentum buffer and return the direction to step along."""
        state = self.state[p]
        buf = state.get("momentum_buffer")
        if buf is None:  # the first step: the buffer starts as the gradient itself
            b = grad.copy()
            state["momentum_buffer"] = Tensor._wrap(b)
        else:
            b = buf._data
            b *= momentum
            add_scaled_(b, grad, 1 - group["dampening"], self._scratch(b, 1))
        if not group["nesterov"]:
            return b
        out = xp_of(b).multiply(b, momentum, out=self._scratch(b, 1))
        out += grad  # grad + momentum * buf
        return out
