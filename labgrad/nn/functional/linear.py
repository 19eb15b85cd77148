"""labgrad.nn.functional: linear."""
from __future__ import annotations

__all__: list = []
