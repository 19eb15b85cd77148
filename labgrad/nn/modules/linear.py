"""Linear layers, as torch.nn: Identity, Linear, Bilinear, LazyLinear."""
from __future__ import annotations

import math

from ... import creation
from .. import init
from ..functional.linear import _linear, bilinear
from ..parameter import Parameter
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear", "LazyLinear"]


class Identity(Module):
    """Returns its input unchanged; accepts and ignores any constructor arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b over the last dim: (*, in_features) -> (*, out_features).

    weight (out_features, in_features) and bias (out_features,) start uniform in
    (-1/sqrt(in_features), 1/sqrt(in_features)), as in PyTorch.
    """

    __constants__ = ["in_features", "out_features"]

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty((out_features, in_features), device=device,
                                               dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # kaiming_uniform_ with a=sqrt(5) gives bound 1/sqrt(fan_in), as PyTorch's default
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return _linear(input, self.weight, self.bias, self)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """y_k = x1^T A_k x2 + b_k: (*, in1_features), (*, in2_features) -> (*, out_features).

    weight (out_features, in1_features, in2_features) and bias start uniform in
    (-1/sqrt(in1_features), 1/sqrt(in1_features)), as in PyTorch.
    """

    __constants__ = ["in1_features", "in2_features", "out_features"]

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty((out_features, in1_features, in2_features),
                                               device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class LazyLinear(Linear):
    """A Linear whose in_features is taken from the first input it sees; its weight is an
    empty (uninitialized) parameter until then, and it becomes a plain Linear after."""

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        Module.__init__(self)
        self.in_features = 0
        self.out_features = out_features
        self._factory = {"device": device, "dtype": dtype}
        self.weight = Parameter(creation.empty(0, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(creation.empty(0, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)

    def has_uninitialized_params(self):
        return self.in_features == 0

    def reset_parameters(self):
        if not self.has_uninitialized_params():
            super().reset_parameters()

    def initialize_parameters(self, input):
        """Make weight (out_features, input.shape[-1]) and bias, and initialize them."""
        if not self.has_uninitialized_params():
            return
        self.in_features = input.shape[-1]
        shape = (self.out_features, self.in_features)
        self.weight = Parameter(creation.empty(shape, **self._factory))
        if self.bias is not None:
            self.bias = Parameter(creation.empty(self.out_features, **self._factory))
        self.reset_parameters()
        del self._factory
        self.__class__ = Linear  # as PyTorch's cls_to_become

    def forward(self, input):
        self.initialize_parameters(input)
        return Linear.forward(self, input)
