"""Adamax, as torch.optim.Adamax: Adam with the infinity norm."""
from __future__ import annotations

from ..backend import xp_of
from ._update import addcdiv_, lerp_
from .optimizer import (Optimizer, advance, check_betas, check_not_differentiable,
                        check_options, new_counter, scalar, zeros_like_array)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax: ``exp_avg`` as in Adam, ``exp_inf = max(beta2 * exp_inf, |g| + eps)``,
    ``p -= lr / (1 - beta1**t) * exp_avg / exp_inf``. State: 'step', 'exp_avg', 'exp_inf'.
    """

    _param_shaped_state = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_options("Adamax", lr, epsilon=eps, weight_decay=weight_decay)
        check_betas(betas)
        check_not_differentiable("Adamax", differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adamax update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = (scalar(b) for b in group["betas"])
            lr = scalar(group["lr"])
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_counter()
                    state["exp_avg"] = zeros_like_array(p)
                    state["exp_inf"] = zeros_like_array(p)
                step = advance(state["step"])
                param = p._data
                xp = xp_of(param)
                grad = self._grad_for_update(param, p._grad._data, group["maximize"],
                                             group["weight_decay"])
                exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
                tmp = self._scratch(param, 1)
                lerp_(exp_avg, grad, 1 - beta1, tmp)
                exp_inf *= beta2
                norm = xp.abs(grad, out=tmp)
                norm += group["eps"]
                xp.maximum(exp_inf, norm, out=exp_inf)
                clr = lr / (1 - beta1 ** step)
                addcdiv_(param, exp_avg, exp_inf, -clr, tmp)
                p._bump_version()
        return loss
