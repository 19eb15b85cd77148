"""Automatic differentiation: backward() and grad(), grad modes, custom Functions, checks,
anomaly mode, and the graph introspection the notebook layer reads."""
from __future__ import annotations

from ..backend import xp_of
from .anomaly_mode import (detect_anomaly, is_anomaly_check_inf_enabled,
                           is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly)
from .engine import run_backward
from .function import Function, FunctionCtx
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .graph import Node, _plain_tensor
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .introspection import Graph, GraphNode, graph_of, record_graph
from . import functional  # noqa: F401 - labgrad.autograd.functional.jacobian(...)

__all__ = ["backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "Node", "gradcheck", "gradgradcheck", "GradcheckError", "Function",
           "FunctionCtx", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled", "is_anomaly_check_inf_enabled", "Graph", "GraphNode",
           "graph_of", "record_graph"]


def _as_list(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _initial_grads(op, outputs, grads):
    """One gradient per output: given ones are checked, missing ones are 1 for scalars."""
    grads = grads or [None] * len(outputs)
    if len(grads) != len(outputs):
        raise RuntimeError(f"{op}: got {len(grads)} gradients for {len(outputs)} outputs")
    result = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if not out._rg:
            raise RuntimeError(
                f"{op}: element {i} of the outputs does not require grad and has no grad_fn: "
                "nothing it was computed from requires grad (set requires_grad=True on the "
                "leaves, and compute outside no_grad())")
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs, but output "
                    f"{i} has shape {tuple(out.shape)}; pass a gradient of that shape (e.g. "
                    "labgrad.ones_like(out)), or reduce the output first (out.sum())")
            g = _plain_tensor(_ones_like(out._data))  # a plain tensor, even for a Parameter
        else:
            if not hasattr(g, "_data"):
                from ..creation import tensor
                g = tensor(g, dtype=out.dtype, device=out.device)
            if g._data.shape != out._data.shape:
                raise RuntimeError(f"{op}: mismatch in shape: gradient {i} has shape "
                                   f"{tuple(g.shape)} but output {i} has shape "
                                   f"{tuple(out.shape)}")
        result.append(g)
    return result


def _ones_like(array):
    return xp_of(array).ones_like(array)


def _check_inputs(op, inputs):
    for i, t in enumerate(inputs):
        if not getattr(t, "_rg", False):
            raise RuntimeError(f"{op}: input {i} does not require grad (only tensors that require "
                               "grad can be differentiated with respect to)")


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of `tensors` into the .grad of the leaves they depend on."""
    outputs = _as_list(tensors)
    grads = _initial_grads("backward", outputs, _as_list(grad_tensors))
    inputs = _as_list(inputs)
    if inputs is not None:
        if not inputs:
            raise RuntimeError("backward: 'inputs' was given but is empty; leave it out to "
                               "accumulate into every leaf")
        _check_inputs("backward", inputs)
    run_backward(outputs, grads, retain_graph=create_graph if retain_graph is None else
                 retain_graph, create_graph=create_graph, inputs=inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs`, returned (nothing accumulates).

    An input the outputs do not depend on is an error, unless ``allow_unused=True`` (its
    gradient is None) or ``materialize_grads=True`` (its gradient is zeros).
    """
    if materialize_grads and allow_unused is False:
        raise ValueError("grad: expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got allow_unused=False")
    outputs_list = _as_list(outputs)
    inputs_list = _as_list(inputs)
    if not inputs_list:
        raise RuntimeError("grad: 'inputs' is empty; pass the tensors to differentiate with "
                           "respect to")
    _check_inputs("grad", inputs_list)
    grads = _initial_grads("grad", outputs_list, _as_list(grad_outputs))
    result = run_backward(outputs_list, grads, retain_graph=create_graph if retain_graph is None
                          else retain_graph, create_graph=create_graph, inputs=inputs_list,
                          capture=True)
    for i, g in enumerate(result):
        if g is None:
            if materialize_grads:
                from ..creation import zeros_like
                result[i] = zeros_like(inputs_list[i])
            elif not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} was not used in the graph of the outputs; pass "
                    "allow_unused=True to get None for it (or materialize_grads=True for zeros)")
        elif not create_graph:
            result[i] = g.detach()
    return tuple(result)
