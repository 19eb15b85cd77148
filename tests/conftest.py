"""Shared test setup: markers for optional dependencies, and their clean skips."""
from __future__ import annotations

import importlib.util
import os

import pytest
from hypothesis import settings

# In CI, hypothesis draws the same examples every run: a red build then means a change broke
# something, not that a new random example turned up (run locally to explore).
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

HAS_TORCH = importlib.util.find_spec("torch") is not None


def _cuda_available():
    try:
        import labgrad
        return labgrad.cuda.is_available()
    except Exception:  # noqa: BLE001
        return False


def pytest_collection_modifyitems(config, items):
    skip_torch = pytest.mark.skip(reason="needs PyTorch (pip install torch) as the reference")
    skip_cuda = pytest.mark.skip(reason="needs CuPy and an NVIDIA GPU")
    cuda = None
    for item in items:
        if "torch" in item.keywords and not HAS_TORCH:
            item.add_marker(skip_torch)
        if "cuda" in item.keywords:
            cuda = _cuda_available() if cuda is None else cuda
            if not cuda:
                item.add_marker(skip_cuda)


@pytest.fixture
def torch():
    """The PyTorch module, for tests marked `torch` (skipped where it is not installed)."""
    return pytest.importorskip("torch", reason="needs PyTorch as the reference")
