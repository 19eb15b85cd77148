"""labgrad: a PyTorch-style deep-learning library on NumPy and CuPy, made to be watched in
notebooks. ``import labgrad as torch`` runs most PyTorch tensor code; see README.md."""
from __future__ import annotations

__version__ = "0.1.0"

from . import dtypes as _dtypes
from .autograd import (enable_grad, inference_mode, is_grad_enabled, no_grad,  # noqa: F401
                       set_grad_enabled)
from .autograd import is_anomaly_check_nan_enabled, is_anomaly_enabled  # noqa: F401
from .device import device  # noqa: F401
from .dtypes import (bfloat16, bool, can_cast, double, dtype, float, float16, float32,  # noqa: F401,A004
                     float64, get_default_dtype, half, int, int8, int16, int32, int64, long,
                     promote_types, set_default_dtype, short, uint8, uint16, uint32, uint64)
from .tensor import Size, Tensor  # noqa: F401
from ._formatting import get_printoptions, set_printoptions  # noqa: F401
from . import _tensor_methods  # noqa: F401,E402 - binds the ops onto Tensor
from . import autograd, cuda, nn  # noqa: F401,E402
from .creation import range  # noqa: F401,E402,A004 - PyTorch's deprecated range
from .creation import (arange, as_tensor, asarray, empty, empty_like, eye, from_dlpack,  # noqa: F401,E402
                       from_numpy, full, full_like, linspace, logspace, ones, ones_like,
                       scalar_tensor, tensor, zeros, zeros_like)
from .random import (Generator, bernoulli, default_generator, get_rng_state,  # noqa: F401,E402
                     initial_seed, manual_seed, multinomial, normal, poisson, rand, rand_like,
                     randint, randint_like, randn, randn_like, randperm, seed, set_rng_state)
from ._tensor_methods import _MODULES as _OP_MODULES  # noqa: E402


def _export_ops():
    """Every op is also a function here: labgrad.exp(x), labgrad.cat([...]), ..."""
    namespace = globals()
    for module in _OP_MODULES:
        for name in module.METHODS + getattr(module, "FUNCTIONS", ()):
            namespace.setdefault(name, getattr(module, name))


_export_ops()
from . import linalg  # noqa: E402,F401 - after the ops: labgrad.linalg.norm uses them
from . import events  # noqa: E402,F401 - public event hooks (labgrad/events.py)
from . import optim, utils  # noqa: E402,F401
from .serialization import load, save  # noqa: E402,F401


def result_type(tensor, other):
    """The dtype an op on `tensor` and `other` computes in (PyTorch's promotion rules)."""
    return _dtypes.result_type(tensor, other)


def is_tensor(obj) -> _dtypes.builtins.bool:
    return isinstance(obj, Tensor)


def numel(input) -> _dtypes.builtins.int:
    return input.numel()


def is_floating_point(input) -> _dtypes.builtins.bool:
    return input.is_floating_point()


def detach(input):
    return input.detach()
