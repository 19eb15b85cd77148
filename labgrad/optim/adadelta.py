"""Adadelta, as torch.optim.Adadelta."""
from __future__ import annotations

from ..backend import xp_of
from ._update import add_scaled_, addcmul_
from .optimizer import (Optimizer, advance, check_not_differentiable, check_options,
                        new_counter, scalar, zeros_like_array)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta: ``square_avg = rho * square_avg + (1 - rho) * g**2``,
    ``delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g``,
    ``acc_delta = rho * acc_delta + (1 - rho) * delta**2``, ``p -= lr * delta``.
    State: 'step', 'square_avg', 'acc_delta'.
    """

    _param_shaped_state = ("square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_options("Adadelta", lr, epsilon=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_not_differentiable("Adadelta", differentiable)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adadelta update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, rho, eps = scalar(group["lr"]), group["rho"], group["eps"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_counter()
                    state["square_avg"] = zeros_like_array(p)
                    state["acc_delta"] = zeros_like_array(p)
                advance(state["step"])
                param = p._data
                xp = xp_of(param)
                grad = self._grad_for_update(param, p._grad._data, group["maximize"],
                                             group["weight_decay"])
                square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
                tmp = self._scratch(param, 1)
                square_avg *= rho
                addcmul_(square_avg, grad, grad, 1 - rho, tmp)
                std = xp.add(square_avg, eps, out=tmp)
                xp.sqrt(std, out=std)
                delta = xp.add(acc_delta, eps, out=self._scratch(param, 2))
                xp.sqrt(delta, out=delta)
                delta /= std
                delta *= grad
                acc_delta *= rho
                addcmul_(acc_delta, delta, delta, 1 - rho, tmp)
                add_scaled_(param, delta, -lr, tmp)
                p._bump_version()
        return loss
