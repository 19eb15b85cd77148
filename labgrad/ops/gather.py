"""Ops that pick or place values along one dim by an index tensor: gather, scatter,
scatter_add, take_along_dim."""
from __future__ import annotations

METHODS = ()
