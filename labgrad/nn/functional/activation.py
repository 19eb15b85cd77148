"""Activation functions and softmax, as torch.nn.functional has them."""
from __future__ import annotations

from ...ops.activations import (celu, elu, gelu, hardsigmoid, hardswish, hardtanh,  # noqa: F401
                                leaky_relu, logsigmoid, mish, relu6, selu, silu, softplus,
                                softsign, tanhshrink)
from ...ops.activations import relu as _relu
from ...ops.pointwise import sigmoid, tanh  # noqa: F401
from ...ops.softmax import log_softmax, softmax  # noqa: F401

__all__ = ["celu", "elu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "leaky_relu",
           "logsigmoid", "mish", "relu", "relu6", "selu", "silu", "softplus", "softsign",
           "tanhshrink", "sigmoid", "tanh", "log_softmax", "softmax"]


def relu(input, inplace=False):
    return input.relu_() if inplace else _relu(input)
