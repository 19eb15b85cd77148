"""A progress bar one argument away: ``for x, y in progress(loader): ...``."""
from __future__ import annotations

import importlib.util
import warnings

__all__ = ["progress"]

_hinted = False


def progress(iterable, **tqdm_kwargs):
    """`iterable` with a progress bar, when tqdm is installed.

    Uses ``tqdm.auto.tqdm`` (a widget in Jupyter, text in a terminal) and passes it every
    keyword (``desc=``, ``total=``, ``leave=``, ``unit=`` ...). Without tqdm it returns the
    iterable unchanged and says once how to get the bar (``pip install tqdm``).

    Example::

        for epoch in range(3):
            for x, y in progress(loader, desc=f"epoch {epoch}"):
                ...
    """
    if importlib.util.find_spec("tqdm") is None:
        global _hinted
        if not _hinted:
            _hinted = True
            warnings.warn("progress: tqdm is not installed, so no progress bar is shown "
                          "(pip install tqdm)", stacklevel=2)
        return iterable
    from tqdm.auto import tqdm
    return tqdm(iterable, **tqdm_kwargs)
