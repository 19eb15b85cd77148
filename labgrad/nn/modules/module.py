"""labgrad.nn.Module: the base class of every layer and model, as torch.nn.Module.

A Module registers what is assigned to it as an attribute: a `Parameter` goes into
``_parameters``, a Module into ``_modules``, a tensor given to `register_buffer` (or an
`nn.Buffer`) into ``_buffers``. Everything else (parameters(), state_dict(), to(), train(),
repr, hooks) walks those three ordered dicts, in PyTorch's order and with PyTorch's names.

Calling a module runs its ``forward``. On the way it keeps the module scope for the graph
introspection: the qualified name of the running module ("encoder.layers.0.self_attn"; the
outermost module called is "") is on top of ``labgrad.autograd.graph.scope`` while it runs, so
every graph node records the layer that made it. Module-forward event callbacks
(``labgrad.events.register_module_forward_hook``) run right after forward, still inside that
scope. When no hook is registered a call costs little more than calling forward.
"""
from __future__ import annotations

import functools
import warnings
import weakref
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from ... import events as _events
from ...autograd import graph as _graph
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad, state as _grad_state
from ...tensor import Tensor, _parse_to
from ...utils.hooks import RemovableHandle
from ..parameter import Buffer, Parameter

# Only Module goes into labgrad.nn, as in PyTorch; the register_module_* functions are reached
# as labgrad.nn.modules.module.register_module_forward_hook(...).
__all__ = ["Module"]

_scope = _graph.scope  # qualified names of the running modules (read by graph.record)
_running: list = []  # the running modules themselves, parallel to the names we pushed
_module_forward_events = _events.module_forward_hooks
_ever_registered = weakref.WeakSet()  # modules that were some module's child at some point

# Hooks for every module (register_module_*); ids come from RemovableHandle, as module hooks'.
_global_forward_pre_hooks: dict = OrderedDict()
_global_forward_hooks: dict = OrderedDict()
_global_forward_hooks_with_kwargs: dict = OrderedDict()
_global_forward_hooks_always_called: dict = OrderedDict()
_global_backward_pre_hooks: dict = OrderedDict()
_global_backward_hooks: dict = OrderedDict()


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns: the keys it missed and those it did not use."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"_IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")

    __str__ = __repr__


def _typename(value) -> str:
    """PyTorch's torch.typename: 'labgrad.FloatTensor' for a tensor, else the type's name."""
    if isinstance(value, Tensor):
        return value.type()
    cls = type(value)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _addindent(text: str, spaces: int) -> str:
    """Indent every line of `text` but the first (how a child's repr nests in its parent's)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def _forward_unimplemented(self, *args, **kwargs):
    """Module.forward until a subclass defines it."""
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                              '"forward" function')


class Module:
    """Base class for all neural-network modules; subclass it, call ``super().__init__()``
    first in ``__init__``, assign layers and Parameters as attributes, define ``forward``."""

    training: bool
    _version = 1  # written into state_dict metadata, as PyTorch's
    call_super_init = False  # pass __init__'s arguments on to the next class (mixins)
    forward = _forward_unimplemented

    def __init__(self, *args, **kwargs):
        if self.call_super_init is False and (args or kwargs):
            if kwargs:
                raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword "
                                f"argument '{next(iter(kwargs))}'")
            raise TypeError(f"{type(self).__name__}.__init__() takes 1 positional argument but "
                            f"{len(args) + 1} were given")
        setattr_ = object.__setattr__  # our __setattr__ needs these dicts to exist
        setattr_(self, "training", True)
        setattr_(self, "_parameters", {})
        setattr_(self, "_buffers", {})
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_backward_pre_hooks", OrderedDict())
        setattr_(self, "_backward_hooks", OrderedDict())
        setattr_(self, "_is_full_backward_hook", None)
        setattr_(self, "_forward_hooks", OrderedDict())
        setattr_(self, "_forward_hooks_with_kwargs", OrderedDict())
        setattr_(self, "_forward_hooks_always_called", OrderedDict())
        setattr_(self, "_forward_pre_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks_with_kwargs", OrderedDict())
        setattr_(self, "_modules", {})
        setattr_(self, "_child_names", {})  # id(descendant) -> its dotted name under self
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    # ------------------------------------------------------------ calling

    def _call_impl(self, *args, **kwargs):
        """Run forward under this module's scope; hooks and events when any are registered."""
        running = _running
        path = _path_under(running[-1], _scope[-1], self) if running else ""
        running.append(self)
        _scope.append(path)
        try:
            if (self._forward_hooks or self._forward_pre_hooks or self._backward_hooks
                    or self._backward_pre_hooks or _global_forward_hooks
                    or _global_forward_pre_hooks or _global_backward_hooks
                    or _global_backward_pre_hooks):
                return _run_with_hooks(self, args, kwargs)
            result = self.forward(*args, **kwargs)
            if _module_forward_events:
                _events.emit_module_forward(self, args, result)
            return result
        finally:
            running.pop()
            _scope.pop()

    __call__ = _call_impl

    # ------------------------------------------------------------ registration

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Add a buffer (state that is not a parameter, e.g. a running mean). With
        ``persistent=False`` it stays out of state_dict. ``None`` registers an empty slot."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"buffer name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError('buffer name can\'t contain "."')
        if name == "":
            raise KeyError('buffer name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(labgrad Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param) -> None:
        """Add a parameter (an nn.Parameter, or None for an empty slot such as a missing
        bias)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"parameter name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError('parameter name can\'t contain "."')
        if name == "":
            raise KeyError('parameter name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(labgrad.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as a "
                             "function of another Tensor, compute the value in the forward() "
                             "method.")
        self._parameters[name] = param

    def add_module(self, name: str, module) -> None:
        """Add a child module (or None), reachable as the attribute `name`."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        if module is not None:
            _ever_registered.add(module)
        self._modules[name] = module

    def register_module(self, name: str, module) -> None:
        """Alias for `add_module`."""
        self.add_module(name, module)

    def __getattr__(self, name: str):
        # Only reached when normal lookup failed: parameters, buffers and children live in
        # their dicts, not in __dict__.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            members = d.get(registry)
            if members is not None and name in members:
                return members[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove_from(name, d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(labgrad.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        else:
            modules = d.get("_modules")
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                _remove_from(name, d, self._parameters, self._buffers,
                             self._non_persistent_buffers_set)
                _ever_registered.add(value)
                modules[name] = value
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{_typename(value)}' as child module "
                                    f"'{name}' (labgrad.nn.Module or None expected)")
                modules[name] = value
            else:
                buffers = d.get("_buffers")
                if isinstance(value, Buffer) or buffers is not None and name in buffers:
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                        "(labgrad.nn.Buffer, labgrad.Tensor or None expected)")
                    if isinstance(value, Buffer):
                        persistent = value.persistent
                    else:
                        persistent = name not in self._non_persistent_buffers_set
                    self.register_buffer(name, value, persistent)
                else:
                    object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = [*dir(type(self)), *self.__dict__, *self._parameters, *self._modules,
                *self._buffers]
        return sorted(k for k in set(keys) if not k[0].isdigit())

    # ------------------------------------------------------------ lookup

    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path `target` ("" is this module)."""
        if target == "":
            return self
        module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path `target` ("layer.weight")."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path `target` ("bn.running_mean")."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return getattr(module, name)

    # ------------------------------------------------------------ iteration

    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        """(name, member) over this module's (and with `recurse` its descendants') members,
        each shared member once unless `remove_duplicate` is False."""
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        seen = set()
        for module_prefix, module in modules:
            for name, member in get_members(module):
                if member is None or member in seen:
                    continue
                if remove_duplicate:
                    seen.add(member)
                yield (module_prefix + "." + name if module_prefix else name), member

    def parameters(self, recurse: bool = True):
        """Iterate over the parameters (with `recurse`, those of all descendants too)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True):
        """Iterate over (dotted name, parameter), in registration order, depth first."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                       remove_duplicate)

    def buffers(self, recurse: bool = True):
        """Iterate over the buffers (with `recurse`, those of all descendants too)."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True):
        """Iterate over (dotted name, buffer), in registration order, depth first."""
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                       remove_duplicate)

    def children(self):
        """Iterate over the direct children (each once)."""
        for _, module in self.named_children():
            yield module

    def named_children(self):
        """Iterate over (name, child) for the direct children (each once)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def modules(self):
        """Iterate over this module and all its descendants (each once)."""
        for _, module in self.named_modules():
            yield module

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        """Iterate over (dotted name, module) for this module ("" or `prefix`) and its
        descendants, depth first in registration order."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            child_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, child_prefix, remove_duplicate)

    # ------------------------------------------------------------ modes and grads

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=False``: evaluation) here and in all descendants."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (dropout off, batch norm uses running statistics)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set requires_grad on every parameter (freeze with False)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the parameters' gradients: to None (the default), or to zeros in place."""
        for param in self.parameters():
            grad = param._grad
            if grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                grad.zero_()

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every descendant (children first), then on this module; e.g.
        for custom initialization. Returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ conversion

    def _apply(self, fn, recurse: bool = True) -> Module:
        """Replace every parameter's and buffer's values by ``fn(tensor)``. Parameters keep
        their identity (so optimizers built before still hold them): their data is swapped,
        and their .grad converted the same way."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        for param in self._parameters.values():
            if param is None:
                continue
            with no_grad():
                applied = fn(param)
            param._data = applied._data
            grad = param._grad
            if grad is not None:
                with no_grad():
                    grad._data = fn(grad)._data
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def to(self, *args, **kwargs) -> Module:
        """Move and/or cast the parameters and buffers in place: ``to(device)``,
        ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``, ``non_blocking=``. A dtype applies
        only to floating-point tensors (integer buffers keep theirs). Returns self."""
        device, dtype, _ = _parse_to(args, dict(kwargs))
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but "
                            f"got desired dtype={dtype}")

        def convert(t):
            if t.is_floating_point() or t.is_complex():
                return t.to(device=device, dtype=dtype)
            return t.to(device=device)

        return self._apply(convert)

    def cuda(self, device=None) -> Module:
        """Move the parameters and buffers to a CUDA device (the current one by default)."""
        return self._apply(lambda t: t.cuda(device))

    def cpu(self) -> Module:
        """Move the parameters and buffers to the CPU."""
        return self._apply(lambda t: t.cpu())

    def type(self, dst_type) -> Module:
        """Cast all parameters and buffers to `dst_type` (a dtype or a type name)."""
        return self._apply(lambda t: t.type(dst_type))

    def float(self) -> Module:
        """Cast floating-point parameters and buffers to float32."""
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self) -> Module:
        """Cast floating-point parameters and buffers to float64."""
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self) -> Module:
        """Cast floating-point parameters and buffers to float16."""
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self) -> Module:
        """Cast floating-point parameters and buffers to bfloat16."""
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    # ------------------------------------------------------------ state dict

    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        """Put this module's own parameters and persistent buffers (not its children's) into
        `destination` under `prefix`; override to save more (or less)."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """An OrderedDict of all parameters and persistent buffers by dotted name (own ones
        first, then each child's), detached unless `keep_vars`."""
        if args:  # PyTorch still accepts (destination, prefix, keep_vars) by position
            warnings.warn("Positional args are being deprecated, use kwargs instead.",
                          FutureWarning, stacklevel=2)
            destination, prefix, keep_vars = (*args, *(destination, prefix, keep_vars)[
                len(args):])
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        metadata = getattr(destination, "_metadata", None)
        if metadata is not None:
            metadata[prefix[:-1]] = {"version": self._version}
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        return destination

    def get_extra_state(self):
        """Override (with set_extra_state) to save non-tensor state into state_dict."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called.")

    def set_extra_state(self, state) -> None:
        """Override (with get_extra_state) to load what get_extra_state saved."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called.")

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        """Load this module's own parameters and persistent buffers from `state_dict`;
        record missing and unexpected keys and errors in the lists given. Override (calling
        this one) to adapt old checkpoints.

        Inside `load_state_dict` the copies are queued and done only when no error was found
        anywhere in the model; called directly, it copies at once."""
        local_state = {name: p for name, p in self._parameters.items() if p is not None}
        local_state.update((name, b) for name, b in self._buffers.items()
                           if b is not None and name not in self._non_persistent_buffers_set)
        assign = getattr(error_msgs, "assign", False)
        pending = getattr(error_msgs, "pending", None)
        for name, current in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected '
                                  "labgrad.Tensor or Tensor-like object from checkpoint but "
                                  f"received {type(value)}")
                continue
            if value.shape != current.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{value.shape} from checkpoint, the shape in current model is "
                                  f"{current.shape}.")
                continue
            load = functools.partial(self._load_one, name, current, value, assign)
            if pending is None:
                try:
                    load()
                except Exception as ex:  # noqa: BLE001 - reported in error_msgs, as PyTorch
                    error_msgs.append(f'While copying the parameter named "{key}", whose '
                                      f"dimensions in the model are {current.shape} and whose "
                                      f"dimensions in the checkpoint are {value.shape}, an "
                                      f"exception occurred : {ex.args}.")
            else:
                pending.append((key, load))
        extra_key = prefix + "_extra_state"
        has_extra = type(self).set_extra_state is not Module.set_extra_state
        if has_extra and extra_key in state_dict:
            if pending is None:
                self.set_extra_state(state_dict[extra_key])
            else:
                pending.append((extra_key, functools.partial(self.set_extra_state,
                                                             state_dict[extra_key])))
        elif has_extra and strict:
            missing_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    head = key[len(prefix):].split(".", 1)[0]
                    if head not in self._modules and head not in local_state:
                        unexpected_keys.append(key)

    def _load_one(self, name, current, value, assign) -> None:
        """Copy `value` into the parameter or buffer `current` (or, with `assign`, make it
        the new one)."""
        if not assign:
            with no_grad():
                current.copy_(value)
        elif isinstance(current, Parameter) and not isinstance(value, Parameter):
            setattr(self, name, Parameter(value, requires_grad=current.requires_grad))
        else:
            setattr(self, name, value)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy parameters and buffers from `state_dict` into this module and its descendants.

        Every problem (missing keys and, with `strict`, unexpected keys; shape mismatches;
        values that are not tensors) is collected first and reported in one RuntimeError, and
        then nothing has been changed. Values are copied in place (cast to each parameter's
        dtype, moved to its device); with ``assign=True`` the module takes the given tensors
        themselves. Returns a named tuple (missing_keys, unexpected_keys)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys: list = []
        unexpected_keys: list = []
        error_msgs = _LoadErrors(assign)
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata

        def load(module, local_state, prefix=""):
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            module._load_from_state_dict(local_state, prefix, local_metadata, True,
                                         missing_keys, unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state = {k: v for k, v in local_state.items()
                                   if k.startswith(child_prefix)}
                    load(child, child_state, child_prefix)

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                keys = ", ".join(f'"{k}"' for k in unexpected_keys)
                error_msgs.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
            if missing_keys:
                keys = ", ".join(f'"{k}"' for k in missing_keys)
                error_msgs.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        if error_msgs:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(error_msgs))
        for key, copy in error_msgs.pending:
            copy()
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # ------------------------------------------------------------ hooks

    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before forward (``hook(module, args, kwargs)`` with
        `with_kwargs`); a non-None result replaces the arguments."""
        handle = RemovableHandle(self._forward_pre_hooks,
                                 extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after forward (``hook(module, args, kwargs,
        output)`` with `with_kwargs`); a non-None result replaces the output. With
        `always_call` it also runs when forward raised."""
        handle = RemovableHandle(self._forward_hooks, extra_dict=[
            self._forward_hooks_with_kwargs, self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients with respect to the module's
        outputs are computed; a non-None result (a tuple) replaces them."""
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to
        the module's positional inputs are computed; a non-None result (a tuple, one entry per
        input) replaces grad_input."""
        self._is_full_backward_hook = True
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    # ------------------------------------------------------------ repr

    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside this module's repr parentheses (its settings); override it."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def _remove_from(name, *containers):
    for container in containers:
        if name in container:
            if isinstance(container, dict):
                del container[name]
            else:
                container.discard(name)


class _LoadErrors(list):
    """load_state_dict's error list; it also carries the copies queued until every module
    has been checked (see Module._load_from_state_dict)."""

    def __init__(self, assign):
        super().__init__()
        self.assign = assign
        self.pending = []


# ------------------------------------------------------------------ module scope

def _path_under(parent, parent_path: str, child: Module) -> str:
    """The qualified name of `child` called while `parent` (named `parent_path`) runs: its
    dotted name under the parent, cached per parent and checked on every use (a module can be
    re-registered or replaced). A module the parent does not hold takes the parent's name."""
    names = parent.__dict__.get("_child_names")
    if names is None:
        return parent_path
    local = names.get(id(child))
    if local is None or parent._modules.get(local) is not child:
        local = _find_descendant(parent, child)
        if local is None:
            return parent_path
        names[id(child)] = local
    return parent_path + "." + local if parent_path else local


def _find_descendant(parent, child):
    """`child`'s dotted name under `parent` (a direct child first), or None."""
    for name, module in parent._modules.items():
        if module is child:
            return name
    if child not in _ever_registered:  # e.g. a module made inside forward: skip the walk
        return None
    for name, module in parent.named_modules(remove_duplicate=False):
        if module is child and name:
            return name
    return None


# ------------------------------------------------------------------ hooks on the call path

def _run_with_hooks(module, args, kwargs):
    """Module.__call__ with hooks: forward pre-hooks, backward-hook wrappers around inputs and
    outputs, forward, forward hooks (those with always_call also when forward raised)."""
    result = None
    called = set()
    try:
        pre_hooks = module._backward_pre_hooks
        full_hooks = module._backward_hooks if module._is_full_backward_hook else {}
        backward_pre = [*_global_backward_pre_hooks.values(), *pre_hooks.values()]
        backward_full = [*_global_backward_hooks.values(), *full_hooks.values()]
        for hook_id, hook in (*_global_forward_pre_hooks.items(),
                              *module._forward_pre_hooks.items()):
            if hook_id in module._forward_pre_hooks_with_kwargs:
                new = hook(module, args, kwargs)
                if new is not None:
                    if not (isinstance(new, tuple) and len(new) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {new}.")
                    args, kwargs = new
            else:
                new = hook(module, args)
                if new is not None:
                    args = new if isinstance(new, tuple) else (new,)
        backward_hook = None
        if backward_pre or backward_full:
            backward_hook = _BackwardHook(module, backward_full, backward_pre)
            args = backward_hook.setup_input_hook(args)
        result = module.forward(*args, **kwargs)
        for hook_id, hook in (*_global_forward_hooks.items(), *module._forward_hooks.items()):
            if (hook_id in module._forward_hooks_always_called
                    or hook_id in _global_forward_hooks_always_called):
                called.add(hook_id)
            if (hook_id in module._forward_hooks_with_kwargs
                    or hook_id in _global_forward_hooks_with_kwargs):
                new = hook(module, args, kwargs, result)
            else:
                new = hook(module, args, result)
            if new is not None:
                result = new
        if backward_hook is not None:
            result = backward_hook.setup_output_hook(result)
        if _module_forward_events:
            _events.emit_module_forward(module, args, result)
        return result
    except Exception:
        for hook_id, hook in (*_global_forward_hooks.items(), *module._forward_hooks.items()):
            if hook_id in called or not (hook_id in module._forward_hooks_always_called or
                                         hook_id in _global_forward_hooks_always_called):
                continue
            try:
                if (hook_id in module._forward_hooks_with_kwargs
                        or hook_id in _global_forward_hooks_with_kwargs):
                    hook(module, args, kwargs, result)
                else:
                    hook(module, args, result)
            except Exception as ex:  # noqa: BLE001 - forward's own error is the one raised
                warnings.warn("module forward hook with ``always_call=True`` raised an "
                              "exception that was silenced as another error was raised in "
                              f"forward: {ex}", stacklevel=3)
        raise


class _HookIdentity(Function):
    """Passes tensors through unchanged; in backward, hands their gradients to `hook`
    (a `_BackwardHook` method) and passes on what it returns. As in PyTorch, grad_input gets
    zeros where no gradient came (`materialize`), grad_output gets None."""

    @staticmethod
    def forward(ctx, hook, materialize, *tensors):
        ctx.hook = hook
        ctx.set_materialize_grads(materialize)
        # new views (not the inputs themselves), so that marking works on these very objects
        outputs = tuple(t.detach() for t in tensors)
        ctx.mark_non_differentiable(*(o for o, t in zip(outputs, tensors)
                                      if not t.requires_grad))
        return outputs

    @staticmethod
    def backward(ctx, *grads):
        return (None, None, *ctx.hook(grads))


class _BackwardHook:
    """The full backward hooks of one module call (PyTorch's BackwardHook): the module's
    tensor inputs and outputs pass through `_HookIdentity` nodes, so backward reaches the
    output node with grad_output (pre-hooks run there) and then the input node with
    grad_input (full hooks run there)."""

    def __init__(self, module, full_hooks, pre_hooks):
        self.module = module
        self.full_hooks = full_hooks
        self.pre_hooks = pre_hooks
        self.n_inputs = 0
        self.input_positions = None  # where the tensors sit in args, when any requires grad
        self.grad_outputs = None
        self.n_outputs = 0
        self.output_positions = ()

    @staticmethod
    def _wrap(values, on_backward, materialize):
        """(values with their tensors passed through one identity node, their positions);
        positions is None where no tensor requires grad (or grad is off)."""
        positions = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        if not (_grad_state.grad_enabled and any(values[i].requires_grad for i in positions)):
            return values, None
        passed = _HookIdentity.apply(on_backward, materialize, *(values[i] for i in positions))
        new = list(values)
        for i, t in zip(positions, passed):
            new[i] = t
        return tuple(new), positions

    def _pack(self, grads, positions, n):
        """One entry per argument: the gradients at the tensors' positions, None elsewhere."""
        full = [None] * n
        for i, g in zip(positions, grads):
            full[i] = g
        return tuple(full)

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        args, self.input_positions = self._wrap(tuple(args), self._on_input_grads, True)
        return args

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        if not single and not isinstance(result, tuple):
            warnings.warn("For backward hooks to be called, module output should be a Tensor or "
                          f"a tuple of Tensors but received {type(result)}", stacklevel=4)
            return result
        outputs = (result,) if single else result
        self.n_outputs = len(outputs)
        outputs, self.output_positions = self._wrap(outputs, self._on_output_grads, False)
        return outputs[0] if single else outputs

    def _on_output_grads(self, grads):
        """At the outputs' node: run the pre-hooks on grad_output (they may replace it)."""
        grad_outputs = self._pack(grads, self.output_positions, self.n_outputs)
        for hook in self.pre_hooks:
            new = hook(self.module, grad_outputs)
            if new is None:
                continue
            new = new if isinstance(new, tuple) else (new,)
            if len(new) != len(grad_outputs):
                raise RuntimeError(f"Backward pre hook returned an invalid number of "
                                   f"grad_output, got {len(new)}, but expected "
                                   f"{len(grad_outputs)}")
            grad_outputs = new
        self.grad_outputs = grad_outputs
        if self.input_positions is None and self.full_hooks:
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients. See "
                          "the documentation of Module.register_full_backward_hook.",
                          stacklevel=2)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.full_hooks:
                new = hook(self.module, grad_inputs, grad_outputs)
                if new is not None and not all(g is None for g in new):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(grad_outputs[i] for i in self.output_positions)

    def _on_input_grads(self, grads):
        """At the inputs' node: run the full hooks on (grad_input, grad_output)."""
        grad_inputs = self._pack(grads, self.input_positions, self.n_inputs)
        for hook in self.full_hooks:
            new = hook(self.module, grad_inputs, self.grad_outputs)
            if new is None:
                continue
            new = new if isinstance(new, tuple) else (new,)
            if len(new) != len(grad_inputs):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, "
                                   f"got {len(new)}, but expected {len(grad_inputs)}")
            grad_inputs = new
        self.grad_outputs = None
        return tuple(grad_inputs[i] for i in self.input_positions)


# ------------------------------------------------------------------ hooks for every module

def register_module_forward_pre_hook(hook) -> RemovableHandle:
    """Call ``hook(module, args)`` before every module's forward (before its own pre-hooks);
    a non-None result replaces the arguments."""
    handle = RemovableHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    return handle


def register_module_forward_hook(hook, *, with_kwargs: bool = False,
                                 always_call: bool = False) -> RemovableHandle:
    """Call ``hook(module, args, output)`` after every module's forward (before its own
    forward hooks); a non-None result replaces the output."""
    handle = RemovableHandle(_global_forward_hooks, extra_dict=[
        _global_forward_hooks_with_kwargs, _global_forward_hooks_always_called])
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    if always_call:
        _global_forward_hooks_always_called[handle.id] = True
    return handle


def register_module_full_backward_pre_hook(hook) -> RemovableHandle:
    """A backward pre-hook (see Module.register_full_backward_pre_hook) for every module."""
    handle = RemovableHandle(_global_backward_pre_hooks)
    _global_backward_pre_hooks[handle.id] = hook
    return handle


def register_module_full_backward_hook(hook) -> RemovableHandle:
    """A full backward hook (see Module.register_full_backward_hook) for every module."""
    handle = RemovableHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    return handle

