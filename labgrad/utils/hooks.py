"""The handle every ``register_*hook`` returns, as ``torch.utils.hooks.RemovableHandle``."""
from __future__ import annotations

import itertools
import weakref

_ids = itertools.count()


class RemovableHandle:
    """Removes the hook it was returned for, by ``remove()`` or on leaving a ``with`` block.

    The hook lives in ``hooks_dict`` (and, with ``extra_dict``, under the same id in those
    dicts too), keyed by this handle's ``id``. The handle holds the dicts weakly where it can,
    so a forgotten handle keeps neither the hooks nor what they refer to alive.
    """

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.id = next(_ids)
        self.hooks_dict_ref = _ref(hooks_dict)
        if extra_dict is None:
            extra_dict = ()
        elif isinstance(extra_dict, dict):
            extra_dict = (extra_dict,)
        self.extra_dict_ref = tuple(_ref(d) for d in extra_dict)

    def remove(self) -> None:
        """Remove the hook; removing it again does nothing."""
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            hooks = ref()
            if hooks is not None:
                hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        self.remove()

    def __repr__(self):
        return f"<RemovableHandle id={self.id}>"


def _ref(container):
    """A weak reference to `container` where it allows one (a plain dict does not)."""
    try:
        return weakref.ref(container)
    except TypeError:
        return lambda: container
