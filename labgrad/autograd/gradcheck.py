"""gradcheck and gradgradcheck: compare analytic gradients with finite differences."""
from __future__ import annotations

import numpy as np

from ..backend import xp_of
from . import grad_mode


class GradcheckError(RuntimeError):
    """Analytic and numerical gradients disagree (the message names the worst element)."""


def _outputs_tuple(out):
    return out if isinstance(out, (tuple, list)) else (out,)


def _differentiable_outputs(func, inputs):
    with grad_mode.enable_grad():
        return [o for o in _outputs_tuple(func(*inputs)) if o is not None and o._rg]


def _host64(array):
    """An array as a flat float64 NumPy array (copied from the GPU where it lives there)."""
    if type(array) is not np.ndarray:
        array = array.get()
    return array.astype(np.float64).ravel()


def _numerical_jacobians(func, inputs, eps):
    """For each input requiring grad: d(outputs)/d(input) by central differences, float64."""
    from ..tensor import Tensor
    jacobians = []
    with grad_mode.no_grad():
        for t in inputs:
            if not (isinstance(t, Tensor) and t._rg):
                jacobians.append(None)
                continue
            original_data = t._data
            if not original_data.flags.c_contiguous:
                t._data = original_data.copy()  # so that the flat view below aliases t
            flat = t._data.reshape(-1)  # a view: perturbing it changes t
            columns = []
            try:
                for j in range(flat.size):
                    original = flat[j].item()
                    flat[j] = original + eps
                    plus = [_host64(o._data) for o in _outputs_tuple(func(*inputs))
                            if isinstance(o, Tensor)]
                    flat[j] = original - eps
                    minus = [_host64(o._data) for o in _outputs_tuple(func(*inputs))
                             if isinstance(o, Tensor)]
                    flat[j] = original
                    columns.append(np.concatenate([(p - m) / (2 * eps)
                                                   for p, m in zip(plus, minus)]))
            finally:
                t._data = original_data
            jacobians.append(np.stack(columns, axis=1) if columns else np.zeros((0, 0)))
    return jacobians


def _analytic_jacobians(func, inputs):
    """For each input requiring grad: the Jacobian built row by row with autograd.grad."""
    from ..tensor import Tensor
    from . import grad as autograd_grad
    targets = [t for t in inputs if isinstance(t, Tensor) and t._rg]
    with grad_mode.enable_grad():
        outputs = [o for o in _outputs_tuple(func(*inputs)) if isinstance(o, Tensor)]
    sizes = [o._data.size for o in outputs]
    rows = {id(t): [] for t in targets}
    for k, out in enumerate(outputs):
        for i in range(sizes[k]):
            if not out._rg:
                for t in targets:
                    rows[id(t)].append(np.zeros(t._data.size))
                continue
            seed = xp_of(out._data).zeros(out._data.shape, dtype=out._data.dtype)
            seed.reshape(-1)[i] = 1
            grads = autograd_grad([out], targets, [Tensor._wrap(seed)], retain_graph=True,
                                  allow_unused=True)
            for t, g in zip(targets, grads):
                rows[id(t)].append(np.zeros(t._data.size) if g is None
                                   else _host64(g._data))
    result = []
    for t in inputs:
        if isinstance(t, Tensor) and t._rg:
            r = rows[id(t)]
            result.append(np.stack(r) if r else np.zeros((0, t._data.size)))
        else:
            result.append(None)
    return result


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              **_ignored) -> bool:
    """True when func's analytic gradients match central finite differences.

    Use float64 inputs: in float32 the finite differences themselves are too noisy.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    for i, t in enumerate(inputs):
        if getattr(t, "_rg", False) and t._data.dtype != np.float64:
            import warnings
            warnings.warn(f"gradcheck: input {i} is {t.dtype}, not float64; the check may fail "
                          "from rounding alone", stacklevel=2)
    numerical = _numerical_jacobians(func, inputs, eps)
    analytic = _analytic_jacobians(func, inputs)
    for i, (num, ana) in enumerate(zip(numerical, analytic)):
        if num is None:
            continue
        if num.shape != ana.shape:
            ana = ana.reshape(num.shape) if ana.size == num.size else ana
        error = np.abs(num - ana) - (atol + rtol * np.abs(num))
        if error.size and error.max() > 0:
            out_idx, in_idx = np.unravel_index(np.argmax(error), error.shape)
            message = (f"gradcheck: Jacobian mismatch for input {i} (shape "
                       f"{tuple(inputs[i].shape)}): at output element {out_idx}, input element "
                       f"{in_idx}, numerical {num[out_idx, in_idx]:.6g} vs analytic "
                       f"{ana[out_idx, in_idx]:.6g} (atol={atol}, rtol={rtol})")
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **_ignored) -> bool:
    """gradcheck of the gradients themselves (second derivatives through create_graph)."""
    from ..tensor import Tensor
    from . import grad as autograd_grad
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if grad_outputs is None:
        outputs = _differentiable_outputs(func, inputs)
        rng = np.random.default_rng(0)
        grad_outputs = [Tensor._wrap(rng.standard_normal(o._data.shape)) for o in outputs]
        for g in grad_outputs:
            g._rg = True
    grad_outputs = list(grad_outputs)

    def first_grads(*args):
        ins, gos = args[:len(inputs)], args[len(inputs):]
        outs = _differentiable_outputs(func, ins)
        ts = [t for t in ins if isinstance(t, Tensor) and t._rg]
        return autograd_grad(outs, ts, list(gos), create_graph=True, allow_unused=True)

    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
