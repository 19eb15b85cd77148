"""labgrad.nn.Parameter and labgrad.nn.Buffer, as torch.nn.Parameter and torch.nn.Buffer.

A Parameter is a Tensor that a Module registers as a learnable weight when it is assigned as an
attribute (``self.weight = nn.Parameter(t)``). It shares memory with the tensor it wraps and
requires grad by default. Ops on a Parameter return plain Tensors.

``nn.Buffer(t, persistent=True)`` marks a tensor so that assigning it as a Module attribute
registers it as a buffer (state that is not learned, e.g. BatchNorm's running mean).
"""
from __future__ import annotations

from ..tensor import Tensor

__all__ = ["Parameter", "Buffer"]


class Parameter(Tensor):
    """A Tensor that is a module parameter: ``Parameter(data=None, requires_grad=True)``.

    It shares `data`'s memory (no copy) and is a leaf of its own; ``data=None`` gives an
    empty tensor.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..creation import empty
            data = empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a Tensor as data, got {type(data).__name__}; "
                            "wrap the values with labgrad.tensor(...) first")
        param = Tensor._make_subclass(cls, data, requires_grad)
        if data._vc is None:  # share the version counter, as the detached tensor would
            data._vc = [0]
        param._vc = data._vc
        return param

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):  # copy and multiprocessing keep the class
        return (_rebuild_parameter, (super().__reduce_ex__(protocol), self._rg))


def _rebuild_parameter(reduced, requires_grad):
    rebuild, args = reduced
    return Parameter(rebuild(*args), requires_grad)


class _BufferMeta(type):
    """Makes ``isinstance(t, Buffer)`` true for the tensors `Buffer(...)` marked."""

    def __instancecheck__(cls, instance):
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A tensor that a Module registers as a buffer when assigned as an attribute:
    ``self.running_mean = nn.Buffer(labgrad.zeros(4), persistent=True)``.

    Returns a detached tensor sharing `data`'s memory (keeping its requires_grad), marked with
    ``persistent`` (whether it goes into the module's state_dict).
    """

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from ..creation import empty
            data = empty(0)
        elif not isinstance(data, Tensor):
            raise TypeError(f"Buffer: expected a Tensor as data, got {type(data).__name__}")
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t
