"""labgrad.nn: sparse."""
from __future__ import annotations

__all__: list = []
