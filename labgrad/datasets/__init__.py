"""labgrad.datasets: MNIST, FashionMNIST, CIFAR-10 and small offline datasets."""
from __future__ import annotations
