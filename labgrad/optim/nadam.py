"""NAdam, as torch.optim.NAdam: Adam with Nesterov momentum."""
from __future__ import annotations

from ..backend import xp_of
from ._update import addcdiv_, addcmul_, lerp_
from .optimizer import (Optimizer, advance, check_betas, check_not_differentiable,
                        check_options, new_counter, scalar, zeros_like_array)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam: Adam whose step mixes the current gradient and the moving average with the
    momentum schedule ``mu_t = beta1 * (1 - 0.5 * 0.96**(t * momentum_decay))``; their
    running product is kept in 'mu_product'. decoupled_weight_decay scales ``p`` by
    ``1 - lr * weight_decay`` instead of adding to the gradient (NAdamW).
    State: 'step', 'mu_product', 'exp_avg', 'exp_avg_sq'.
    """

    _counter_keys = ("step", "mu_product")
    _param_shaped_state = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_options("NAdam", lr, epsilon=eps, weight_decay=weight_decay,
                      momentum_decay=momentum_decay)
        check_betas(betas)
        check_not_differentiable("NAdam", differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One NAdam update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = (scalar(b) for b in group["betas"])
            lr, weight_decay = scalar(group["lr"]), group["weight_decay"]
            decoupled, momentum_decay = group["decoupled_weight_decay"], group["momentum_decay"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_counter()
                    state["mu_product"] = new_counter(1.0)
                    state["exp_avg"] = zeros_like_array(p)
                    state["exp_avg_sq"] = zeros_like_array(p)
                step = advance(state["step"])
                param = p._data
                xp = xp_of(param)
                bias_correction2 = 1 - beta2 ** step
                if weight_decay != 0 and decoupled:
                    param *= 1 - lr * weight_decay
                grad = self._grad_for_update(param, p._grad._data, group["maximize"],
                                             0 if decoupled else weight_decay)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product = state["mu_product"]._data
                mu_product *= mu  # in the counter's dtype, as PyTorch
                mu_product = float(mu_product)
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                tmp = self._scratch(param, 2)
                lerp_(exp_avg, grad, 1 - beta1, tmp)
                exp_avg_sq *= beta2
                addcmul_(exp_avg_sq, grad, grad, 1 - beta2, tmp)
                denom = xp.divide(exp_avg_sq, bias_correction2, out=self._scratch(param, 1))
                xp.sqrt(denom, out=denom)
                denom += group["eps"]
                mu_product_next = mu_product * mu_next
                addcdiv_(param, grad, denom, -lr * (1.0 - mu) / (1.0 - mu_product), tmp)
                addcdiv_(param, exp_avg, denom, (-lr * mu_next) / (1.0 - mu_product_next), tmp)
                p._bump_version()
        return loss
