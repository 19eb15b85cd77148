"""Flatten parameters into one vector and back, as torch.nn.utils.parameters_to_vector and
vector_to_parameters."""
from __future__ import annotations

from ...ops.joining import cat
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_same_device(params) -> None:
    devices = {str(p.device) for p in params}
    if len(devices) > 1:
        raise TypeError(f"Found two parameters on different devices ({', '.join(sorted(devices))}"
                        "), this is currently not supported; move the model to one device.")


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    _check_same_device(params)
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Make the parameters hold consecutive slices of the 1-D `vec` (each reshaped to its
    parameter's shape); the parameters then share `vec`'s memory, as in PyTorch."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected labgrad.Tensor, but got: {type(vec).__name__}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    _check_same_device(params)
    total = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() < total:
        raise RuntimeError(f"vector_to_parameters: expected a 1-D vector of at least {total} "
                           f"elements (the parameters' total size), got shape "
                           f"{tuple(vec.shape)}")
    pointer = 0
    for param in params:
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
