"""Adagrad, as torch.optim.Adagrad."""
from __future__ import annotations

from ..backend import xp_of
from ..tensor import Tensor
from ._update import addcdiv_
from .optimizer import (Optimizer, advance, check_not_differentiable, check_options,
                        new_counter, scalar)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad: accumulate squared gradients in 'sum' (starting at
    initial_accumulator_value) and step ``p -= clr * g / (sqrt(sum) + eps)`` with
    ``clr = lr / (1 + (step - 1) * lr_decay)``. The state ('step', 'sum') is created for
    every parameter when the optimizer is, as in PyTorch.
    """

    _param_shaped_state = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        check_options("Adagrad", lr, lr_decay=lr_decay, weight_decay=weight_decay,
                      initial_accumulator_value=initial_accumulator_value, epsilon=eps)
        check_not_differentiable("Adagrad", differentiable)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p):
        state = self.state[p]
        state["step"] = new_counter()
        data = p._data
        state["sum"] = Tensor._wrap(xp_of(data).full_like(
            data, self.defaults["initial_accumulator_value"]))

    def step(self, closure=None):
        """One Adagrad update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, lr_decay = scalar(group["lr"]), group["lr_decay"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:  # added by add_param_group after construction
                    self._init_state(p)
                step = advance(state["step"])
                param = p._data
                xp = xp_of(param)
                grad = self._grad_for_update(param, p._grad._data, group["maximize"],
                                             group["weight_decay"])
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum = state["sum"]._data
                tmp = self._scratch(param, 2)
                xp.multiply(grad, grad, out=tmp)
                state_sum += tmp
                std = xp.sqrt(state_sum, out=self._scratch(param, 1))
                std += group["eps"]
                addcdiv_(param, grad, std, -clr, tmp)
                p._bump_version()
        return loss
