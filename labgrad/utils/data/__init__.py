"""labgrad.utils.data, as torch.utils.data."""
from __future__ import annotations
