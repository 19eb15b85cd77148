"""Whole-function derivatives, as torch.autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp.

Each takes a function of tensors and the point to differentiate it at:

    def f(x, y):
        return x * y.sum()

    jacobian(f, (x, y))          # ((d f/d x, d f/d y),) shaped out.shape + in.shape
    vjp(f, (x, y), v)            # (f(x, y), v^T J): one backward pass
    jvp(f, (x, y), (dx, dy))     # (f(x, y), J v): two backward passes, see below

Everything is built on `autograd.grad`; nothing here knows about individual ops.

- Reverse mode gives v^T J directly. The Jacobian is built one output element at a time.
- Forward mode (J v) uses the "double-vjp trick": g(u) = u^T J is linear in u, so the
  gradient of g(u) . v with respect to u is J v. We take u as zeros that require grad and
  differentiate twice.
- Hessians are the Jacobian of the gradient (computed with create_graph=True); hvp and vhp use
  the same tricks one order higher.

As in PyTorch, results keep the structure they were given: a tuple of inputs gives a tuple of
results, a single tensor gives a single tensor. The inputs are detached first (they are never
modified), and results only require grad with ``create_graph=True``. An output that does not
depend on an input gets zeros for it, or an error with ``strict=True``.
"""
from __future__ import annotations

import labgrad  # used at call time only: this module loads while labgrad itself is loading
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]

_STRATEGIES = ("forward-mode", "reverse-mode")


# ------------------------------------------------------------------ structure helpers

def _as_tuple(value, what, fn):
    """(was it a tuple, the tensors as a tuple); anything but tensors is a TypeError."""
    is_tuple = isinstance(value, tuple)
    tensors = value if is_tuple else (value,)
    for i, t in enumerate(tensors):
        if not isinstance(t, labgrad.Tensor):
            where = f"the value at index {i}" if is_tuple else f"the given {what}"
            raise TypeError(f"{fn}: the {what} must be either a Tensor or a tuple of Tensors, "
                            f"but {where} has type {type(t).__name__}")
    return is_tuple, tensors


def _unpack(result, is_tuple):
    """Undo `_as_tuple`: a single tensor back from its one-tuple."""
    return result if is_tuple else result[0]


def _prepare(tensors, create_graph, need_graph):
    """New tensor objects for the function to see (so that it cannot confuse them with tensors
    it captured). With create_graph, tensors that require grad stay connected to their graph
    through a view; all others are detached, requiring grad only if `need_graph`."""
    prepared = []
    for t in tensors:
        if create_graph and t.requires_grad:
            prepared.append(t.view_as(t))
        else:
            prepared.append(t.detach().requires_grad_(need_graph))
    return tuple(prepared)


def _finish(tensors, create_graph):
    """Detach results (nested tuples included), unless the caller asked for a graph."""
    if create_graph:
        return tensors
    return tuple(t.detach() if isinstance(t, labgrad.Tensor) else _finish(t, False)
                 for t in tensors)


def _check_v(fn, v, like, like_is_tuple):
    """v must hold one tensor of the same shape for each tensor of `like`."""
    if len(v) != len(like):
        if like_is_tuple:
            raise RuntimeError(f"{fn}: v is a tuple of invalid length: should be {len(like)} "
                               f"but got {len(v)}")
        raise RuntimeError(f"{fn}: the given v should contain a single Tensor")
    for i, (vi, li) in enumerate(zip(v, like)):
        if vi.shape != li.shape:
            entry = f"entry {i} in " if like_is_tuple else ""
            raise RuntimeError(f"{fn}: {entry}v has invalid size: should be {tuple(li.shape)} "
                               f"but got {tuple(vi.shape)}")


def _prepare_v(fn, v, like, like_is_tuple, create_graph, default_ok_for):
    """Validate v against `like` (the tensors it pairs with); None is allowed only when `like`
    is a single one-element tensor, and then means 1."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(f"{fn}: the vector v can only be None if {default_ok_for} is a "
                               "single Tensor with a single element")
        return None
    v = _prepare(_as_tuple(v, "v", fn)[1], create_graph, need_graph=False)
    _check_v(fn, v, like, like_is_tuple)
    return v


# ------------------------------------------------------------------ gradient helpers

def _check_outputs(outputs, strict):
    if strict:
        for i, out in enumerate(outputs):
            if not out.requires_grad:
                raise RuntimeError(
                    f"Output {i} of the user-provided function does not require gradients. "
                    "The outputs must be computed in a differentiable manner from the input "
                    "when running in strict mode.")


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad that skips outputs that are None or do not require grad, and gives None
    for each input nothing depends on."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    used_outputs, used_grads = zip(*pairs)
    return labgrad.autograd.grad(list(used_outputs), list(inputs), list(used_grads),
                          retain_graph=retain_graph, create_graph=create_graph,
                          allow_unused=True)


def _zeros_for_none(grads, refs, strict, create_graph, independent_of):
    """Replace None gradients by zeros shaped like `refs`, or raise in strict mode.

    `independent_of(i)` names what was found independent of what, for the error message.
    """
    result = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{independent_of(i)}. This is not allowed in strict mode.")
            g = labgrad.zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            raise RuntimeError(f"{independent_of(i)}. This is not allowed in strict mode when "
                               "create_graph=True.")
        result.append(g)
    return tuple(result)


def _single_element_output(fn, outputs, is_outputs_tuple):
    """hessian, vhp and hvp need a function that returns one tensor with one element."""
    if is_outputs_tuple:
        raise RuntimeError(f"The function given to {fn} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn} should contain "
                           f"a single element, but it has shape {tuple(outputs[0].shape)}")


def _check_jacobian(jac, strict, fn):
    """In strict mode, the gradient must itself depend on the inputs (for second derivatives)."""
    if strict:
        for i, g in enumerate(jac):
            if g is None or not g.requires_grad:
                raise RuntimeError(
                    f"{fn}: the jacobian of the user-provided function with respect to input {i} "
                    "is independent of the input. This is not allowed in strict mode; make sure "
                    "the function is twice differentiable and its jacobian depends on the "
                    "inputs (a linear function does not, for example).")


# ------------------------------------------------------------------ vjp and jvp

def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), v^T J): the vector-Jacobian product at `inputs`, by one backward pass.

    `v` has the shape of func's output(s); it may be left out when func returns a single
    one-element tensor. The product has the shape of the inputs.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                              "function", "vjp")
        _check_outputs(outputs, strict)
        v = _prepare_v("vjp", v, outputs, is_outputs_tuple, create_graph,
                       "the user-provided function returns")

    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _grad(outputs, inputs, v, create_graph=create_graph)
        result = _zeros_for_none(grads, inputs, strict, create_graph, lambda i: (
            f"The output of the user-provided function is independent of input {i}"))

    return (_unpack(_finish(outputs, create_graph), is_outputs_tuple),
            _unpack(_finish(result, create_graph), is_inputs_tuple))


def _jvp(func, inputs, v, create_graph, strict):
    """jvp on prepared tuples: (is_outputs_tuple, outputs, J v), not yet detached."""
    with enable_grad():
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                              "function", "jvp")
        _check_outputs(outputs, strict)
        # u^T J is linear in u, so any finite u will do: zeros that require grad
        u = tuple(labgrad.zeros_like(out, requires_grad=True) for out in outputs)
        u_t_jacobian = _grad(outputs, inputs, u, create_graph=True)
        if strict:
            for i, g in enumerate(u_t_jacobian):
                if g is None or not g.requires_grad:
                    raise RuntimeError(
                        f"The gradient with respect to input {i} is independent of the inputs "
                        "of the user-provided function. This is not allowed in strict mode.")

    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _grad(u_t_jacobian, u, v, create_graph=create_graph)
        result = _zeros_for_none(grads, outputs, strict, create_graph, lambda i: (
            f"The gradient with respect to the input is independent of entry {i} in the "
            "grad_outputs when using the double backward trick to compute forward mode "
            "gradients"))
    return is_outputs_tuple, outputs, result


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), J v): the Jacobian-vector product at `inputs`.

    `v` has the shape of the inputs; it may be left out when the input is a single
    one-element tensor. The product has the shape of func's output(s). Computed with the
    double-vjp trick (two backward passes), as PyTorch's version is.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prepare_v("jvp", v, inputs, is_inputs_tuple, create_graph,
                       "the input to the user-provided function")
    is_outputs_tuple, outputs, result = _jvp(func, inputs, v, create_graph, strict)
    return (_unpack(_finish(outputs, create_graph), is_outputs_tuple),
            _unpack(_finish(result, create_graph), is_outputs_tuple))


# ------------------------------------------------------------------ jacobian and hessian

def _jacobian_reverse(outputs, inputs, create_graph, strict):
    """One row at a time: the gradient of each output element with respect to every input."""
    jacobian = []
    for i, out in enumerate(outputs):
        rows = [[] for _ in inputs]
        flat = out.reshape(-1)
        for k in range(out.numel()):
            grads = _grad((flat[k],), inputs, create_graph=create_graph, retain_graph=True)
            grads = _zeros_for_none(grads, inputs, strict, create_graph, lambda j: (
                f"Output {i} of the user-provided function is independent of input {j}"))
            for row, g in zip(rows, grads):
                row.append(g)
        jacobian.append(tuple(_assemble(row, out, inp, dim=0) for row, inp in zip(rows, inputs)))
    return tuple(jacobian)


def _assemble(pieces, out, inp, dim):
    """Stack the rows (dim=0) or columns (dim=-1) of one block into out.shape + inp.shape."""
    shape = tuple(out.shape) + tuple(inp.shape)
    if not pieces:  # an empty output or input
        return labgrad.zeros(shape, dtype=inp.dtype, device=inp.device)
    return labgrad.stack(pieces, dim=dim).reshape(shape)


def _jacobian_forward(func, inputs, create_graph, strict):
    """One column at a time: a jvp with each basis vector of each input."""
    if create_graph:
        raise NotImplementedError(
            'jacobian: create_graph=True and strategy="forward-mode" are not supported '
            'together; set create_graph=False or use strategy="reverse-mode"')
    if strict:
        raise RuntimeError(
            'jacobian: strict=True and strategy="forward-mode" are not supported together; '
            'set strict=False or use strategy="reverse-mode"')
    inputs = _prepare(inputs, create_graph=False, need_graph=True)
    with no_grad():  # one plain call, for the number and shapes of the outputs
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                              "function", "jacobian")
    # columns[i][j]: the columns of d output i / d input j
    columns = [[[] for _ in inputs] for _ in outputs]
    for j, inp in enumerate(inputs):
        basis = labgrad.eye(inp.numel(), dtype=inp.dtype, device=inp.device)
        for k in range(inp.numel()):
            v = tuple(basis[k].reshape(inp.shape) if m == j else labgrad.zeros_like(other)
                      for m, other in enumerate(inputs))
            _, _, jv = _jvp(func, inputs, v, create_graph=False, strict=False)
            for i, column in enumerate(jv):
                columns[i][j].append(column)
    jacobian = tuple(tuple(_assemble(columns[i][j], out, inp, dim=-1)
                           for j, inp in enumerate(inputs))
                     for i, out in enumerate(outputs))
    return is_outputs_tuple, outputs, jacobian


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of func at `inputs`: block [i][j] has shape outputs[i].shape +
    inputs[j].shape.

    The result nests as func's outputs and inputs do: a tuple over outputs (if func returns a
    tuple) of tuples over inputs (if `inputs` is a tuple), each level unwrapped for a single
    tensor. ``vectorize=True`` is accepted for compatibility; the Jacobian is still computed
    row by row (or column by column with ``strategy="forward-mode"``, through `jvp`).
    """
    if strategy not in _STRATEGIES:
        raise ValueError(f'jacobian: strategy must be "forward-mode" or "reverse-mode", got '
                         f'{strategy!r} ("forward-mode" is faster when func has more outputs '
                         'than inputs)')
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if strategy == "forward-mode":
        is_outputs_tuple, _, result = _jacobian_forward(func, inputs, create_graph, strict)
        return _nested_unpack(_finish(result, False), is_outputs_tuple, is_inputs_tuple)

    with enable_grad():
        inputs = _prepare(inputs, create_graph, need_graph=True)
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                              "function", "jacobian")
        _check_outputs(outputs, strict)
        if vectorize and strict:
            raise RuntimeError("jacobian: strict=True and vectorize=True are not supported "
                               "together (as in PyTorch); set strict=False or vectorize=False")
        result = _jacobian_reverse(outputs, inputs, create_graph, strict)
    return _nested_unpack(_finish(result, create_graph), is_outputs_tuple, is_inputs_tuple)


def _nested_unpack(result, is_outer_tuple, is_inner_tuple):
    """Unwrap a tuple of tuples: the inner level unless it was a tuple, then the outer."""
    if not is_inner_tuple:
        result = tuple(inner[0] for inner in result)
    return result if is_outer_tuple else result[0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar function at `inputs`: block [i][j] has shape inputs[i].shape +
    inputs[j].shape (a tuple of tuples for a tuple of inputs, one tensor for one input).

    It is the Jacobian of the gradient; the gradient is always taken in reverse mode, the
    outer Jacobian as `outer_jacobian_strategy` says.
    """
    if outer_jacobian_strategy not in _STRATEGIES:
        raise ValueError(f'hessian: outer_jacobian_strategy must be "forward-mode" or '
                         f'"reverse-mode", got {outer_jacobian_strategy!r}')
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar_func(*inp):
        is_out_tuple, out = _as_tuple(func(*inp), "outputs of the user-provided function",
                                      "hessian")
        _check_outputs(out, strict)
        _single_element_output("hessian", out, is_out_tuple)
        return out[0].squeeze()

    def gradient(*inp):
        jac = jacobian(scalar_func, inp, create_graph=True)
        _check_jacobian(jac, strict, "hessian")
        return jac

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _nested_unpack(result, is_inputs_tuple, is_inputs_tuple)


# ------------------------------------------------------------------ vhp and hvp

def _gradient_of_scalar(fn, func, inputs, v, create_graph, strict):
    """Shared start of vhp and hvp: prepared inputs and v, the output, and its gradient
    (with a graph, to differentiate it again)."""
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", fn)
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _prepare_v(fn, v, inputs, is_inputs_tuple, create_graph,
                       "the input to the user-provided function")
        is_outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided "
                                              "function", fn)
        _check_outputs(outputs, strict)
        _single_element_output(fn, outputs, is_outputs_tuple)
        jac = _grad(outputs, inputs, create_graph=True)
        _check_jacobian(jac, strict, fn)
    return is_inputs_tuple, inputs, v, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), v^T H): the vector-Hessian product of a scalar function at `inputs`.

    `v` has the shape of the inputs (it may be left out for a single one-element input), and
    so does the product. One backward pass through the gradient.
    """
    is_inputs_tuple, inputs, v, outputs, jac = _gradient_of_scalar(
        "vhp", func, inputs, v, create_graph, strict)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _grad(jac, inputs, v, create_graph=create_graph)
        result = _zeros_for_none(grads, inputs, strict, create_graph, lambda i: (
            f"The jacobian of the user-provided function is independent of input {i}"))
    return (_finish(outputs, create_graph)[0],
            _unpack(_finish(result, create_graph), is_inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), H v): the Hessian-vector product of a scalar function at `inputs`.

    Equal to vhp's result when the function is twice continuously differentiable (H is then
    symmetric), but computed with the double-vjp trick, so vhp is cheaper.
    """
    is_inputs_tuple, inputs, v, outputs, jac = _gradient_of_scalar(
        "hvp", func, inputs, v, create_graph, strict)
    with enable_grad():
        u = tuple(labgrad.zeros_like(inp, requires_grad=True) for inp in inputs)
        u_t_hessian = _grad(jac, inputs, u, create_graph=True)
    with set_grad_enabled(create_graph or is_grad_enabled()):
        grads = _grad(u_t_hessian, u, v, create_graph=create_graph)
        result = _zeros_for_none(grads, inputs, strict, create_graph, lambda i: (
            f"The hessian of the user-provided function is independent of entry {i} in the "
            "grad_jacobian (needed by the double backward trick)"))
    return (_finish(outputs, create_graph)[0],
            _unpack(_finish(result, create_graph), is_inputs_tuple))
