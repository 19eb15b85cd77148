"""A few image transforms named as torchvision.transforms, working on tensors (labgrad has no
PIL): ``Compose``, ``ToTensor``, ``Normalize`` and ``Lambda``.

Example::

    from labgrad.datasets import MNIST, transforms
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = MNIST("data", train=True, transform=tf, download=True)
"""
from __future__ import annotations

import numpy as np

from .. import dtypes as _dt
from ..creation import as_tensor, tensor
from ..tensor import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda"]


class Compose:
    """Apply transforms one after another."""

    def __init__(self, transforms) -> None:
        self.transforms = list(transforms)

    def __call__(self, image):
        for transform in self.transforms:
            image = transform(image)
        return image

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class ToTensor:
    """An image to a float32 tensor (C, H, W): uint8 values are scaled to [0, 1].

    Takes what the datasets here give, a tensor (H, W) or (C, H, W), or a NumPy array
    (H, W) or (H, W, C) as torchvision's ToTensor does (the channels move to the front).
    """

    def __call__(self, image):
        if isinstance(image, np.ndarray):
            array = image[:, :, None] if image.ndim == 2 else image
            if array.ndim != 3:
                raise ValueError(f"ToTensor: expected an array (H, W) or (H, W, C), got shape "
                                 f"{image.shape}")
            image = as_tensor(np.ascontiguousarray(array.transpose(2, 0, 1)))
        elif not isinstance(image, Tensor):
            raise TypeError(f"ToTensor: expected a labgrad tensor or a NumPy array, got "
                            f"{type(image).__name__} (labgrad has no PIL support)")
        if image.ndim == 2:
            image = image.unsqueeze(0)
        if image.ndim != 3:
            raise ValueError(f"ToTensor: expected an image (H, W) or (C, H, W), got shape "
                             f"{tuple(image.shape)}")
        if image.dtype is _dt.uint8:
            return image.to(_dt.float32) / 255
        return image.to(_dt.float32)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize:
    """(image - mean) / std per channel, for a float tensor (C, H, W) (or a batch of them)."""

    def __init__(self, mean, std, inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, image):
        if not isinstance(image, Tensor) or not image.dtype.is_floating_point:
            kind = image.dtype if isinstance(image, Tensor) else type(image).__name__
            raise TypeError(f"Normalize: expected a float tensor (C, H, W), got {kind}; apply "
                            "ToTensor() first")
        mean = tensor(self.mean, dtype=image.dtype, device=image.device).reshape(-1, 1, 1)
        std = tensor(self.std, dtype=image.dtype, device=image.device).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(f"Normalize: std evaluated to zero after conversion to "
                             f"{image.dtype}, leading to division by zero.")
        if self.inplace:
            return image.sub_(mean).div_(std)
        return (image - mean) / std

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class Lambda:
    """Any function as a transform."""

    def __init__(self, lambd) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, image):
        return self.lambd(image)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
