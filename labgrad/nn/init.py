"""labgrad.nn.init: weight initializations with PyTorch's fan and gain rules.

Every function fills a tensor in place under no_grad and returns it. The random ones draw
from labgrad's generators (``generator=`` or the default one), so ``labgrad.manual_seed(s)``
makes them reproducible; the fan and gain rules, bounds and standard deviations are
PyTorch's, so a model starts from the same distributions as in PyTorch.
"""
from __future__ import annotations

import math
import warnings

from ..autograd.grad_mode import no_grad
from ..backend import xp_of
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_", "sparse_", "uniform", "normal", "constant", "eye",
           "dirac", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal",
           "orthogonal", "sparse"]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
               "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (its nn.functional name): 1 for linear, conv
    and sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu
    (`param` is the negative slope, default 0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4  # found empirically (PyTorch PR 50664)
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel): in * kernel size and
    out * kernel size."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(tensor.shape)})")
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.size(1) * receptive_field, tensor.size(0) * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _no_elements(tensor) -> bool:
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """Fill with values drawn from U(a, b)."""
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """Fill with values drawn from N(mean, std^2)."""
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """Fill with values drawn from N(mean, std^2) truncated to [a, b].

    When [a, b] holds most of the mass, values outside are redrawn until none is left (fast,
    exact); otherwise uniform values between the CDF at a and at b are mapped back through the
    normal quantile (erfinv)."""
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)

    def cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    low, high = cdf((a - mean) / std), cdf((b - mean) / std)
    with no_grad():
        if high - low > 0.3:
            return _redraw_outside(tensor, mean, std, a, b, generator)
        tensor.uniform_(2 * low - 1, 2 * high - 1, generator=generator)
        tensor.erfinv_()
        tensor.mul_(std * math.sqrt(2.0))
        tensor.add_(mean)
        tensor.clamp_(min=a, max=b)  # rounding at the ends of erfinv's range
        return tensor


def _redraw_outside(tensor, mean, std, a, b, generator):
    """trunc_normal_ by rejection: normal values, those outside [a, b] drawn again."""
    tensor.normal_(mean, std, generator=generator)
    data = tensor._data
    outside = (data < a) | (data > b)
    while outside.any():
        count = int(outside.sum())
        draws = tensor.new_empty((count,)).normal_(mean, std, generator=generator)._data
        data[outside] = draws
        outside = (data < a) | (data > b)
    tensor._bump_version()
    return tensor


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with the value `val`."""
    with no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones."""
    with no_grad():
        return tensor.fill_(1.0)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros."""
    with no_grad():
        return tensor.zero_()


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the main diagonal)."""
    if tensor.dim() != 2:
        raise ValueError(f"eye_: Only tensors with 2 dimensions are supported (got shape "
                         f"{tuple(tensor.shape)})")
    xp = xp_of(tensor._data)
    with no_grad():
        return tensor.copy_(Tensor._wrap(xp.eye(*tensor.shape, dtype=tensor._data.dtype)))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3-, 4- or 5-D convolution weight with the Dirac delta: a convolution with it
    copies as many input channels as it can to its outputs (per group)."""
    dims = tensor.dim()
    if dims not in (3, 4, 5):
        raise ValueError(f"dirac_: Only tensors with 3, 4, or 5 dimensions are supported (got "
                         f"shape {tuple(tensor.shape)})")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError(f"dirac_: dim 0 must be divisible by groups (got {sizes[0]} and "
                         f"groups={groups})")
    per_group = sizes[0] // groups
    n = min(per_group, sizes[1])
    xp = xp_of(tensor._data)
    values = xp.zeros(tensor._data.shape, dtype=tensor._data.dtype)
    d = xp.arange(n)
    out_channels = (xp.arange(groups)[:, None] * per_group + d).ravel()
    in_channels = xp.tile(d, groups)
    centre = tuple(s // 2 for s in sizes[2:])
    values[(out_channels, in_channels) + centre] = 1
    with no_grad():
        return tensor.copy_(Tensor._wrap(values))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if _no_elements(tensor):
        return tensor
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if _no_elements(tensor):
        return tensor
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain from `nonlinearity` (`a` is
    leaky_relu's negative slope) and fan from `mode` ("fan_in" or "fan_out")."""
    if _no_elements(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """He normal: N(0, std^2) with std = gain / sqrt(fan) (see kaiming_uniform_)."""
    if _no_elements(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times `gain`: the Q of the QR decomposition of a
    normal matrix, with signs fixed so that Q is uniformly distributed. Dimensions after the
    first are flattened."""
    if tensor.dim() < 2:
        raise ValueError(f"orthogonal_: Only tensors with 2 or more dimensions are supported "
                         f"(got shape {tuple(tensor.shape)})")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.size(0)
    cols = tensor.numel() // rows
    flat = tensor.new_empty((rows, cols)).normal_(0, 1, generator=generator)._data
    if rows < cols:
        flat = flat.T
    xp = xp_of(flat)
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diagonal(r))  # the sign fix (Mezzadri 2007)
    if rows < cols:
        q = q.T
    with no_grad():
        tensor.copy_(Tensor._wrap(q.reshape(tensor._data.shape) * gain))
    return tensor


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """Fill a 2-D tensor with N(0, std^2) values, then zero ceil(sparsity * rows) randomly
    chosen entries in every column."""
    if tensor.dim() != 2:
        raise ValueError(f"sparse_: Only tensors with 2 dimensions are supported (got shape "
                         f"{tuple(tensor.shape)})")
    rows, _ = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    with no_grad():
        tensor.normal_(0, std, generator=generator)
        # an independent random permutation of the rows per column: rank of uniform keys
        keys = tensor.new_empty(tuple(tensor.shape)).uniform_(generator=generator)._data
        xp = xp_of(keys)
        ranks = xp.argsort(xp.argsort(keys, axis=0), axis=0)
        tensor.masked_fill_(Tensor._wrap(ranks < num_zeros), 0)
    return tensor


def _deprecated(new):
    """The old name without the trailing underscore, as PyTorch still has it."""
    old_name = new.__name__[:-1]

    def old(*args, **kwargs):
        warnings.warn(f"`nn.init.{old_name}` is now deprecated in favor of "
                      f"`nn.init.{new.__name__}`.", FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    old.__name__ = old.__qualname__ = old_name
    old.__doc__ = f"Deprecated: use `{new.__name__}`."
    return old


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
