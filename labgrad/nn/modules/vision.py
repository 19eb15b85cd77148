"""labgrad.nn: vision."""
from __future__ import annotations

__all__: list = []
