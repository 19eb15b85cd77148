"""RMSprop, as torch.optim.RMSprop."""
from __future__ import annotations

from ..backend import xp_of
from ._update import add_scaled_, addcdiv_, addcmul_, lerp_
from .optimizer import (Optimizer, advance, check_not_differentiable, check_options,
                        new_counter, scalar, zeros_like_array)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by the root of a moving average of its square,
    ``square_avg = alpha * square_avg + (1 - alpha) * g**2``, ``p -= lr * g / (sqrt(square_avg)
    + eps)``. centered subtracts the squared moving average of the gradient ('grad_avg')
    first; momentum accumulates the scaled gradient in 'momentum_buffer' and steps along it.
    State: 'step', 'square_avg' (+ 'momentum_buffer', 'grad_avg' when used).
    """

    _param_shaped_state = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_options("RMSprop", lr, epsilon=eps, momentum=momentum,
                      weight_decay=weight_decay, alpha=alpha)
        check_not_differentiable("RMSprop", differentiable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One RMSprop update of every parameter that has a gradient."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, alpha, momentum = scalar(group["lr"]), group["alpha"], group["momentum"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_counter()
                    state["square_avg"] = zeros_like_array(p)
                    if momentum > 0:
                        state["momentum_buffer"] = zeros_like_array(p)
                    if group["centered"]:
                        state["grad_avg"] = zeros_like_array(p)
                advance(state["step"])
                param = p._data
                xp = xp_of(param)
                grad = self._grad_for_update(param, p._grad._data, group["maximize"],
                                             group["weight_decay"])
                square_avg = state["square_avg"]._data
                tmp = self._scratch(param, 2)
                square_avg *= alpha
                addcmul_(square_avg, grad, grad, 1 - alpha, tmp)
                avg = self._scratch(param, 1)
                if group["centered"]:
                    grad_avg = state["grad_avg"]._data
                    lerp_(grad_avg, grad, 1 - alpha, tmp)
                    xp.multiply(grad_avg, grad_avg, out=avg)
                    xp.subtract(square_avg, avg, out=avg)
                    xp.sqrt(avg, out=avg)
                else:
                    xp.sqrt(square_avg, out=avg)
                avg += group["eps"]
                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    buf *= momentum
                    addcdiv_(buf, grad, avg, 1, tmp)
                    add_scaled_(param, buf, -lr, tmp)
                else:
                    addcdiv_(param, grad, avg, -lr, tmp)
                p._bump_version()
        return loss
