"""Device objects: where a tensor's memory lives ('cpu', 'cuda', 'cuda:N')."""
from __future__ import annotations


class device:
    """A place for tensors, as torch.device: ``device('cuda:1')``, ``device('cuda', 1)``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's parameter name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, str) and ":" in type:
            if index is not None:
                raise ValueError(f"device: {type!r} already names an index; got index={index} too")
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise ValueError(f"device: invalid device string {type + ':' + idx!r}")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise ValueError(f"device: expected 'cpu' or 'cuda[:N]', got {type!r}")
        if type == "cpu" and index not in (None, 0):
            raise ValueError(f"device: the cpu device has no index {index}")
        self.type = type
        self.index = None if type == "cpu" else index

    def __eq__(self, other):
        if isinstance(other, str):
            other = as_device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")


def as_device(value) -> device:
    """A device from a device, a string like 'cuda:0', an int (a CUDA ordinal) or None (cpu)."""
    if value is None:
        return CPU
    if isinstance(value, device):
        return value
    if isinstance(value, int):
        return device("cuda", value)
    if value == "cpu":
        return CPU
    return device(value)
