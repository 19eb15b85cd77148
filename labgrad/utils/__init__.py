"""Utilities shared by the core, named as in ``torch.utils``; ``labgrad.utils.data`` holds
Dataset and DataLoader."""
from . import data  # noqa: F401 - torch.utils.data is reachable after `import torch`
