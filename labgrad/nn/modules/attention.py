"""labgrad.nn: attention."""
from __future__ import annotations

__all__: list = []
