"""The Tensor: one backend array plus its autograd state.

Ops and most methods live in `labgrad.ops` and are bound onto the class in
`labgrad._tensor_methods`; this module holds what is intrinsic to a tensor: its attributes,
conversions, and the bookkeeping of versions and views.
"""
from __future__ import annotations

import builtins
import math
import operator
import warnings

import numpy as np

from . import backend
from . import dtypes as _dt
from .autograd.graph import accumulator_of, add_retain, add_tensor_hook, edge_of, hooks_of
from .autograd.graph import _add as _add_hook
from .device import CPU, as_device, device as _device

_ndarray = np.ndarray
_new = object.__new__


class Size(tuple):
    """A tensor's shape: a tuple of ints, as torch.Size. Slicing it, adding a tuple to it or
    repeating it gives a Size again."""

    def __new__(cls, sizes=()):
        sizes = list(sizes)
        for s in sizes:
            if not hasattr(s, "__index__"):
                raise TypeError(f"Size() takes an iterable of 'int' (got "
                                f"{builtins.type(s).__name__} {s!r})")
        return tuple.__new__(cls, [operator.index(s) for s in sizes])

    def __repr__(self):
        return f"labgrad.Size({list(self)})"

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return tuple.__new__(Size, item) if isinstance(index, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return tuple.__new__(Size, tuple.__add__(other, self))

    def __mul__(self, times):
        return tuple.__new__(Size, tuple.__mul__(self, times))

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))

    def numel(self) -> int:
        return math.prod(self)


class Tensor:
    """An n-dimensional array on a device, recording the ops that made it when asked to."""

    # Creating a tensor must be cheap (every op makes one): the array lives in a slot, and
    # everything else has a class-level default, so an instance's __dict__ is only made for
    # tensors that take part in autograd (or carry user attributes, as PyTorch allows).
    __slots__ = ("_data", "__dict__", "__weakref__")
    _rg = False  # requires grad (leaves: set by the user; results: set when a node is recorded)
    _grad = None
    grad_fn = None
    _output_nr = 0
    _vc = None  # version counter [n], shared with views; created on first need
    _base = None  # the tensor this one is a view of
    _accumulator = None  # the AccumulateGrad node of a leaf that requires grad
    _retains_grad = False
    _retain_node = None  # the node whose backward fills .grad of a non-leaf that retains grad

    __array_priority__ = 1000  # NumPy defers binary operators to the tensor's reflected ones
    __array_ufunc__ = None

    def __new__(cls, *args, device=None):
        """The legacy constructor, as torch.Tensor: ``Tensor(2, 3)`` is uninitialized memory
        of that shape, ``Tensor([1, 2])`` copies data as the default float type, ``Tensor()``
        is empty. Prefer labgrad.tensor(), zeros() or empty()."""
        from .creation import legacy_new
        made = legacy_new(args, device)
        if cls is Tensor:
            return made
        return Tensor._make_subclass(cls, made)

    def __init__(self, *args, **kwargs):
        pass  # everything happens in __new__ (so subclasses may define their own __new__)

    @staticmethod
    def _make_subclass(cls, data: Tensor, require_grad=False):
        """An instance of the Tensor subclass `cls` sharing `data`'s memory, outside any graph
        (what nn.Parameter is built with)."""
        t = object.__new__(cls)
        t._data = data._data
        if require_grad:
            t.requires_grad = True
        return t

    @classmethod
    def _wrap(cls, data):
        """A tensor around a backend array, without copying or checking (for ops)."""
        t = _new(cls)
        if type(data) is not _ndarray and not isinstance(data, backend.ARRAY_TYPES):
            data = np.asarray(data)  # ops on 0-d arrays return NumPy scalars
        t._data = data
        return t

    # ------------------------------------------------------------ attributes

    @property
    def shape(self) -> Size:
        return tuple.__new__(Size, self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return tuple.__new__(Size, self._data.shape)
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
        return address_of(self._data)

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
                    "requires_grad: you can only change requires_grad flags of leaf variables. "
                    "To use a computed tensor without gradients, use t.detach().")
            return
        if value and self._data.dtype.kind not in "fc" and not self.dtype.is_floating_point:
            raise RuntimeError(f"requires_grad: only Tensors of floating point dtype can require "
                               f"gradients (this one is {self.dtype.name})")
        self._rg = value

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        """The gradient accumulated by backward() (leaves, and tensors that retain_grad)."""
        grad = self._grad
        if grad is None and self.grad_fn is not None and not self._retains_grad:
            warnings.warn(_NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            _check_grad(self, value)
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        """Whether backward() fills .grad of this non-leaf (see retain_grad)."""
        return self._retains_grad

    def retain_grad(self) -> None:
        """Let backward() fill .grad of this non-leaf tensor as it does for leaves (a no-op on
        a leaf). Its hooks run first, so .grad holds the gradient they returned."""
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        add_retain(*edge_of(self), self)
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` each time a gradient for this tensor is computed; it may return a
        tensor that replaces it. On a leaf it runs before the gradient is accumulated into
        .grad; on a non-leaf before the gradient flows on. Returns a handle with
        ``remove()``, usable as a context manager."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node, nr = edge_of(self)
        return add_tensor_hook(node, nr, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf after backward has accumulated into its .grad."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        return _add_hook(hooks_of(accumulator_of(self)).post_accumulate, hook)

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

    # ------------------------------------------------------------ conversion

    def item(self):
        """The value of a one-element tensor as a Python int, float or bool."""
        if self._data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self._data.size} elements cannot be "
                               "converted to Scalar")
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
                raise RuntimeError("numpy: Can't call numpy() on Tensor that requires grad. "
                                   "Use tensor.detach().numpy() instead.")
            if type(self._data) is not _ndarray:
                raise TypeError(f"numpy: can't convert {self.device} device type tensor to "
                                "numpy. Use Tensor.cpu() to copy the tensor to host memory "
                                "first.")
            return self._data
        data = self._data if type(self._data) is _ndarray else self._data.get()
        return data

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t): the tensor's own memory when no conversion is asked for."""
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            if copy is False:
                raise ValueError(f"__array__: converting {self.dtype.name} to {dtype} needs a "
                                 "copy, but copy=False was asked for")
            return array.astype(dtype)
        return array.copy() if copy else array

    def __dlpack__(self, *args, **kwargs):
        if self._rg:
            raise RuntimeError("__dlpack__: Can't export tensors that require gradient, use "
                               "tensor.detach()")
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def to(self, *args, **kwargs):
        """Convert dtype and/or device, as torch.Tensor.to: ``to(dtype)``, ``to(device,
        dtype=None)``, ``to(other)``, each optionally followed by ``non_blocking, copy``; or the
        same as keywords. Returns the tensor itself when nothing changes (unless copy=True)."""
        dev, dtype, copy = _parse_to(args, kwargs)
        if dev is not None and dev.type == "cuda":
            dev = _cuda_target(dev, "to")
        from .ops.conversion import convert
        return convert(self, dtype, dev, copy)

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """Without an argument, the legacy type name ('labgrad.FloatTensor'); with one (a dtype
        or such a name), the tensor converted to it."""
        if dtype is None:
            where = "cuda." if self.is_cuda else ""
            return f"labgrad.{where}{_LEGACY_NAMES.get(self.dtype.name, 'Tensor')}"
        if isinstance(dtype, str):
            prefix, _, name = dtype.rpartition(".")
            if prefix not in ("torch", "labgrad", "torch.cuda", "labgrad.cuda") or \
                    name not in _LEGACY_TYPES:
                raise ValueError(f"type: invalid type: {dtype!r}")
            target = _dt.to_dtype(_LEGACY_TYPES[name])
            return self.to("cuda" if prefix.endswith("cuda") else "cpu", target)
        if not isinstance(dtype, _dt.dtype):
            raise ValueError(f"type: invalid type: {dtype!r}")
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

    def cpu(self, memory_format=None):
        return self.to(CPU)

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        target = as_device("cuda" if device is None else device)
        if target.type != "cuda":
            raise ValueError(f"cuda: invalid device, must be a cuda device, got {target}")
        return self.to(target)

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
        n = self._data.size
        if n != 1:
            amount = "no values" if n == 0 else "more than one value"
            raise RuntimeError(f"bool: Boolean value of Tensor with {amount} is ambiguous; use "
                               ".any() or .all()")
        return bool(self._data.reshape(()).item())

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __complex__(self):
        return complex(self._scalar("complex"))

    def _scalar(self, op):
        if self._data.size != 1:
            raise ValueError(f"{op}: only one element tensors can be converted to Python "
                             f"scalars (this one has {self._data.size})")
        return self.item()

    def __index__(self):
        if self._data.dtype.kind not in "biu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __format__(self, spec):
        """f"{t:.2f}" formats the number of a 0-d tensor; other tensors take no format spec."""
        if self._data.ndim == 0 and type(self) is Tensor:
            return format(self.item(), spec)
        return object.__format__(self, spec)

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
        new = type(self)._wrap(self._data.copy())
        new._rg = self._rg
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = new
        return new


def address_of(array) -> int:
    """The memory address of a NumPy or CuPy array's first element."""
    if type(array) is _ndarray:
        return array.__array_interface__["data"][0]
    return array.data.ptr


_NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If "
    "you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. "
    "See github.com/pytorch/pytorch/pull/30531 for more information.")


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
                 "bool": "BoolTensor", "uint16": "UInt16Tensor", "uint32": "UInt32Tensor",
                 "uint64": "UInt64Tensor"}
_LEGACY_TYPES = {v: k for k, v in _LEGACY_NAMES.items()}


def _check_grad(t: Tensor, grad):
    """What PyTorch checks when .grad is assigned: a tensor like `t` (not `t` itself)."""
    if not isinstance(grad, Tensor):
        raise TypeError(f"grad: assigned grad expected to be a Tensor or None but got grad of "
                        f"type {builtins.type(grad).__name__}")
    if grad is t:
        raise RuntimeError("grad: can't assign Variable as its own grad")
    if grad._data.dtype != t._data.dtype:
        raise RuntimeError(f"grad: attempting to assign a gradient with dtype "
                           f"{grad.dtype.name} to a tensor with dtype {t.dtype.name}. Please "
                           "ensure that the gradient and the tensor have the same dtype")
    on_host = type(grad._data) is _ndarray and type(t._data) is _ndarray
    if not on_host and grad.device != t.device:
        raise RuntimeError(f"grad: attempting to assign a gradient with device {grad.device} to "
                           f"a tensor with device {t.device}. Please ensure that the gradient "
                           "and the tensor are on the same device")
    if grad._data.shape != t._data.shape:
        raise RuntimeError(f"grad: attempting to assign a gradient of size "
                           f"'{list(grad._data.shape)}' to a tensor of size "
                           f"'{list(t._data.shape)}'. Please ensure that the gradient and the "
                           "tensor are the same size")


def _is_dtype_arg(value) -> bool:
    return isinstance(value, _dt.dtype) or value is builtins.float or value is builtins.int \
        or value is builtins.bool


def _is_device_arg(value) -> bool:
    return isinstance(value, (str, _device)) or (
        isinstance(value, int) and not isinstance(value, bool))


def _parse_to(args, kwargs):
    """Tensor.to's three signatures: (dtype, ...), (device, dtype, ...), (tensor, ...), each
    followed by optional non_blocking and copy; returns (device, dtype, copy)."""
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    non_blocking = kwargs.pop("non_blocking", False)
    copy = kwargs.pop("copy", False)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    args = list(args)
    if args and args[0] is None:
        args.pop(0)
    elif args:
        first = args.pop(0)
        if isinstance(first, Tensor):
            dev, dtype = first.device, first.dtype
        elif _is_dtype_arg(first):
            dtype = first
        elif _is_device_arg(first):
            dev = first
            if args and _is_dtype_arg(args[0]):
                dtype = args.pop(0)
        else:
            raise TypeError(f"to() received an invalid argument {first!r}: expected a dtype, a "
                            "device or a Tensor")
    if len(args) > 2 or not all(isinstance(a, bool) for a in args):
        raise TypeError(f"to() received invalid arguments {tuple(args)}: after the dtype, device "
                        "or tensor come only non_blocking and copy (bools)")
    if len(args) == 2:
        non_blocking, copy = args
    del non_blocking  # copies are synchronous here
    return (None if dev is None else as_device(dev),
            None if dtype is None else _dt.to_dtype(dtype), bool(copy))


def _cuda_target(dev, op):
    """A CUDA device with its index filled in, or a clear error where none can be used."""
    from . import cuda
    cuda.check_device(dev, op)
    if dev.index is None:
        return _device("cuda", backend.cupy().cuda.runtime.getDevice())
    return dev
