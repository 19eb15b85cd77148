"""AdamW, as torch.optim.AdamW: Adam with decoupled weight decay."""
from __future__ import annotations

from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """Adam whose weight decay scales the parameters (``p *= 1 - lr * weight_decay``) instead
    of adding to the gradient, so it does not pass through the moving averages. The default
    weight_decay is 1e-2. See Adam for the update and the state."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def _fix_loaded_group(self, group):
        group["decoupled_weight_decay"] = True  # AdamW's weight decay is always decoupled
