"""Gradient clipping, as torch.nn.utils: clip_grad_norm_, clip_grad_value_, get_total_norm and
clip_grads_with_norm_.

All of them work on the ``.grad`` of the parameters given (a tensor or an iterable of them;
parameters without a gradient are skipped), in place and outside autograd.
"""
from __future__ import annotations

import math
import warnings

from ...autograd.grad_mode import no_grad
from ...backend import xp_of
from ...creation import tensor as _tensor
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]


def _as_list(tensors) -> list:
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _grads_of(parameters) -> list:
    return [p.grad for p in parameters if p.grad is not None]


def _norm(data, p: float):
    """The p-norm of a backend array, as a 0-d array of its dtype (on its device)."""
    xp = xp_of(data)
    flat = data.reshape(-1)
    if p == 2.0:
        return xp.sqrt(xp.dot(flat, flat))  # one BLAS call, no temporary
    if p == math.inf:
        return xp.abs(flat).max() if flat.size else xp.zeros((), flat.dtype)
    if p == -math.inf:
        return xp.abs(flat).min() if flat.size else xp.full((), math.inf, flat.dtype)
    if p == 0.0:
        return xp.asarray(xp.count_nonzero(flat), dtype=flat.dtype)
    if p == 1.0:
        return xp.abs(flat).sum()
    return (xp.abs(flat) ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach=None) -> Tensor:
    """The `norm_type`-norm of all `tensors` together, as if concatenated into one vector
    (computed as the norm of their norms); a 0-d tensor on the first tensor's device, 0 when
    there are none. `foreach` is accepted for PyTorch's signature; the result is the same."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _tensor(0.0)
    first = tensors[0]
    norms = []
    for t in tensors:
        norm = _norm(t._data, norm_type)
        if t.device != first.device:  # PyTorch gathers the norms on the first device
            norm = Tensor._wrap(norm).to(first.device)._data
        norms.append(norm)
    xp = xp_of(first._data)
    total = Tensor._wrap(_norm(xp.stack(norms), norm_type))
    if error_if_nonfinite and not math.isfinite(total.item()):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           "is non-finite, so it cannot be clipped. To disable this error and "
                           "scale the gradients by the non-finite norm anyway, set "
                           "`error_if_nonfinite=False`")
    return total


@no_grad()
def clip_grads_with_norm_(parameters, max_norm: float, total_norm: Tensor,
                          foreach=None) -> None:
    """Scale the gradients by ``min(1, max_norm / (total_norm + 1e-6))`` in place, given a
    total norm already computed (e.g. by get_total_norm)."""
    grads = _grads_of(_as_list(parameters))
    if not grads:
        return
    coef = (float(max_norm) / (total_norm + 1e-6)).clamp(max=1.0)
    cast = {}  # the coefficient once per (device, dtype) of the gradients
    for g in grads:
        key = (g.device, g.dtype)
        if key not in cast:
            cast[key] = coef.to(g.device, g.dtype)
        g.mul_(cast[key])


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Rescale the gradients so that their total `norm_type`-norm (all of them as one vector;
    inf for the max-abs norm) is at most `max_norm`; returns the total norm before clipping
    (a tensor). With `error_if_nonfinite`, a nan or inf total norm raises instead."""
    parameters = _as_list(parameters)  # a generator must be read only once
    total = get_total_norm(_grads_of(parameters), norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0,
                   error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """Deprecated: use `clip_grad_norm_`."""
    warnings.warn("`labgrad.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`labgrad.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


@no_grad()
def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads_of(_as_list(parameters)):
        g.clamp_(min=-clip_value, max=clip_value)
