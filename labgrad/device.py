"""Device objects: where a tensor's memory lives ('cpu', 'cuda', 'cuda:N')."""
from __future__ import annotations

_TYPES = ("cpu", "cuda")


class device:
    """A place for tensors, as torch.device: ``device('cuda:1')``, ``device('cuda', 1)``.

    Like torch.device it compares by type and index, so ``device('cuda') != device('cuda:0')``
    and ``device('cpu') != device('cpu:0')``, and never equals a string.
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's parameter name
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device: pass either a device or (type, index), not both")
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = _accelerator_ordinal(type)
        elif not isinstance(type, str):
            raise TypeError(f"device: expected a string, a device or an int, got "
                            f"{builtin_type(type).__name__}")
        elif ":" in type:
            if index is not None:
                raise RuntimeError(f"device: type (string) must not include an index because "
                                   f"index was passed explicitly: {type}")
            type, index = _parse(type)
        if type not in _TYPES:
            raise RuntimeError(f"device: expected one of {', '.join(_TYPES)} device type at "
                               f"start of device string: {type}")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"device: index must be an int, got {index!r}")
            if index < 0:
                raise RuntimeError(f"device: device index must not be negative, got {index}")
        self.type = type
        self.index = index

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __reduce__(self):
        return (device, (self.type, self.index))


builtin_type = type


def _parse(text: str):
    """'cuda:1' as ('cuda', 1); an index with a sign, spaces or leading zeros is refused, as
    PyTorch refuses it."""
    kind, _, idx = text.partition(":")
    if not idx.isdigit() or not idx.isascii() or (len(idx) > 1 and idx[0] == "0"):
        raise RuntimeError(f"device: invalid device string: {text!r}")
    return kind, int(idx)


def _accelerator_ordinal(index: int):
    """device(0): PyTorch reads a bare int as an index on the accelerator (here: CUDA)."""
    from . import cuda
    if not cuda.is_available():
        raise RuntimeError(f"device({index}): an int names an accelerator device, and none is "
                           "available (no CUDA GPU); use device('cpu')")
    return "cuda", index


CPU = device("cpu")


def as_device(value) -> device:
    """A device from a device, a string like 'cuda:0', an int (a CUDA ordinal) or None (cpu)."""
    if value is None:
        return CPU
    if type(value) is device:
        return value
    if isinstance(value, str) and value == "cpu":
        return CPU
    if isinstance(value, int) and not isinstance(value, bool):
        return device("cuda", value)
    return device(value)
