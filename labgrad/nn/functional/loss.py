"""Loss functions, as torch.nn.functional has them.

Every loss takes PyTorch's arguments, including the deprecated ``size_average``/``reduce``
pair (mapped to a reduction as PyTorch maps it, with its warning), and reduces with
``reduction='mean' | 'sum' | 'none'``.

The losses that run on nearly every training step are single fused nodes, chosen by
measurement against PyTorch: cross_entropy (log-softmax and the pick of the target in one pass
over the logits), nll_loss, the two binary cross entropies and l1/mse/smooth_l1/huber (one
node instead of five, and no where(), which is slow on NumPy). Their backward formulas are
labgrad ops too, so ``create_graph=True`` still gives second derivatives. The other losses
are composites of differentiable labgrad ops. ctc_loss runs its dynamic program on arrays;
its gradient is PyTorch's, and first order only (as in PyTorch).
"""
from __future__ import annotations

import functools
import math
import warnings

import numpy as np

from ...autograd import grad_mode
from ...autograd.graph import Node, record
from ...backend import xp_of
from ...ops._util import binary_operands, describe, shape_str
from ...ops.comparison import where
from ...ops.reductions import _quiet
from ...ops.softmax import log_softmax, softmax
from ...tensor import Tensor
from .distance import pairwise_distance

__all__ = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "poisson_nll_loss", "gaussian_nll_loss", "cosine_embedding_loss",
           "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
           "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
           "triplet_margin_loss", "triplet_margin_with_distance_loss", "ctc_loss"]

_wrap = Tensor._wrap
_state = grad_mode.state
_REDUCTIONS = ("none", "mean", "sum")


# ------------------------------------------------------------------ reductions

def legacy_reduction(size_average, reduce, stacklevel=3) -> str:
    """PyTorch's mapping of the deprecated size_average/reduce pair (None counts as True)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn("size_average and reduce args will be deprecated, please use "
                  f"reduction='{result}' instead.", UserWarning, stacklevel=stacklevel)
    return result


def _reduction(op, reduction, size_average=None, reduce=None, allowed=_REDUCTIONS) -> str:
    """The reduction a loss applies: the legacy pair wins when given, as in PyTorch."""
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce, stacklevel=4)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", UserWarning, stacklevel=4)
        return "mean"
    if reduction not in allowed:
        listed = ", ".join(repr(r) for r in allowed)
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; use one of "
                         f"{listed}")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# ------------------------------------------------------------------ argument checks

def _tensor(op, name, value):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}: {name} must be a tensor, got {describe(value)}")
    return value


def _floating(op, name, t):
    """t, checked to be a floating point tensor."""
    _tensor(op, name, t)
    if t._data.dtype.kind not in "fV":
        raise RuntimeError(f"{op}: expected {name} to be a floating point tensor, got "
                           f"{describe(t)}; convert it with {name}.float()")
    return t


def _broadcastable(op, input, target, warn=True):
    """Check that input and target broadcast; warn, as PyTorch does, when their shapes differ
    (a target of shape (N, 1) for an input of shape (N,) silently makes an (N, N) loss)."""
    ishape, tshape = input._data.shape, target._data.shape
    if ishape == tshape:
        return
    try:
        np.broadcast_shapes(ishape, tshape)
    except ValueError:
        raise RuntimeError(f"{op}: input of shape {shape_str(ishape)} and target of shape "
                           f"{shape_str(tshape)} cannot be broadcast together; give the target "
                           "the input's shape") from None
    if warn:
        warnings.warn(f"{op}: using a target of shape {shape_str(tshape)} that is different "
                      f"from the input's shape {shape_str(ishape)}. This will likely lead to "
                      "incorrect results due to broadcasting. Please ensure they have the same "
                      "size.", UserWarning, stacklevel=3)


def _same_shape(op, input, target):
    ishape, tshape = input._data.shape, target._data.shape
    if ishape != tshape:
        raise ValueError(f"{op}: target of shape {shape_str(tshape)} must have the same shape "
                         f"as the input, {shape_str(ishape)}")


def _elementwise_weight(op, weight, input):
    """The optional per-element weight of l1/mse/huber: PyTorch wants the input's shape."""
    if weight is None:
        return None
    _tensor(op, "weight", weight)
    if weight._data.shape != input._data.shape:
        raise ValueError(f"{op}: weight of shape {shape_str(weight._data.shape)} must have the "
                         f"same shape as the input, {shape_str(input._data.shape)}")
    return weight


# ------------------------------------------------------------------ fused pointwise losses

class _PointwiseLossBackward(Node):
    """An elementwise loss of (input, target, ...) and its reduction, recorded as one node:
    a training step pays one node instead of five, and no where() (slow on NumPy).

    Subclasses define ``gradients(grad, *saved)``: the gradients of sum(grad * loss) for each
    input (None where not needed), with labgrad ops so that create_graph works. `grad` is the
    incoming gradient, already divided by the element count for a mean."""

    def backward(self, grad):
        if self.reduction == "mean" and self.count:
            grad = grad * (1.0 / self.count)
        return self.gradients(grad, *self.saved_tensors)


def _pointwise_loss(node_cls, loss, inputs, reduction, **attrs):
    """Reduce the elementwise `loss` array and record one `node_cls` node for it."""
    count = loss.size
    if reduction == "sum":
        loss = loss.sum()
    elif reduction == "mean":
        loss = loss.mean() if count else xp_of(loss).full((), math.nan, loss.dtype)
    return _record_pointwise(node_cls, loss, count, inputs, reduction, attrs)


def _record_pointwise(node_cls, value, count, inputs, reduction, attrs):
    """The loss tensor for the array `value`, with its node when grad is recorded."""
    out = _wrap(value)
    if _state.grad_enabled and any(t is not None and t._rg for t in inputs):
        node = record(node_cls, inputs, out, saved=inputs)
        node.reduction, node.count = reduction, count
        node.__dict__.update(attrs)
    return out


def _difference(op, input, target):
    """input - target as an array, promoted as PyTorch promotes."""
    a, b, _, _ = binary_operands(op, input, target)
    return a - b


def _input_and_target_grads(node, grad_input):
    """(grad of input, grad of target) for losses of input - target."""
    return grad_input, (-grad_input if node.needs_input_grad[1] else None)


class L1LossBackward0(_PointwiseLossBackward):
    def gradients(self, grad, x, t):
        return _input_and_target_grads(self, grad * (x - t).sign())


class MseLossBackward0(_PointwiseLossBackward):
    def gradients(self, grad, x, t):
        return _input_and_target_grads(self, (x - t) * (grad * 2))


class SmoothL1LossBackward0(_PointwiseLossBackward):
    """d/dx = (x - t) / beta inside [-beta, beta], its sign outside."""

    def gradients(self, grad, x, t):
        scaled = x - t if self.beta == 1 else (x - t) / self.beta
        return _input_and_target_grads(self, grad * scaled.clamp(-1, 1))


class HuberLossBackward0(_PointwiseLossBackward):
    """d/dx = x - t inside [-delta, delta], delta times its sign outside."""

    def gradients(self, grad, x, t):
        delta = self.delta
        return _input_and_target_grads(self, grad * (x - t).clamp(-delta, delta))


def _huber(diff, delta):
    """0.5 d**2 where |d| < delta, else delta (|d| - 0.5 delta), computed in place on the
    array `diff` without where(): with m = min(|d|, delta) it is 0.5 m**2 + delta (|d| - m)."""
    xp = xp_of(diff)
    size = xp.abs(diff, out=diff)
    small = xp.clip(size, 0, delta)  # a two-sided clip is 3x faster than minimum on NumPy
    size -= small
    if delta != 1:
        size *= delta
    small *= small
    small *= 0.5
    small += size
    return small


def _regression_loss(op, node_cls, kernel, input, target, reduction, weight=None, **attrs):
    """The shared path of l1/mse/smooth_l1/huber: checks, then kernel(input - target) as one
    fused node, then the optional per-element weights."""
    _broadcastable(op, _floating(op, "input", input), _tensor(op, "target", target))
    weight = _elementwise_weight(op, weight, input)
    diff = _difference(op, input, target)
    if kernel is _square_kernel and weight is None and reduction != "none" and diff.size:
        # a sum of squares is one dot product: no squared array to make and then sum
        flat = diff.reshape(-1)
        total = xp_of(diff).vdot(flat, flat)
        value = total / diff.size if reduction == "mean" else total
        return _record_pointwise(node_cls, value, diff.size, (input, target), reduction, attrs)
    loss = kernel(diff)
    if weight is None:
        return _pointwise_loss(node_cls, loss, (input, target), reduction, **attrs)
    loss = _pointwise_loss(node_cls, loss, (input, target), "none", **attrs) * weight
    if reduction == "mean" and node_cls is not HuberLossBackward0:
        return loss.sum() / weight.sum()  # the weighted mean of l1 and mse, as PyTorch's
    return _reduce(loss, reduction)


def _abs_kernel(diff):
    return xp_of(diff).abs(diff, out=diff)


def _square_kernel(diff):
    return xp_of(diff).multiply(diff, diff, out=diff)


# ------------------------------------------------------------------ regression

def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean (or sum) absolute difference |input - target|; with per-element weights the mean
    divides by the sum of the weights."""
    op = "l1_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    return _regression_loss(op, L1LossBackward0, _abs_kernel, input, target, reduction, weight)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean (or sum) squared difference (input - target)**2; with per-element weights the
    mean divides by the sum of the weights."""
    op = "mse_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    return _regression_loss(op, MseLossBackward0, _square_kernel, input, target, reduction,
                            weight)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d**2 / beta where |d| < beta, else |d| - 0.5 beta, for d = input - target
    (beta=0 is the L1 loss): huber_loss with delta=beta, divided by beta."""
    op = "smooth_l1_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError(f"{op}: beta must be non-negative, got {beta}")
    if beta == 0:
        return _regression_loss(op, L1LossBackward0, _abs_kernel, input, target, reduction)
    beta = float(beta)

    def kernel(diff):
        loss = _huber(diff, beta)
        if beta != 1:
            loss /= beta
        return loss

    return _regression_loss(op, SmoothL1LossBackward0, kernel, input, target, reduction,
                            beta=beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d**2 where |d| < delta, else delta (|d| - 0.5 delta), for d = input - target.
    With weights the mean divides by the element count, as PyTorch's does."""
    op = "huber_loss"
    reduction = _reduction(op, reduction)
    if delta <= 0:
        raise RuntimeError(f"{op}: delta must be positive, got {delta}")
    delta = float(delta)
    return _regression_loss(op, HuberLossBackward0, lambda diff: _huber(diff, delta), input,
                            target, reduction, weight, delta=delta)


# ------------------------------------------------------------------ class-index targets

@functools.lru_cache(maxsize=64)
def _class_offsets(xp, shape):
    """For each position (n, *rest) of a C-contiguous (N, C, *rest) array, the flat offset of
    its class 0 (cached: a training loop asks for the same one every step)."""
    rest = math.prod(shape[2:])
    offsets = xp.arange(shape[0]).reshape((-1,) + (1,) * (len(shape) - 2)) * (shape[1] * rest)
    if rest != 1:
        offsets = offsets + xp.arange(rest).reshape(shape[2:])
    return offsets


class _ClassTargets:
    """Class-index targets resolved against inputs of shape (N, C, *rest).

    Holds where each position's target class sits (`flat`: its index into the flattened
    input; one index array is much faster than one per dimension), which positions count
    (`valid`: None when no target equals ignore_index), the weight each position's loss
    carries (`mask`: the class weight of its target, 0 where ignored; None when every weight
    is 1) and `inverse`, 1 / the mean's denominator: the sum of those weights, as PyTorch
    divides a weighted mean (nan when it is 0, as in PyTorch)."""

    def __init__(self, op, shape, target, weight, ignore_index, dtype):
        t = target._data
        if t.dtype != np.int64:
            t = t.astype(np.int64)  # uint8 targets, accepted as in PyTorch
        xp = xp_of(t)
        n_classes = shape[1]
        valid = None
        # One max over the indices seen as unsigned checks both bounds: negatives wrap to huge.
        if t.size and (int(t.view(np.uint64).max()) >= n_classes
                       or 0 <= ignore_index < n_classes):
            valid = t != ignore_index
            bad = valid & ((t < 0) | (t >= n_classes))
            if bool(bad.any()):
                value = int(t[bad].reshape(-1)[0])
                raise IndexError(
                    f"{op}: target {value} is out of bounds: class indices must be in "
                    f"[0, {n_classes}) for an input with {n_classes} classes (shape "
                    f"{shape_str(shape)}), or equal ignore_index={ignore_index}")
            t = xp.where(valid, t, 0)
            valid = valid.astype(dtype)
        stride = math.prod(shape[2:])  # between two classes of one position
        self.flat = _class_offsets(xp, tuple(shape)) + (t if stride == 1 else t * stride)
        mask = None if weight is None else weight[t]
        if valid is not None:
            mask = valid if mask is None else mask * valid
        self.valid, self.mask = valid, mask
        # The gradient scale is 0, not nan, when nothing counts: PyTorch's gradient is zeros.
        if mask is None:
            self.inverse = 1.0 / t.size if t.size else math.nan
            self.grad_inverse = 1.0 / t.size if t.size else 0.0
        else:
            total = mask.sum()
            with _quiet(xp):
                self.grad_inverse = xp.where(total != 0, 1.0 / total, 0.0)
            self.inverse = xp.where(total != 0, self.grad_inverse, math.nan)

    def pick(self, array):
        """Each position's value at its target class: (N, *rest) from (N, C, *rest)."""
        return array.reshape(-1)[self.flat]

    def coefficients(self, smoothing, n_classes):
        """(c_t, c_s): each position's weight on the -log p of its target and on the
        smoothing term (numbers, or arrays over positions)."""
        c_t = 1.0 - smoothing if self.mask is None else (1.0 - smoothing) * self.mask
        c_s = smoothing / n_classes
        if smoothing and self.valid is not None:
            c_s = c_s * self.valid  # every counted position (its class weights come later)
        return c_t, c_s


def _class_weight(op, weight, n_classes, input):
    if weight is None:
        return None
    _tensor(op, "weight", weight)
    w = weight._data
    if w.ndim != 1 or w.shape[0] != n_classes:
        raise RuntimeError(f"{op}: weight must hold one value for each of the {n_classes} "
                           f"classes, got a weight of shape {shape_str(w.shape)} for an input "
                           f"of shape {shape_str(input._data.shape)}")
    if w.dtype != input._data.dtype:
        raise RuntimeError(f"{op}: weight ({describe(weight)}) must have the input's dtype "
                           f"{input.dtype.name}; convert it with weight.to({input.dtype.name})")
    return w


def _index_target_shape(op, input, target, allow_probabilities):
    """Check a class-index target against input (C,), (N, C) or (N, C, d1, ...)."""
    ishape, tshape = input._data.shape, target._data.shape
    if input.ndim == 0:
        raise ValueError(f"{op}: expected an input with 1 or more dimensions (C,), (N, C) or "
                         "(N, C, d1, ...), got a 0-d tensor")
    expected = () if input.ndim == 1 else (ishape[0],) + ishape[2:]
    if tshape == expected and target._data.dtype in (np.int64, np.uint8):
        return
    what = f"{shape_str(expected)} with class indices (int64)"
    if allow_probabilities:
        what += f" or {shape_str(ishape)} with probabilities (floating point)"
    raise RuntimeError(f"{op}: expected target of shape {what}, got {shape_str(tshape)} "
                       f"({target.dtype.name}) for an input of shape {shape_str(ishape)}")


def _position_grad(grad, targets, reduction):
    """The gradient reaching each position's loss, shaped to broadcast against the input
    (N, C, *rest): (N, 1, *rest) for 'none', else a 0-d tensor."""
    if reduction == "none":
        return grad.unsqueeze(1)
    if reduction == "mean":
        inverse = targets.grad_inverse
        return grad * (inverse if isinstance(inverse, float) else _wrap(inverse))
    return grad


def _reduce_positions(loss, targets, reduction):
    """Reduce the per-position loss array (N, *rest) of nll_loss or cross_entropy."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    return (total * targets.inverse).astype(loss.dtype)


def _unbatched(input, target):
    """An input of shape (C,) with a 0-d target, as a batch of one."""
    return input.reshape(1, -1), _wrap(target._data.reshape(1))


def _batched_result(out, reduction, unbatched):
    if unbatched and reduction == "none":
        return out.reshape(())
    return out


# ------------------------------------------------------------------ nll_loss

class NllLossBackward0(Node):
    """The loss is linear in the input: its gradient is a constant array (minus each
    position's weight at its target class), times the incoming gradient."""

    def backward(self, grad):
        (targets,) = self.saved_tensors
        xp = xp_of(grad._data)
        shape, dtype = self._input_meta[0]
        picked = xp.zeros(shape, dtype)
        picked.reshape(-1)[targets.flat] = -1 if targets.mask is None else -targets.mask
        return _position_grad(grad, targets, self.reduction) * _wrap(picked)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """The negative log likelihood of class-index targets: -input[n, target[n]] (times the
    class weight), for log-probabilities of shape (C,), (N, C) or (N, C, d1, ...)."""
    op = "nll_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _floating(op, "input", input)
    _tensor(op, "target", target)
    _index_target_shape(op, input, target, allow_probabilities=False)
    unbatched = input.ndim == 1
    if unbatched:
        input, target = _unbatched(input, target)
    data = input._data
    w = _class_weight(op, weight, data.shape[1], input)
    targets = _ClassTargets(op, data.shape, target, w, ignore_index, data.dtype)
    loss = -targets.pick(data)
    if targets.mask is not None:
        loss = loss * targets.mask
    out = _wrap(_reduce_positions(loss, targets, reduction))
    if input._rg and _state.grad_enabled:
        record(NllLossBackward0, (input,), out, saved=(targets,)).reduction = reduction
    return _batched_result(out, reduction, unbatched)


# ------------------------------------------------------------------ cross_entropy

class CrossEntropyLossBackward0(Node):
    """Gradient of the fused cross entropy over logits x (classes along dim 1).

    For one position with target class t, target weight c_t (class weight, ignore mask and
    1 - label_smoothing) and smoothing weight c_s (label_smoothing / C, ignore mask):
    loss = c_t (lse - x_t) + c_s sum_c w_c (lse - x_c), with class weights w (all 1 without
    weights), so dloss/dx = (c_t + c_s sum(w)) softmax(x) - c_t onehot(t) - c_s w.
    Forward saved exp(x - max) and its sum over classes, so this is one pass over the logits.
    """

    def backward(self, grad):
        x, exps, sums, targets = self.saved_tensors
        c_t, c_s = targets.coefficients(self.smoothing, x._data.shape[1])
        softmax_scale = c_t + c_s * self.weight_total if self.smoothing else c_t
        if _state.grad_enabled:  # create_graph: the same formula from differentiable ops
            g = _position_grad(grad, targets, self.reduction)
            return self._differentiable(g, x, targets, c_t, c_s, softmax_scale)
        g = grad._data
        if self.reduction == "mean":
            g = g * targets.grad_inverse
        elif self.reduction == "none":
            g = g[:, None]
        out = exps * (g * _keep_class_dim(softmax_scale) / sums[:, None])
        out.reshape(-1)[targets.flat] -= (
            (g * _keep_class_dim(c_t))[:, 0] if g.ndim else g * c_t)
        if self.smoothing:
            out -= g * _keep_class_dim(c_s) * self.weight_column(x._data)
        return _wrap(out)

    def weight_column(self, data):
        """The class weights shaped to broadcast along dim 1 (1 without weights)."""
        if self.weight is None:
            return 1.0
        return self.weight.reshape((1, -1) + (1,) * (data.ndim - 2))

    def _differentiable(self, g, x, targets, c_t, c_s, softmax_scale):
        data = x._data
        constant = xp_of(data).zeros(data.shape, data.dtype)
        constant.reshape(-1)[targets.flat] = c_t
        if self.smoothing:
            constant += _keep_class_dim(c_s) * self.weight_column(data)
        scale = _keep_class_dim(softmax_scale)
        if not isinstance(scale, float):
            scale = _wrap(scale.astype(data.dtype, copy=False))
        return g * (softmax(x, 1) * scale - _wrap(constant))


def _keep_class_dim(a):
    """A per-position array (N, *rest) as (N, 1, *rest); a number stays a number."""
    if isinstance(a, float) or a.ndim == 0:
        return a
    return a[:, None]


def _cross_entropy_indices(input, target, weight, ignore_index, reduction, smoothing):
    op = "cross_entropy"
    unbatched = input.ndim == 1
    if unbatched:
        input, target = _unbatched(input, target)
    data = input._data
    n_classes = data.shape[1]
    w = _class_weight(op, weight, n_classes, input)
    targets = _ClassTargets(op, data.shape, target, w, ignore_index, data.dtype)
    xp = xp_of(data)
    weight_total = n_classes if w is None else w.sum()
    shifted = data - data.max(axis=1, keepdims=True)
    picked = targets.pick(shifted)
    if smoothing:
        weighted = shifted if w is None else shifted * w.reshape((1, -1) + (1,) * (data.ndim - 2))
        shifted_total = weighted.sum(axis=1)
    exps = xp.exp(shifted, out=shifted)
    sums = exps.sum(axis=1)
    lse = xp.log(sums)
    loss = lse - picked
    c_t, c_s = targets.coefficients(smoothing, n_classes)
    if targets.mask is not None or smoothing:
        loss = loss * c_t
    if smoothing:
        loss = loss + c_s * (weight_total * lse - shifted_total)
    out = _wrap(_reduce_positions(loss.astype(data.dtype, copy=False), targets, reduction))
    if input._rg and _state.grad_enabled:
        node = record(CrossEntropyLossBackward0, (input,), out,
                      saved=(input, exps, sums, targets))
        node.reduction, node.smoothing = reduction, smoothing
        node.weight, node.weight_total = w, weight_total
    return _batched_result(out, reduction, unbatched)


def _cross_entropy_probabilities(input, target, weight, reduction, smoothing):
    """Soft targets: -sum_c target_c log_softmax(input)_c (times the class weight); the mean
    divides by the number of positions, as PyTorch's does (weights or not)."""
    op = "cross_entropy"
    _floating(op, "target", target)
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input._data.shape[class_dim]
    if smoothing:
        target = target * (1.0 - smoothing) + smoothing / n_classes
    product = log_softmax(input, class_dim) * target
    w = _class_weight(op, weight, n_classes, input)
    if w is not None:
        product = product * weight.reshape((-1,) + (1,) * (input.ndim - class_dim - 1))
    if reduction == "none":
        return -product.sum(class_dim)
    total = -product.sum()
    if reduction == "sum":
        return total
    positions = input.numel() // n_classes if n_classes else 0
    return total / positions if positions else total * math.nan


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits and class-index targets (or class probabilities, when
    target has the input's shape), for inputs (C,), (N, C) or (N, C, d1, ...).

    Class-index targets: the weighted mean divides by the sum of the weights of the targets
    that are not ignore_index; label_smoothing mixes each target with the uniform
    distribution. This path is one fused op over the logits.
    """
    op = "cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    _floating(op, "input", input)
    _tensor(op, "target", target)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"{op}: label_smoothing must be between 0.0 and 1.0, got "
                           f"{label_smoothing}")
    if input.ndim and target._data.shape == input._data.shape:
        if ignore_index >= 0:
            raise RuntimeError(f"{op}: ignore_index={ignore_index} is not supported for class "
                               "probability targets (a target of the input's shape)")
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    _index_target_shape(op, input, target, allow_probabilities=True)
    return _cross_entropy_indices(input, target, weight, ignore_index, reduction,
                                  float(label_smoothing))


# ------------------------------------------------------------------ binary cross entropy

_BCE_LOG_FLOOR = -100.0  # PyTorch clamps the logs at -100, so log(0) gives a finite loss


class BinaryCrossEntropyBackward0(_PointwiseLossBackward):
    """d/dx = (x - t) / max(x (1 - x), 1e-12), PyTorch's formula (finite at x = 0 or 1);
    d/dt = max(log(1 - x), -100) - max(log(x), -100)."""

    def gradients(self, grad, x, t):
        grad_x = grad_t = None
        if self.needs_input_grad[0]:
            grad_x = grad * (x - t) / ((1 - x) * x).clamp_min(1e-12)
        if self.needs_input_grad[1]:
            grad_t = grad * ((-x).log1p().clamp_min(_BCE_LOG_FLOOR)
                             - x.log().clamp_min(_BCE_LOG_FLOOR))
        return grad_x, grad_t


def _weighted(op, loss, weight, reduction, shape):
    """An unreduced loss times a weight that broadcasts to `shape`, then reduced."""
    _tensor(op, "weight", weight)
    try:
        np.broadcast_shapes(weight._data.shape, shape)
    except ValueError:
        raise RuntimeError(f"{op}: weight of shape {shape_str(weight._data.shape)} cannot be "
                           f"broadcast to the target's shape {shape_str(shape)}") from None
    return _reduce(loss * weight, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """-(t log(x) + (1 - t) log(1 - x)) for probabilities x, each log clamped at -100."""
    op = "binary_cross_entropy"
    reduction = _reduction(op, reduction, size_average, reduce)
    _floating(op, "input", input)
    _tensor(op, "target", target)
    _same_shape(op, input, target)
    x, t, _, _ = binary_operands(op, input, target)
    xp = xp_of(x)
    if x.size and (float(x.min()) < 0 or float(x.max()) > 1):
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1 (they are "
                           "probabilities); for logits use binary_cross_entropy_with_logits")
    with _quiet(xp):
        log_x = xp.maximum(xp.log(x), _BCE_LOG_FLOOR)
        log_rest = xp.maximum(xp.log1p(-x), _BCE_LOG_FLOOR)
    # -(t log x + (1 - t) log(1 - x)) = -(t (log x - log(1 - x)) + log(1 - x))
    loss = log_x - log_rest
    loss *= t
    loss += log_rest
    xp.negative(loss, out=loss)
    inputs = (input, target)
    if weight is None:
        return _pointwise_loss(BinaryCrossEntropyBackward0, loss, inputs, reduction)
    loss = _pointwise_loss(BinaryCrossEntropyBackward0, loss, inputs, "none")
    return _weighted(op, loss, weight, reduction, t.shape)


class BinaryCrossEntropyWithLogitsBackward0(_PointwiseLossBackward):
    """With l = 1 + (pos_weight - 1) t: loss = (1 - t) x - l logsigmoid(x), so
    d/dx = l sigmoid(x) - pos_weight t, d/dt = -x - (pos_weight - 1) logsigmoid(x),
    d/dpos_weight = -t logsigmoid(x)."""

    def gradients(self, grad, x, t, pos_weight):
        need_x, need_t, need_pw = self.needs_input_grad
        grad_x = grad_t = grad_pw = None
        if need_x:
            # sigmoid as 0.5 tanh(x / 2) + 0.5: stable, and no where() (slow on NumPy)
            probability = ((x * 0.5).tanh() + 1) * 0.5
            if pos_weight is None:
                grad_x = grad * (probability - t)
            else:
                log_weight = (pos_weight - 1) * t + 1
                grad_x = grad * (log_weight * probability - pos_weight * t)
        if need_t:
            grad_t = -grad * x
            if pos_weight is not None:
                grad_t = grad_t - grad * (pos_weight - 1) * x.logsigmoid()
        if need_pw:
            grad_pw = -grad * t * x.logsigmoid()
        return grad_x, grad_t, grad_pw


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    """Binary cross entropy of sigmoid(input), computed stably from the logits; pos_weight
    scales the positive term and broadcasts along the target (one value per class)."""
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(op, reduction, size_average, reduce)
    _floating(op, "input", input)
    _tensor(op, "target", target)
    _same_shape(op, input, target)
    x, t, _, _ = binary_operands(op, input, target)
    xp = xp_of(x)
    # softplus(-x) = -logsigmoid(x) = max(-x, 0) + log1p(exp(-|x|)): no overflow
    softplus = xp.abs(x)
    xp.negative(softplus, out=softplus)
    xp.exp(softplus, out=softplus)
    xp.log1p(softplus, out=softplus)
    if pos_weight is None:
        # (1 - t) x + softplus(-x) = max(x, 0) - t x + log1p(exp(-|x|))
        loss = xp.clip(x, 0, math.inf)  # max(x, 0); a two-sided clip is faster on NumPy
        loss -= t * x
        loss += softplus
    else:
        _tensor(op, "pos_weight", pos_weight)
        try:
            np.broadcast_shapes(pos_weight._data.shape, t.shape)
        except ValueError:
            raise RuntimeError(f"{op}: pos_weight of shape {shape_str(pos_weight._data.shape)} "
                               f"cannot be broadcast to the target's shape {shape_str(t.shape)}"
                               "; give one value per class (the last dimension)") from None
        softplus += xp.maximum(-x, 0)
        loss = (1 - t) * x + (1 + (pos_weight._data - 1) * t) * softplus
    inputs = (input, target, pos_weight)
    node = BinaryCrossEntropyWithLogitsBackward0
    if weight is None:
        return _pointwise_loss(node, loss, inputs, reduction)
    return _weighted(op, _pointwise_loss(node, loss, inputs, "none"), weight, reduction, t.shape)


# ------------------------------------------------------------------ distributions

def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence target * (log(target) - input), with input given as
    log-probabilities (and target too, with log_target=True). reduction='batchmean' divides
    the sum by the batch size: the true KL divergence; 'mean' divides by every element."""
    op = "kl_div"
    _floating(op, "input", input)
    _floating(op, "target", target)
    if size_average is not None or reduce is not None:
        reduced_as = _reduction(op, reduction, size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch "
                          "size and the support size. 'batchmean' divides only by the batch "
                          "size, and aligns with the KL div math definition. 'mean' will be "
                          "changed to behave the same as 'batchmean' in the next major release.",
                          UserWarning, stacklevel=2)
        allowed = _REDUCTIONS + ("batchmean",)
        reduced_as = _reduction(op, reduction, allowed=allowed)
        if reduced_as == "batchmean":
            reduced_as = "sum"
    _broadcastable(op, input, target, warn=False)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # target * log(target), 0 where target is 0 (xlogy); log(1) keeps the gradient finite
        safe = where(target == 0, 1.0, target)
        loss = target * safe.log() - target * input
    out = _reduce(loss, reduced_as)
    if reduction == "batchmean" and input.ndim:
        out = out / input._data.shape[0]
    return out


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Negative log likelihood of target under Poisson(rate): exp(input) - target * input for
    a log-rate input, or input - target * log(input + eps); full adds Stirling's term."""
    op = "poisson_nll_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _floating(op, "input", input)
    _tensor(op, "target", target)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        # target log(target) - target + log(2 pi target) / 2, only where target > 1
        above = target > 1
        safe = where(above, target, 1.0)
        stirling = safe * safe.log() - safe + 0.5 * (2 * math.pi * safe).log()
        loss = loss + where(above, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log likelihood of target under Normal(input, var): (log(var) + (input -
    target)**2 / var) / 2, with var clamped at eps (the clamp passes gradients straight
    through, as PyTorch's no-grad clamp does). var may have the input's shape, one dimension
    less, a single mismatching dimension of size 1, or be a number."""
    op = "gaussian_nll_loss"
    _floating(op, "input", input)
    _tensor(op, "target", target)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError(f"{op}: var has negative entry/entries ({var})")
        var = input.new_full(input.shape, float(var))
    else:
        _tensor(op, "var", var)
        if bool((var._data < 0).any()):
            raise ValueError(f"{op}: var has negative entry/entries")
        var = _gaussian_var_shape(op, input, var)
    reduction = _reduction(op, reduction)
    clamped = var.detach().clamp_min(eps)
    var = var + (clamped - var.detach())  # the clamped value, with var's gradient
    loss = 0.5 * (var.log() + (input - target).square() / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def _gaussian_var_shape(op, input, var):
    ishape, vshape = input._data.shape, var._data.shape
    if vshape == ishape:
        return var
    if ishape[:-1] == vshape:  # one variance per row: broadcast it along the last dim
        return var.unsqueeze(-1)
    if len(ishape) == len(vshape) and sum(v for i, v in zip(ishape, vshape) if i != v) == 1:
        return var
    raise ValueError(f"{op}: var is of incorrect size: got {shape_str(vshape)} for an input of "
                     f"shape {shape_str(ishape)}; expected the input's shape, the input's shape "
                     "without its last dimension, or one dimension of size 1")


# ------------------------------------------------------------------ margins and embeddings

def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where target is 1; max(0, cos(x1, x2) - margin) where it is -1."""
    op = "cosine_embedding_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    for name, t in (("input1", input1), ("input2", input2)):
        _floating(op, name, t)
    _tensor(op, "target", target)
    dim = target.ndim
    if dim > 1:
        raise RuntimeError(f"{op}: 0D or 1D target tensor expected, multi-target not supported "
                           f"(got target of shape {shape_str(target.shape)})")
    expected = 2 if dim == 1 else 1
    if input1.ndim != expected or input2.ndim != expected:
        raise RuntimeError(f"{op}: {dim}D target tensor expects {expected}D input tensors, but "
                           f"found inputs with shapes {shape_str(input1.shape)} and "
                           f"{shape_str(input2.shape)}")
    eps = 1e-12  # PyTorch's EPSILON, keeping the norms of zero vectors finite
    products = (input1 * input2).sum(dim)
    squares1 = (input1 * input1).sum(dim) + eps
    squares2 = (input2 * input2).sum(dim) + eps
    cos = products / (squares1 * squares2).sqrt()
    loss = where(target == 1, 1 - cos, 0.0) + where(target == -1, (cos - margin).clamp_min(0),
                                                    0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -target * (input1 - input2) + margin): input1 should rank higher where target
    is 1, lower where it is -1."""
    op = "margin_ranking_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        _tensor(op, name, t)
    if not input1.ndim == input2.ndim == target.ndim:
        raise RuntimeError(f"{op}: all input tensors should have the same number of dimensions "
                           f"but got shapes input1: {shape_str(input1.shape)}, input2: "
                           f"{shape_str(input2.shape)}, target: {shape_str(target.shape)}")
    loss = (-target * (input1 - input2) + margin).clamp_min(0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """input where target is 1, max(0, margin - input) where it is -1."""
    op = "hinge_embedding_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _floating(op, "input", input)
    _tensor(op, "target", target)
    loss = (where(target != 1, (margin - input).clamp_min(0), 0.0)
            + where(target != -1, input, 0.0))
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), the logistic loss for targets of 1 and -1."""
    op = "soft_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _floating(op, "input", input)
    _tensor(op, "target", target)
    _broadcastable(op, input, target, warn=False)
    return _reduce((-target * input).softplus(), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Per sample, the mean over classes of the binary logistic loss of each class (input
    (N, C) or (C,), target 0/1 of the same shape)."""
    op = "multilabel_soft_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _floating(op, "input", input)
    _tensor(op, "target", target)
    loss = -(target * input.logsigmoid() + (1 - target) * (-input).logsigmoid())
    if weight is not None:
        loss = loss * _tensor(op, "weight", weight)
    class_dim = input.ndim - 1
    loss = loss.sum(class_dim) / input._data.shape[class_dim]
    return _reduce(loss, reduction)


def _margin_input(op, input, target, target_shape_of):
    """Check (C,) or (N, C) input and an int64 target; returns (input, target, unbatched)
    with a batch dimension."""
    _floating(op, "input", input)
    _tensor(op, "target", target)
    if input.ndim not in (1, 2) or input._data.shape[-1] == 0:
        raise RuntimeError(f"{op}: expected a non-empty input of shape (C,) or (N, C), got "
                           f"{shape_str(input.shape)}")
    expected = target_shape_of(input._data.shape)
    if target._data.shape != expected or target._data.dtype != np.int64:
        raise RuntimeError(f"{op}: expected target of shape {shape_str(expected)} with class "
                           f"indices (int64), got {shape_str(target.shape)} "
                           f"({target.dtype.name}) for an input of shape "
                           f"{shape_str(input.shape)}")
    unbatched = input.ndim == 1
    if unbatched:
        input = input.unsqueeze(0)
        target = _wrap(target._data.reshape(1, -1) if target.ndim else target._data.reshape(1))
    return input, target, unbatched


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge loss: per sample, sum over classes c != y of
    max(0, margin - x[y] + x[c])**p (times weight[y]), divided by C."""
    op = "multi_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    if p not in (1, 2):
        raise ValueError(f"{op}: only p == 1 and p == 2 supported, got p={p}")
    if weight is not None and _tensor(op, "weight", weight).ndim != 1:
        raise ValueError(f"{op}: weight must be one-dimensional, got shape "
                         f"{shape_str(weight.shape)}")
    input, target, unbatched = _margin_input(
        op, input, target, lambda shape: () if len(shape) == 1 else shape[:1])
    n_classes = input._data.shape[1]
    t = target._data
    xp = xp_of(t)
    if t.size and (int(t.min()) < 0 or int(t.max()) >= n_classes):
        value = int(t[(t < 0) | (t >= n_classes)][0])
        raise IndexError(f"{op}: target {value} is out of bounds: class indices must be in "
                         f"[0, {n_classes}) for an input of shape {shape_str(input.shape)}")
    if weight is not None and weight._data.shape[0] != n_classes:
        raise RuntimeError(f"{op}: weight must hold one value for each of the {n_classes} "
                           f"classes, got shape {shape_str(weight.shape)}")
    column = target.unsqueeze(1)
    hinge = (margin - input.gather(1, column) + input).clamp_min(0)
    if p == 2:
        hinge = hinge.square()
    others = xp.ones(input._data.shape, input._data.dtype)
    others[xp.arange(t.shape[0]), t] = 0  # the target class itself does not count
    hinge = hinge * _wrap(others)
    if weight is not None:
        hinge = hinge * weight.gather(0, target).unsqueeze(1)
    loss = hinge.sum(1) / n_classes
    if unbatched:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Multi-label hinge loss: target row n lists the sample's classes, ended by the first -1;
    the loss sums max(0, 1 - (x[j] - x[k])) over listed classes j and unlisted classes k,
    divided by C."""
    op = "multilabel_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    input, target, unbatched = _margin_input(op, input, target, lambda shape: shape)
    n_classes = input._data.shape[1]
    t = target._data
    xp = xp_of(t)
    listed = xp.cumsum(t == -1, axis=1) == 0  # entries before the first -1
    bad = listed & ((t < 0) | (t >= n_classes))
    if bool(bad.any()):
        raise IndexError(f"{op}: target {int(t[bad][0])} is out of bounds: class indices must "
                         f"be in [0, {n_classes}), with -1 ending each row's list")
    t = xp.where(listed, t, 0)
    is_target = xp.zeros(input._data.shape, bool)
    rows = xp.broadcast_to(xp.arange(t.shape[0])[:, None], t.shape)
    is_target[rows[listed], t[listed]] = True
    pairs = listed[:, :, None] & ~is_target[:, None, :]  # (listed entry j, unlisted class k)
    picked = input.gather(1, _wrap(t))
    hinge = (1 - picked.unsqueeze(2) + input.unsqueeze(1)).clamp_min(0)
    loss = (hinge * _wrap(pairs.astype(input._data.dtype))).sum((1, 2)) / n_classes
    if unbatched:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def _check_triplet(op, margin, anchor, positive, negative):
    if margin <= 0:
        raise ValueError(f"{op}: margin must be greater than 0, got {margin}")
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        _tensor(op, name, t)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(f"{op}: the anchor, positive, and negative tensors are expected to "
                           f"have the same number of dimensions, but got: anchor "
                           f"{anchor.ndim}D, positive {positive.ndim}D, and negative "
                           f"{negative.ndim}D inputs")


def _triplet(distance, anchor, positive, negative, margin, swap, reduction):
    positive_distance = distance(anchor, positive)
    negative_distance = distance(anchor, negative)
    if swap:  # the positive's distance to the negative, where it is the smaller one
        negative_distance = negative_distance.minimum(distance(positive, negative))
    loss = (margin + positive_distance - negative_distance).clamp_min(0)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with the p-norm distance
    (of the difference plus eps); swap uses d(positive, negative) when it is smaller."""
    op = "triplet_margin_loss"
    reduction = _reduction(op, reduction, size_average, reduce)
    _check_triplet(op, margin, anchor, positive, negative)

    def distance(x1, x2):
        return pairwise_distance(x1, x2, p, eps)

    return _triplet(distance, anchor, positive, negative, margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """triplet_margin_loss with any distance_function(x1, x2) (pairwise_distance by
    default)."""
    op = "triplet_margin_with_distance_loss"
    reduction = _reduction(op, reduction)
    _check_triplet(op, margin, anchor, positive, negative)
    distance = pairwise_distance if distance_function is None else distance_function
    return _triplet(distance, anchor, positive, negative, margin, swap, reduction)


# ------------------------------------------------------------------ ctc_loss

def _lengths(op, name, value, batch):
    """input_lengths / target_lengths (a tensor, a sequence or an int) as an int64 array."""
    data = value._data if isinstance(value, Tensor) else np.asarray(value)
    if data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: {name} must hold integers, got dtype {data.dtype}")
    data = np.asarray(data.get() if hasattr(data, "get") else data, dtype=np.int64).reshape(-1)
    if data.shape != (batch,):
        raise RuntimeError(f"{op}: {name} must have one length for each of the {batch} "
                           f"sequences, got {data.size}")
    return data


def _padded_targets(op, targets, target_lengths, batch):
    """Targets as an (N, S) array, from the padded (N, S) or the concatenated 1-d form."""
    t = targets._data
    t = np.asarray(t.get() if hasattr(t, "get") else t, dtype=np.int64)
    longest = int(target_lengths.max()) if batch else 0
    if t.ndim == 2:
        if t.shape[0] != batch or t.shape[1] < longest:
            raise RuntimeError(f"{op}: padded targets of shape {shape_str(t.shape)} must be "
                               f"({batch}, S) with S at least the longest target length "
                               f"{longest}")
        return t[:, :longest]
    if t.ndim != 1 or t.size != int(target_lengths.sum()):
        raise RuntimeError(f"{op}: targets must be (N, S) padded, or 1-d concatenated with "
                           f"sum(target_lengths) = {int(target_lengths.sum())} elements; got "
                           f"shape {shape_str(t.shape)}")
    padded = np.zeros((batch, longest), np.int64)
    starts = np.concatenate(([0], np.cumsum(target_lengths)[:-1]))
    for n, (start, length) in enumerate(zip(starts, target_lengths)):
        padded[n, :length] = t[start:start + length]
    return padded


def _log_add(*terms):
    """log(sum(exp(terms))), elementwise and stable (all -inf gives -inf)."""
    xp = xp_of(terms[0])
    top = terms[0]
    for term in terms[1:]:
        top = xp.maximum(top, term)
    safe = xp.where(xp.isfinite(top), top, 0)
    total = sum(xp.exp(term - safe) for term in terms)
    with _quiet(xp):
        return xp.log(total) + safe


class _CtcLattice:
    """The CTC alignment lattice of a batch: each target with blanks around and between its
    labels (length 2 S + 1), the log probability of each lattice node at each time step, and
    where a skip over a blank is allowed (between two different labels)."""

    def __init__(self, lp, padded, input_lengths, target_lengths, blank):
        xp = xp_of(lp)
        batch, longest = padded.shape
        size = 2 * longest + 1
        labels = np.full((batch, size), blank, np.int64)
        labels[:, 1::2] = padded
        skip = np.zeros((batch, size), bool)
        skip[:, 3::2] = padded[:, 1:] != padded[:, :-1]
        self.labels, self.size = xp.asarray(labels), size
        self.skip = xp.asarray(skip)
        self.ends = xp.asarray(2 * target_lengths)  # the last node: the final blank
        self.input_lengths = xp.asarray(input_lengths)
        rows = xp.arange(batch)[:, None]
        self.node_lp = lp[:, rows, self.labels]  # (T, N, L)
        self.rows = xp.arange(batch)

    def forward(self):
        """log alpha (T, N, L) and the negative log likelihood of each sequence."""
        node_lp = self.node_lp
        xp = xp_of(node_lp)
        steps = node_lp.shape[0]
        minus_inf = xp.full(node_lp.shape[1:], -math.inf, node_lp.dtype)
        alpha = minus_inf.copy()
        alpha[:, :2] = node_lp[0, :, :2]
        alpha[:, 1] = xp.where(self.ends > 0, alpha[:, 1], -math.inf)
        alphas = xp.empty_like(node_lp)
        alphas[0] = alpha
        for t in range(1, steps):
            stay = alpha
            step = xp.concatenate([minus_inf[:, :1], alpha[:, :-1]], axis=1)
            jump = xp.concatenate([minus_inf[:, :2], alpha[:, :-2]], axis=1)
            jump = xp.where(self.skip, jump, -math.inf)
            new = _log_add(stay, step, jump) + node_lp[t]
            alpha = xp.where((t < self.input_lengths)[:, None], new, alpha)
            alphas[t] = alpha
        last = alpha[self.rows, self.ends]
        before = xp.where(self.ends > 0, alpha[self.rows, xp.maximum(self.ends - 1, 0)],
                          -math.inf)
        return alphas, -_log_add(last, before)

    def backward(self):
        """log beta (T, N, L): the log probability of finishing from each node at each time
        (counting that node's own probability, as alpha does)."""
        node_lp = self.node_lp
        xp = xp_of(node_lp)
        steps, batch, size = node_lp.shape
        minus_inf = xp.full((batch, size), -math.inf, node_lp.dtype)
        positions = xp.arange(size)[None, :]
        finals = (positions == self.ends[:, None]) | (positions == self.ends[:, None] - 1)
        beta = minus_inf
        betas = xp.empty_like(node_lp)
        skip_from = xp.concatenate([self.skip[:, 2:], xp.zeros((batch, 2), bool)], axis=1)
        for t in range(steps - 1, -1, -1):
            step = xp.concatenate([beta[:, 1:], minus_inf[:, :1]], axis=1)
            jump = xp.concatenate([beta[:, 2:], minus_inf[:, :2]], axis=1)
            jump = xp.where(skip_from, jump, -math.inf)
            new = _log_add(beta, step, jump) + node_lp[t]
            start = xp.where(finals, node_lp[t], -math.inf)
            last_step = (t == self.input_lengths - 1)[:, None]
            beta = xp.where(last_step, start, xp.where((t < self.input_lengths)[:, None],
                                                        new, -math.inf))
            betas[t] = beta
        return betas


class CtcLossBackward0(Node):
    """PyTorch's CTC gradient for log_probs: exp(lp) - (the probability that an alignment
    passes through class c at time t), per sequence; 0 past each input length. (The exp(lp)
    term vanishes through log_softmax, whose outputs log_probs are meant to be.)"""

    def backward(self, grad):
        lp, lattice, alphas, nll = self.saved_tensors
        if _state.grad_enabled:
            raise NotImplementedError("ctc_loss: the second derivative (create_graph=True) is "
                                      "not implemented (nor in PyTorch)")
        data = lp._data
        xp = xp_of(data)
        log_ab = alphas + lattice.backward()  # (T, N, L)
        top = log_ab.max(axis=2, keepdims=True)
        top = xp.where(xp.isfinite(top), top, 0)
        weights = xp.exp(log_ab - top)
        onehot = (lattice.labels[:, :, None] == xp.arange(data.shape[2])).astype(data.dtype)
        # summed per class: (N, T, L) @ (N, L, C), one batched matrix product
        through = xp.matmul(weights.transpose(1, 0, 2), onehot).transpose(1, 0, 2)
        with _quiet(xp):
            occupancy = through * xp.exp(top + nll[None, :, None] - data)
            out = xp.exp(data) - occupancy
        active = xp.arange(data.shape[0])[:, None] < lattice.input_lengths[None, :]
        keep = active[:, :, None]
        if self.zero_infinity:
            keep = keep & xp.isfinite(nll)[None, :, None]
        out = xp.where(keep, out, 0).astype(data.dtype, copy=False)
        scale = self._sequence_grad(grad._data, xp).astype(data.dtype, copy=False)
        return _wrap(out * scale[None, :, None])

    def _sequence_grad(self, g, xp):
        """The incoming gradient per sequence (N,)."""
        batch = self.target_lengths.shape[0]
        if self.reduction == "none":
            return g.reshape(batch)
        g = xp.broadcast_to(g, (batch,))
        if self.reduction == "mean":
            return g / (xp.maximum(xp.asarray(self.target_lengths), 1) * batch)
        return g


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist Temporal Classification loss: the negative log probability of each
    target sequence, summed over every alignment of it to the inputs (with blanks).

    log_probs (T, N, C) (or (T, C) for one sequence) are log-softmax outputs; targets are
    padded (N, S) or concatenated 1-d; 'mean' divides each loss by its target length first.
    """
    op = "ctc_loss"
    reduction = _reduction(op, reduction)
    _floating(op, "log_probs", log_probs)
    _tensor(op, "targets", targets)
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = _wrap(targets._data.reshape(1, -1))
    if log_probs.ndim != 3:
        raise RuntimeError(f"{op}: expected log_probs of shape (T, N, C) or (T, C), got "
                           f"{shape_str(log_probs.shape)}")
    steps, batch, n_classes = log_probs._data.shape
    input_lengths = _lengths(op, "input_lengths", input_lengths, batch)
    target_lengths = _lengths(op, "target_lengths", target_lengths, batch)
    if batch and (input_lengths.max() > steps or input_lengths.min() < 0):
        raise RuntimeError(f"{op}: input_lengths must be in [0, {steps}] (T, the length of "
                           f"log_probs), got {input_lengths.tolist()}")
    if not 0 <= blank < n_classes:
        raise RuntimeError(f"{op}: blank={blank} must be a class index in [0, {n_classes})")
    padded = _padded_targets(op, targets, target_lengths, batch)
    inside = np.arange(padded.shape[1]) < target_lengths[:, None]  # not padding
    bad = inside & ((padded < 0) | (padded >= n_classes))
    if bad.any():
        raise IndexError(f"{op}: target label {padded[bad][0]} is out of bounds: labels must "
                         f"be in [0, {n_classes})")
    padded = np.where(inside, padded, blank)
    data = log_probs._data
    lattice = _CtcLattice(data, padded, input_lengths, target_lengths, blank)
    alphas, nll = lattice.forward()
    losses = nll
    if zero_infinity:
        losses = xp_of(nll).where(xp_of(nll).isinf(nll), 0, nll)
    if reduction == "mean":
        per_label = losses / xp_of(nll).asarray(np.maximum(target_lengths, 1))
        value = per_label.mean() if batch else xp_of(nll).full((), math.nan, data.dtype)
    elif reduction == "sum":
        value = losses.sum()
    else:
        value = losses.reshape(()) if unbatched else losses
    out = _wrap(xp_of(data).asarray(value, dtype=data.dtype))
    if log_probs._rg and _state.grad_enabled:
        node = record(CtcLossBackward0, (log_probs,), out,
                      saved=(log_probs, lattice, alphas, nll))
        node.reduction, node.zero_infinity = reduction, zero_infinity
        node.target_lengths = target_lengths
    return out
