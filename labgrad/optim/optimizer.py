"""The Optimizer base class, as torch.optim.Optimizer.

An optimizer holds `param_groups` (a list of dicts: ``"params"`` plus that group's options)
and `state` (per parameter, keyed by the tensor). Subclasses write only `step`; this class
gives them parameter handling, `zero_grad`, `state_dict` / `load_state_dict` in PyTorch's
layout, step hooks, and the ``optimizer_step`` event (labgrad.events) after every step.

Updates work on the raw arrays (``p._data``) with in-place ufuncs, so a step builds no graph
and never waits for the device; `_scratch` lends reusable temporaries for it.
"""
from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict

from .. import dtypes as _dt
from .. import events
from ..autograd import enable_grad
from ..backend import xp_of
from ..creation import tensor
from ..tensor import Tensor
from ..utils.hooks import RemovableHandle

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook",
           "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Marks an option in `defaults` that every param group must set (such as lr)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_pre_hooks: OrderedDict = OrderedDict()
_global_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` before every optimizer's step (see
    Optimizer.register_step_pre_hook)."""
    handle = RemovableHandle(_global_pre_hooks)
    _global_pre_hooks[handle.id] = hook
    return handle


def register_optimizer_step_post_hook(hook) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` after every optimizer's step."""
    handle = RemovableHandle(_global_post_hooks)
    _global_post_hooks[handle.id] = hook
    return handle


def _hooked_step(step):
    """Wrap a subclass's `step`: pre hooks, the step, post hooks, then the optimizer_step
    event. A step that calls ``super().step()`` runs the hooks once, around the outer call."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self._in_step:
            return step(self, *args, **kwargs)
        if _global_pre_hooks or self._optimizer_step_pre_hooks:
            args, kwargs = self._run_pre_hooks(step, args, kwargs)
        self._in_step = True
        try:
            out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        self._opt_called = True  # lets a scheduler see that step() came before its step()
        if self._optimizer_step_post_hooks or _global_post_hooks:
            for hook in [*self._optimizer_step_post_hooks.values(),
                         *_global_post_hooks.values()]:
                hook(self, args, kwargs)
        events.emit_optimizer_step(self)
        return out

    wrapper.hooked = True
    return wrapper


def scalar(value):
    """An option's value for the update: a float, or the value of a one-element tensor
    (read from host memory for a CPU tensor; a CUDA tensor's value has to be copied over)."""
    if isinstance(value, Tensor):
        return float(value._data.item())
    return value


def step_dtype():
    """The dtype of 'step' counters in the state: float64 when that is the default dtype."""
    return _dt.float64 if _dt.get_default_dtype() == _dt.float64 else _dt.float32


def new_counter(value=0.0) -> Tensor:
    """A 'step' (or similar) counter for the state: a 0-d tensor on the CPU, as PyTorch
    keeps it, so reading it never waits for a device."""
    return tensor(value, dtype=step_dtype())


def advance(counter: Tensor) -> float:
    """Add one to a state counter in place (in its dtype, as PyTorch's ``step += 1``) and
    return the new count as a float."""
    counter._data += 1
    return float(counter._data)


def zeros_like_array(p: Tensor) -> Tensor:
    """A state tensor of zeros shaped as parameter `p`, on its device and dtype."""
    return Tensor._wrap(xp_of(p._data).zeros_like(p._data))


def check_options(name, lr=None, **positive):
    """PyTorch's argument checks: a one-element lr that is >= 0, and options that are >= 0."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError(f"{name}: a Tensor lr must have one element (it has shape "
                         f"{tuple(lr.shape)})")
    if lr is not None and not 0.0 <= scalar(lr):
        raise ValueError(f"Invalid learning rate: {lr}")
    for key, value in positive.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {key} value: {value}")


def check_betas(betas):
    for i, beta in enumerate(betas):
        if not 0.0 <= scalar(beta) < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def check_not_differentiable(name, differentiable):
    if differentiable:
        raise ValueError(f"{name}: differentiable=True (backpropagating through the update) is "
                         "not supported by labgrad's optimizers; leave it False")


class Optimizer:
    """Base class for all optimizers.

    Args:
        params: an iterable of tensors, of (name, tensor) pairs (as ``named_parameters()``
            gives), or of dicts, each a param group: ``{"params": [...], "lr": 0.1, ...}``.
        defaults: the options of a group that does not set them.
    """

    _in_step = False
    # State entries that are counters hosted on the CPU: never cast to the parameter's dtype.
    _counter_keys = ("step",)
    # State entries shaped as their parameter, checked when a state dict is loaded.
    _param_shaped_state = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "hooked", False):
            cls.step = _hooked_step(step)

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        self._buffers = {}
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got a single Tensor of shape "
                            f"{tuple(params.shape)}: pass [tensor] or model.parameters()")
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # ------------------------------------------------------------ parameters

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with options of its own (those it leaves out come from
        `defaults`), e.g. to train layers that were frozen until now."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        tensors, names = [], []
        for param in params:
            if isinstance(param, tuple):
                names.append(param[0])
                param = param[1]
            tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            param_group["param_names"] = names
        for i, param in enumerate(tensors):
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params "
                                f"(index {i}) is {type(param).__name__}")
            if not (param.is_leaf or param.retains_grad):
                raise ValueError(f"can't optimize a non-leaf Tensor (param {i}, shape "
                                 f"{tuple(param.shape)}, made by {type(param.grad_fn).__name__})"
                                 ": optimize the leaf it was computed from, or a detached "
                                 "copy with requires_grad_()")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        if len(tensors) != len(set(tensors)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                kind = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} to the optimizer")
        if not seen.isdisjoint(tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (the default), or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                grad._data.fill(0)
                grad._bump_version()

    def step(self, closure=None):
        """Update the parameters once; `closure` (re-evaluating the model and returning the
        loss) is called first when given, and its loss returned."""
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _run_pre_hooks(self, step, args, kwargs):
        for hook in [*_global_pre_hooks.values(), *self._optimizer_step_pre_hooks.values()]:
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step.__qualname__}: a step pre hook must return "
                                       f"None or a tuple of (new_args, new_kwargs), but got "
                                       f"{result!r}.")
                args, kwargs = result
        return args, kwargs

    def _scratch(self, like, slot: int):
        """A temporary array shaped as `like` (same dtype and device) for a step's arithmetic;
        the same memory is lent again on the next call with this slot, so a step allocates
        nothing after its first. Slot 0 is where `_grad_for_update` puts a changed gradient."""
        key = (type(like), like.dtype, getattr(getattr(like, "device", None), "id", None), slot)
        flat = self._buffers.get(key)
        if flat is None or flat.size < like.size:
            flat = xp_of(like).empty(like.size, dtype=like.dtype)
            self._buffers[key] = flat
        return flat[:like.size].reshape(like.shape)

    def _grad_for_update(self, param, grad, maximize, weight_decay):
        """The gradient the update rule reads: negated when maximizing, plus
        ``weight_decay * param`` (PyTorch's L2 penalty); `grad` itself is never changed."""
        if not maximize and not weight_decay:
            return grad
        xp = xp_of(param)
        out = self._scratch(param, 0)
        if not weight_decay:
            return xp.negative(grad, out=out)
        xp.multiply(param, weight_decay, out=out)
        if maximize:
            return xp.subtract(out, grad, out=out)
        out += grad
        return out

    # ------------------------------------------------------------ state dict

    def state_dict(self) -> dict:
        """The optimizer's state as ``{"state": {index: {...}}, "param_groups": [{options,
        "params": [indices]}]}``: parameters are replaced by their position across groups.
        The state's tensors are the optimizer's own (not copies), as in PyTorch."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index = {}

        def pack(group):
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            return packed

        param_groups = [pack(g) for g in self.param_groups]
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": param_groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a `state_dict` made by an optimizer of this kind over parameters of the same
        shapes. Everything is checked and converted first, so a state dict that does not fit
        raises and leaves this optimizer as it was. State tensors are copied, converted to
        their parameter's device and (floating point) dtype; 'step' counters keep theirs."""
        state_dict = dict(state_dict)
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        missing = [key for key in ("state", "param_groups") if key not in state_dict]
        if missing:
            raise KeyError(f"load_state_dict: the state dict has no {missing} entry; expected "
                           "what Optimizer.state_dict() returns")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than this optimizer ({len(groups)})")
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 f"match the size of optimizer's group: group {i} has "
                                 f"{len(saved['params'])} params there and "
                                 f"{len(group['params'])} here")
        id_map = {saved_id: p for group, saved in zip(groups, saved_groups)
                  for saved_id, p in zip(saved["params"], group["params"])}
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = {k: self._cast_state(param, k, v) for k, v in value.items()}
                self._check_state_shapes(key, param, state[param])
            else:
                state[key] = value
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for name, default in self.defaults.items():
                saved.setdefault(name, default)
            self._fix_loaded_group(saved)
        self.state = state
        self.param_groups = saved_groups
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)

    def _check_state_shapes(self, index, param, state):
        for name in self._param_shaped_state:
            value = state.get(name)
            if isinstance(value, Tensor) and value.shape != param.shape:
                raise ValueError(
                    f"load_state_dict: state[{index}][{name!r}] has shape {tuple(value.shape)}"
                    f", but parameter {index} of this {type(self).__name__} has shape "
                    f"{tuple(param.shape)}: the state dict was saved for other parameters "
                    "(another model, or its parameters in another order)")

    def _fix_loaded_group(self, group: dict) -> None:
        """Adjust a param group loaded from a state dict (subclasses: options that are fixed)."""

    def _cast_state(self, param, key, value):
        """A copy of a loaded state value, its tensors on param's device and dtype."""
        if key in self._counter_keys and not isinstance(value, Tensor):
            return new_counter(float(value))
        if isinstance(value, Tensor):
            if key in self._counter_keys:
                return value.detach().clone()
            dtype = param.dtype if param.is_floating_point() else value.dtype
            return value.detach().to(device=param.device, dtype=dtype, copy=True)
        if isinstance(value, dict):
            return {k: self._cast_state(param, k, v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._cast_state(param, None, v) for v in value)
        return value

    # ------------------------------------------------------------ hooks

    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each step; it may return a tuple
        (new_args, new_kwargs) that the step is called with instead."""
        return self._add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each step."""
        return self._add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False) -> RemovableHandle:
        """Call ``hook(optimizer)`` before state_dict() builds its result."""
        return self._add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` on state_dict()'s result; a returned dict
        replaces it."""
        return self._add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` before loading; a returned dict is loaded
        instead."""
        return self._add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False) -> RemovableHandle:
        """Call ``hook(optimizer)`` after load_state_dict()."""
        return self._add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    @staticmethod
    def _add_hook(hooks, hook, prepend=False):
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle
