"""RAdam, as torch.optim.RAdam: Adam with a rectified adaptive learning rate."""
from __future__ import annotations

from ..backend import xp_of
from ._update import addcmul_, lerp_
from .optimizer import (Optimizer, advance, check_betas, check_not_differentiable,
                        check_options, new_counter, scalar, zeros_like_array)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam: Adam whose adaptive step is switched on, and scaled by the rectification
    term, only once the variance of the adaptive learning rate is tractable (rho_t > 5);
    before that it steps along the bias-corrected moving average alone.
    decoupled_weight_decay scales ``p`` by ``1 - lr * weight_decay`` instead of adding to
    the gradient. State: 'step', 'exp_avg', 'exp_avg_sq'.
    """

    _param_shaped_state = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_options("RAdam", lr, epsilon=eps, weight_decay=weight_decay)
        check_betas(betas)
        check_not_differentiable("RAdam", differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One RAdam update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = (scalar(b) for b in group["betas"])
            lr, weight_decay = scalar(group["lr"]), group["weight_decay"]
            decoupled = group["decoupled_weight_decay"]
            rho_inf = 2 / (1 - beta2) - 1  # the maximum length of the approximated SMA
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_counter()
                    state["exp_avg"] = zeros_like_array(p)
                    state["exp_avg_sq"] = zeros_like_array(p)
                step = advance(state["step"])
                param = p._data
                xp = xp_of(param)
                if weight_decay != 0 and decoupled:
                    param *= 1 - lr * weight_decay
                grad = self._grad_for_update(param, p._grad._data, group["maximize"],
                                             0 if decoupled else weight_decay)
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                tmp = self._scratch(param, 2)
                lerp_(exp_avg, grad, 1 - beta1, tmp)
                exp_avg_sq *= beta2
                addcmul_(exp_avg_sq, grad, grad, 1 - beta2, tmp)

                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                update = xp.divide(exp_avg, bias_correction1, out=self._scratch(param, 1))
                update *= lr
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    adaptive = xp.sqrt(exp_avg_sq, out=tmp)
                    adaptive += group["eps"]
                    xp.divide(bias_correction2 ** 0.5, adaptive, out=adaptive)
                    update *= adaptive
                    update *= ((rho_t - 4) * (rho_t - 2) * rho_inf
                               / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                param -= update
                p._bump_version()
        return loss
