"""labgrad.nn: transformer."""
from __future__ import annotations

__all__: list = []
