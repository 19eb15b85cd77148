"""labgrad.nn.functional: normalization."""
from __future__ import annotations

__all__: list = []
