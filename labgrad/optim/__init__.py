"""labgrad.optim, as torch.optim."""
from __future__ import annotations
