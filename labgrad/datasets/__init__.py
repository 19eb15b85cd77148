"""labgrad.datasets: MNIST, FashionMNIST and CIFAR-10 (torchvision's constructors, read from
their original files, no PIL and no pickle), the scikit-learn 8x8 digits, and small synthetic
datasets made from a seed. ``labgrad.datasets.transforms`` has ToTensor, Normalize, Compose and
Lambda for the tensors these datasets return.
"""
from __future__ import annotations

from . import transforms
from .cifar import CIFAR10
from .digits import Digits, load_digits
from .mnist import MNIST, FashionMNIST
from .synthetic import MarkerTokens, Moons, SineRegression, Spirals

__all__ = ["CIFAR10", "Digits", "FashionMNIST", "MNIST", "MarkerTokens", "Moons",
           "SineRegression", "Spirals", "load_digits", "transforms"]
