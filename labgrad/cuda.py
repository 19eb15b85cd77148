"""labgrad.cuda: what is available on NVIDIA GPUs. Every query answers without raising where
CuPy or a GPU is missing."""
from __future__ import annotations

from . import backend


def _runtime():
    """CuPy's CUDA runtime, or None where CuPy is missing or has no usable driver."""
    try:
        cp = backend.cupy()
        cp.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - any failure means "no GPU" here
        return None
    return cp.cuda.runtime


def is_available() -> bool:
    return device_count() > 0


def device_count() -> int:
    runtime = _runtime()
    if runtime is None:
        return 0
    try:
        return runtime.getDeviceCount()
    except Exception:  # noqa: BLE001
        return 0


def current_device() -> int:
    _require("current_device")
    return backend.cupy().cuda.runtime.getDevice()


def set_device(device) -> None:
    from .device import as_device
    _require("set_device")
    backend.cupy().cuda.Device(as_device(device).index or 0).use()


def synchronize(device=None) -> None:
    _require("synchronize")
    backend.cupy().cuda.Device().synchronize()


def manual_seed(seed) -> None:
    from .random import _cuda_generators, _generator_for
    from .device import device as _device
    if is_available():
        for index in range(device_count()):
            _generator_for(_device("cuda", index), None).manual_seed(seed)
    for gen in _cuda_generators.values():
        gen.manual_seed(seed)


manual_seed_all = manual_seed


def _require(op):
    if not is_available():
        raise RuntimeError(f"labgrad.cuda.{op}: no CUDA GPU is available (needs CuPy and an "
                           "NVIDIA GPU)")
