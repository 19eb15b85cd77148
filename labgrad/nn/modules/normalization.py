"""labgrad.nn: normalization."""
from __future__ import annotations

__all__: list = []
