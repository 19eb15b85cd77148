"""labgrad.cuda: what is available on NVIDIA GPUs. The queries (is_available, device_count)
answer without raising where CuPy or a GPU is missing; everything else raises a RuntimeError
that says what is missing."""
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


def _why_unavailable() -> str:
    try:
        backend.cupy()
    except RuntimeError as error:
        return str(error)
    return "CuPy is installed, but it finds no CUDA GPU (no device, or no driver)"


def check_device(dev, op: str) -> None:
    """Raise a clear RuntimeError unless `dev` (a CUDA device) can be used."""
    count = device_count()
    if count == 0:
        raise RuntimeError(f"{op}: cannot use device '{dev}': no CUDA GPU is available. "
                           f"{_why_unavailable()}.")
    if dev.index is not None and dev.index >= count:
        raise RuntimeError(f"{op}: cannot use device '{dev}': this machine has {count} CUDA "
                           f"device{'s' if count != 1 else ''} (valid indices 0 to {count - 1})")


def current_device() -> int:
    _require("current_device")
    return backend.cupy().cuda.runtime.getDevice()


def set_device(device) -> None:
    from .device import as_device
    _require("set_device")
    dev = as_device(device)
    check_device(dev, "set_device")
    backend.cupy().cuda.Device(dev.index or 0).use()


def get_device_name(device=None) -> str:
    from .device import as_device
    _require("get_device_name")
    index = current_device() if device is None else as_device(device).index or 0
    props = backend.cupy().cuda.runtime.getDeviceProperties(index)
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else name


def synchronize(device=None) -> None:
    _require("synchronize")
    backend.cupy().cuda.Device().synchronize()


def manual_seed(seed) -> None:
    """Seed the generator of every CUDA device (a no-op without a GPU, as in PyTorch)."""
    from .device import device as _device
    from .random import _check_seed, _cuda_generators, _generator_for
    seed = _check_seed(seed)
    if is_available():
        for index in range(device_count()):
            _generator_for(_device("cuda", index), None).manual_seed(seed)
    for gen in _cuda_generators.values():
        gen.manual_seed(seed)


manual_seed_all = manual_seed


def _require(op):
    if not is_available():
        raise RuntimeError(f"labgrad.cuda.{op}: no CUDA GPU is available. "
                           f"{_why_unavailable()}.")
