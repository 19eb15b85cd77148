"""The Tensor: one backend array plus its autograd state.

Ops and most methods live in `labgrad.ops` and are bound onto the class in
`labgrad._tensor_methods`; this module holds what is intrinsic to a tensor: its attributes,
conversions, and the bookkeeping of versions and views.
"""
from __future__ import annotations

import numpy as np

from . import backend
from . import dtypes as _dt
from .autograd import grad_mode
from .device import CPU, as_device

_ndarray = np.ndarray


class Size(tuple):
    """A tensor's shape: a tuple of ints, as torch.Size."""

    def __repr__(self):
        return f"labgrad.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
    """An n-dimensional array on a device, recording the ops that made it when asked to."""

    # Class-level defaults keep creating a tensor cheap: an instance stores only what differs.
    _rg = False  # requires grad (leaves: set by the user; results: set when a node is recorded)
    grad = None
    grad_fn = None
    _output_nr = 0
    _vc = None  # version counter [n], shared with views; created on first need
    _base = None  # the tensor this one is a view of
    _accumulator_ref = None
    _retains_grad = False

    __array_priority__ = 1000  # NumPy defers binary operators to the tensor's reflected ones
    __array_ufunc__ = None

    def __init__(self, data=None, *, dtype=None, device=None, requires_grad=False):
        from .creation import tensor as _make_tensor
        made = _make_tensor([] if data is None else data, dtype=dtype, device=device)
        self._data = made._data
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, data):
        """A tensor around a backend array, without copying or checking (for ops)."""
        t = object.__new__(cls)
        if type(data) is not _ndarray and not isinstance(data, backend.ARRAY_TYPES):
            data = np.asarray(data)  # ops on 0-d arrays return NumPy scalars
        t._data = data
        return t

    # ------------------------------------------------------------ attributes

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim("size", dim, self._data.ndim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    @property
    def dtype(self) -> _dt.dtype:
        return _dt.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        if type(self._data) is _ndarray:
            return CPU
        return backend.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return type(self._data) is not _ndarray

    @property
    def is_cpu(self) -> bool:
        return type(self._data) is _ndarray

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f" or self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return False

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def stride(self, dim=None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_wrap_dim("stride", dim, self._data.ndim)]

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        if type(self._data) is _ndarray:
            return self._data.__array_interface__["data"][0]
        return self._data.data.ptr

    # ------------------------------------------------------------ autograd state

    @property
    def requires_grad(self) -> bool:
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self.grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "requires_grad: you can only change requires_grad flags of leaf tensors. To "
                    "use a computed tensor without gradients, use t.detach().")
            return
        if value and self._data.dtype.kind not in "fc" and not self.dtype.is_floating_point:
            raise RuntimeError(f"requires_grad: only tensors of floating point dtype can require "
                               f"gradients, not {self.dtype}")
        self._rg = value

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def _version(self) -> int:
        return self._vc[0] if self._vc is not None else 0

    def _bump_version(self):
        if self._vc is None:
            self._vc = [1]
        else:
            self._vc[0] += 1

    def _as_view_of(self, base: Tensor) -> Tensor:
        """Mark self as a view of `base`: same memory, same version counter."""
        if base._vc is None:
            base._vc = [0]
        self._vc = base._vc
        self._base = base if base._base is None else base._base
        return self

    def detach(self) -> Tensor:
        """A tensor sharing memory and version counter, outside any graph."""
        return Tensor._wrap(self._data)._as_view_of(self)

    def detach_(self) -> Tensor:
        if self._base is not None and self._base._rg:
            raise RuntimeError("detach_: cannot detach a view of a tensor that requires grad in "
                               "place; use detach() instead")
        self.grad_fn = None
        self._rg = False
        self._output_nr = 0
        return self

    @property
    def data(self) -> Tensor:
        """The values without autograd: shares memory, but not the version counter."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: Tensor):
        if not isinstance(value, Tensor):
            raise TypeError(f"data: expected a Tensor, got {type(value).__name__}")
        self._data = value._data

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor with respect to the graph's leaves."""
        from .autograd import backward
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph,
                 inputs=inputs)

    def _accumulate_nonleaf_grad(self, g):
        """backward(inputs=[t]) for a non-leaf t: accumulate into t.grad, as for a leaf."""
        g = g.detach() if not grad_mode.state.grad_enabled else g
        self.grad = g if self.grad is None else self.grad + g

    # ------------------------------------------------------------ conversion

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self._data.size} elements cannot be "
                               "converted to a Python number")
        value = self._data.item() if self._data.ndim == 0 else self._data.reshape(()).item()
        kind = self._data.dtype.kind
        if kind in "fV" or (kind not in "biu" and not isinstance(value, (int, float, bool))):
            return float(value)
        return value

    def tolist(self):
        data = self._data
        if data.dtype.kind not in "biuf":  # extension floats such as bfloat16
            data = data.astype(np.float32)
        if type(data) is not _ndarray:
            data = data.get()
        return data.tolist()

    def numpy(self, *, force=False):
        if not force:
            if self._rg:
                raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad. "
                                   "Use tensor.detach().numpy() instead.")
            if type(self._data) is not _ndarray:
                raise TypeError(f"numpy: can't convert a {self.device} tensor to NumPy. Use "
                                "tensor.cpu() to copy it to host memory first.")
            return self._data
        data = self._data if type(self._data) is _ndarray else self._data.get()
        return data

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __dlpack__(self, *args, **kwargs):
        if self._rg:
            raise RuntimeError("__dlpack__: can't export a tensor that requires grad; detach it "
                               "first")
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def to(self, *args, **kwargs):
        """Convert dtype and/or device: ``to(dtype)``, ``to(device, dtype=None)``, ``to(other)``."""
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to: unexpected keyword arguments {sorted(kwargs)}")
        for arg in args:
            if isinstance(arg, Tensor):
                device, dtype = arg.device, arg.dtype
            elif isinstance(arg, _dt.dtype) or (arg in (float, int, bool)):
                dtype = arg
            elif isinstance(arg, (str, int)) or type(arg).__name__ == "device":
                if isinstance(arg, str) and arg.replace("torch.", "") in _dt._BY_NAME:
                    dtype = arg
                else:
                    device = arg
            elif isinstance(arg, bool):
                pass  # legacy positional non_blocking
            else:
                raise TypeError(f"to: cannot convert to {arg!r}")
        from .ops.conversion import convert
        return convert(self, None if dtype is None else _dt.to_dtype(dtype),
                       None if device is None else as_device(device), copy)

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return f"labgrad.{_LEGACY_NAMES.get(self.dtype.name, 'Tensor')}"
        if isinstance(dtype, str) and dtype.rsplit(".", 1)[-1] in _LEGACY_TYPES:
            dtype = _LEGACY_TYPES[dtype.rsplit(".", 1)[-1]]
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def float(self):
        return self.to(_dt.float32)

    def double(self):
        return self.to(_dt.float64)

    def half(self):
        return self.to(_dt.float16)

    def bfloat16(self):
        if _dt.bfloat16 is None:
            raise RuntimeError("bfloat16: needs the ml_dtypes package (pip install ml_dtypes)")
        return self.to(_dt.bfloat16)

    def long(self):
        return self.to(_dt.int64)

    def int(self):
        return self.to(_dt.int32)

    def short(self):
        return self.to(_dt.int16)

    def char(self):
        return self.to(_dt.int8)

    def byte(self):
        return self.to(_dt.uint8)

    def bool(self):
        return self.to(_dt.bool)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None, non_blocking=False):
        return self.to(as_device("cuda" if device is None else device))

    # ------------------------------------------------------------ Python protocol

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self._data.size} "
                               "elements is ambiguous; use .any() or .all()")
        return bool(self._data.reshape(()).item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "biu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return object.__format__(self, spec) if spec else repr(self)

    __hash__ = object.__hash__  # == is elementwise, so tensors hash by identity

    def __repr__(self):
        from ._formatting import tensor_repr
        return tensor_repr(self)

    def __reduce_ex__(self, protocol):  # copy.deepcopy and multiprocessing; never used on load
        return (_rebuild, (self.numpy(force=True).copy(), str(self.device), self._rg))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("deepcopy: only leaf tensors (created by the user) support "
                               "deepcopy; detach() it first")
        new = Tensor._wrap(self._data.copy())
        new._rg = self._rg
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new


def _rebuild(array, device, requires_grad):
    t = Tensor._wrap(backend.to_device(array, as_device(device)))
    t._rg = requires_grad
    return t


def _wrap_dim(op, dim, ndim):
    """A dim in [-ndim, ndim) as a non-negative index, or an error naming the op."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dimension {dim} is out of range for a tensor with {ndim} "
                         f"dimension{'s' if ndim != 1 else ''} (expected in "
                         f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}])")
    return dim % ndim if ndim else 0


_LEGACY_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "bfloat16": "BFloat16Tensor", "int64": "LongTensor", "int32": "IntTensor",
                 "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
                 "bool": "BoolTensor"}
_LEGACY_TYPES = {v: k for k, v in _LEGACY_NAMES.items()}
