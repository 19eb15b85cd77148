"""labgrad.nn.functional: activations and softmax, as torch.nn.functional."""
from __future__ import annotations

from ..ops.activations import (celu, elu, gelu, hardsigmoid, hardswish, hardtanh,  # noqa: F401
                               leaky_relu, logsigmoid, mish, relu6, selu, silu, softplus,
                               softsign, tanhshrink)
from ..ops.activations import relu as _relu
from ..ops.pointwise import sigmoid, tanh  # noqa: F401
from ..ops.softmax import log_softmax, softmax  # noqa: F401


def relu(input, inplace=False):
    return input.relu_() if inplace else _relu(input)
