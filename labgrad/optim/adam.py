"""Adam, as torch.optim.Adam (AdamW is Adam with decoupled weight decay: see adamw.py)."""
from __future__ import annotations

from ..backend import xp_of
from ..tensor import Tensor
from ._update import addcdiv_, addcmul_, lerp_
from .optimizer import (Optimizer, advance, check_betas, check_not_differentiable,
                        check_options, new_counter, scalar, zeros_like_array)

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam: per parameter, moving averages of the gradient (``exp_avg``) and of its square
    (``exp_avg_sq``), bias-corrected, give the step
    ``p -= lr / (1 - beta1**t) * exp_avg / (sqrt(exp_avg_sq) / sqrt(1 - beta2**t) + eps)``.

    weight_decay adds ``weight_decay * p`` to the gradient, or with decoupled_weight_decay
    (AdamW) scales ``p`` by ``1 - lr * weight_decay`` first. amsgrad normalizes by the
    running maximum of exp_avg_sq ('max_exp_avg_sq'). State: 'step' (a float 0-d tensor on
    the CPU), 'exp_avg', 'exp_avg_sq'. ``foreach``, ``fused`` and ``capturable`` are accepted
    for compatibility and change nothing.
    """

    _param_shaped_state = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        name = type(self).__name__
        check_options(name, lr, epsilon=eps, weight_decay=weight_decay)
        check_betas(betas)
        check_not_differentiable(name, differentiable)
        if isinstance(betas[0], Tensor) != isinstance(betas[1], Tensor):
            raise ValueError("betas must be either both floats or both Tensors")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable,
                    "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adam update of every parameter that has a gradient; returns closure's loss."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            beta1, beta2 = (scalar(b) for b in group["betas"])
            lr = scalar(group["lr"])
            weight_decay = group["weight_decay"]
            decoupled = group["decoupled_weight_decay"]
            amsgrad = group["amsgrad"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_counter()
                    state["exp_avg"] = zeros_like_array(p)
                    state["exp_avg_sq"] = zeros_like_array(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = zeros_like_array(p)
                step = advance(state["step"])
                param = p._data
                if weight_decay != 0 and decoupled:
                    param *= 1 - lr * weight_decay
                grad = self._grad_for_update(param, p._grad._data, group["maximize"],
                                             0 if decoupled else weight_decay)
                exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
                tmp = self._scratch(param, 1)
                lerp_(exp_avg, grad, 1 - beta1, tmp)
                exp_avg_sq *= beta2
                addcmul_(exp_avg_sq, grad, grad, 1 - beta2, tmp)

                step_size = lr / (1 - beta1 ** step)
                bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
                xp = xp_of(param)
                if amsgrad:
                    second = state["max_exp_avg_sq"]._data
                    xp.maximum(second, exp_avg_sq, out=second)
                else:
                    second = exp_avg_sq
                denom = xp.sqrt(second, out=tmp)
                denom /= bias_correction2_sqrt
                denom += group["eps"]
                addcdiv_(param, exp_avg, denom, -step_size, self._scratch(param, 2))
                p._bump_version()
        return loss
