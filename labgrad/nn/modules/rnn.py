"""Recurrent layers, as torch.nn: RNN, LSTM and GRU over whole sequences, and their cells.

How a layer runs a sequence: the input projections W_ih x_t + b_ih of all time steps are one
matrix product (a `linear`) before the time loop. The loop itself (_recurrence) works on
arrays and is recorded as ONE graph node per layer and direction: each step is the recurrent
product W_hh h + b_hh and the cell, written to work in few passes and in place; backward
goes back through time on the arrays the forward kept and forms the weight gradients with
one matrix product over all steps. A create_graph backward replays the loop as per-step
differentiable ops instead (_steps), so higher-order gradients work.

The cells (also the RNNCell/LSTMCell/GRUCell layers) are fused steps with a gradient formula
written once over a small set of functions, `_ArrayOps` for arrays and `_TensorOps` for
labgrad tensors: the create_graph path runs the very same formulas with labgrad ops.

Gate order and names follow PyTorch, so its state_dicts load: LSTM (i, f, g, o), GRU (r, z, n)
with r applied to (W_hn h + b_hn); parameters weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k},
bias_hh_l{k}, weight_hr_l{k} (LSTM projections), with a _reverse suffix for the backward
direction.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from ... import creation
from ...autograd import grad as autograd_grad, grad_mode
from ...autograd.graph import Node, record
from ...ops import pointwise
from ...ops._util import describe, shape_str, xp_of
from ...ops.comparison import where
from ...ops.joining import cat, stack
from ...tensor import Tensor
from .. import init
from ..functional.dropout import dropout as _dropout
from ..functional.linear import linear
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_wrap = Tensor._wrap
_state = grad_mode.state


# ------------------------------------------------------------------ the cell formulas

class _ArrayOps:
    """The functions the gradient formulas use, on raw arrays (no graph)."""

    def __init__(self, xp):
        self.xp = xp

    def cat(self, parts):
        return self.xp.concatenate(parts, axis=-1)

    @staticmethod
    def split(a, n):
        size = a.shape[-1] // n
        return [a[..., k * size:(k + 1) * size] for k in range(n)]


class _TensorOps:
    """The same functions and the activations with labgrad ops (create_graph: they record)."""

    sigmoid = staticmethod(pointwise.sigmoid)
    tanh = staticmethod(pointwise.tanh)

    @staticmethod
    def relu(a):
        return a.relu()

    @staticmethod
    def cat(parts):
        return cat(parts, -1)

    @staticmethod
    def split(a, n):
        return a.chunk(n, -1)


_TENSOR_OPS = _TensorOps()


def _sigmoid_(xp, a):
    """sigmoid(a) in place, as 0.5 * tanh(a / 2) + 0.5 (tanh never overflows, unlike exp)."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


# Each cell has a forward on arrays (in place where it can: it runs every time step) that
# also returns the activations its gradient needs, the same activations computed with labgrad
# ops (for a create_graph backward, which must record how they depend on the inputs), and a
# gradient formula over the activations that runs on either.

def _lstm_step(xp, xw, hw, c):
    """LSTM step: gates (i, f, g, o) from the two projections; (h', c'), activations."""
    gates = xw + hw
    size = c.shape[-1]
    _sigmoid_(xp, gates[..., :2 * size])
    xp.tanh(gates[..., 2 * size:3 * size], out=gates[..., 2 * size:3 * size])
    _sigmoid_(xp, gates[..., 3 * size:])
    i, f, g, o = _ArrayOps.split(gates, 4)
    c_new = f * c
    c_new += i * g
    tanh_c = xp.tanh(c_new)
    return (o * tanh_c, c_new), (i, f, g, o, tanh_c)


def _lstm_activations(ops, xw, hw, c):
    i, f, g, o = ops.split(xw + hw, 4)
    i, f, g, o = ops.sigmoid(i), ops.sigmoid(f), ops.tanh(g), ops.sigmoid(o)
    return i, f, g, o, ops.tanh(f * c + i * g)


def _lstm_grads(ops, c, acts, grad_h, grad_c):
    """Gradients for (xw, hw, c) from those of (h', c')."""
    i, f, g, o, tanh_c = acts
    dc = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
    d_gates = ops.cat([dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g),
                       grad_h * tanh_c * o * (1 - o)])
    return d_gates, d_gates, dc * f


def _gru_step(xp, xw, hw, h):
    """GRU step: h' = (1 - z) n + z h with n = tanh(W_in x + b_in + r (W_hn h + b_hn))."""
    size = h.shape[-1]
    rz = _sigmoid_(xp, xw[..., :2 * size] + hw[..., :2 * size])
    r, z = rz[..., :size], rz[..., size:]
    h_n = hw[..., 2 * size:]
    n = r * h_n
    n += xw[..., 2 * size:]
    xp.tanh(n, out=n)
    out = h - n
    out *= z
    out += n
    return out, (r, z, n, h_n)


def _gru_activations(ops, xw, hw, h):
    x_r, x_z, x_n = ops.split(xw, 3)
    h_r, h_z, h_n = ops.split(hw, 3)
    r, z = ops.sigmoid(x_r + h_r), ops.sigmoid(x_z + h_z)
    return r, z, ops.tanh(x_n + r * h_n), h_n


def _gru_grads(ops, h, acts, grad):
    r, z, n, h_n = acts
    dn = grad * (1 - z) * (1 - n * n)
    dz = grad * (h - n) * z * (1 - z)
    dr = dn * h_n * r * (1 - r)
    return ops.cat([dr, dz, dn]), ops.cat([dr, dz, dn * r]), grad * z


def _rnn_step(xp, xw, hw, h, nonlinearity):
    """Elman step: h' = tanh (or relu) of the two projections' sum (h is unused)."""
    y = xw + hw
    if nonlinearity == "tanh":
        xp.tanh(y, out=y)
    else:
        xp.maximum(y, 0, out=y)
    return y, (y,)


def _rnn_activations(ops, xw, hw, h, nonlinearity):
    return (ops.tanh(xw + hw) if nonlinearity == "tanh" else ops.relu(xw + hw),)


def _rnn_grads(ops, h, acts, grad, nonlinearity):
    (y,) = acts
    d = grad * (1 - y * y) if nonlinearity == "tanh" else grad * (y > 0)
    return d, d, None


class _CellBackward(Node):
    """A fused cell step with inputs (xw, hw, state); it saved them and the activations of
    the forward. Without create_graph the gradient formula runs on those arrays; with it,
    the activations are recomputed with labgrad ops and the formula runs on tensors."""

    activations = grads = None

    def backward(self, *grads):
        xw, hw, state, acts = self.saved_tensors
        cls, extra = type(self), self.extra
        if _state.grad_enabled:
            acts = cls.activations(_TENSOR_OPS, xw, hw, state, *extra)
            return cls.grads(_TENSOR_OPS, state, acts, *grads, *extra)
        ops = _ArrayOps(xp_of(grads[0]._data))
        result = cls.grads(ops, state._data, acts, *(g._data for g in grads), *extra)
        return tuple(None if a is None else _wrap(a) for a in result)


class LstmCellBackward0(_CellBackward):
    activations = staticmethod(_lstm_activations)
    grads = staticmethod(_lstm_grads)


class GruCellBackward0(_CellBackward):
    activations = staticmethod(_gru_activations)
    grads = staticmethod(_gru_grads)


class RnnCellBackward0(_CellBackward):
    activations = staticmethod(_rnn_activations)
    grads = staticmethod(_rnn_grads)


_CELLS = {"LSTM": (_lstm_step, LstmCellBackward0), "GRU": (_gru_step, GruCellBackward0),
          "RNN": (_rnn_step, RnnCellBackward0)}


def _cell_step(mode, xw, hw, state, nonlinearity="tanh"):
    """One fused step: (h', c') for LSTM, h' otherwise. `state` is c for LSTM, else h."""
    step, node_cls = _CELLS[mode]
    extra = (nonlinearity,) if mode == "RNN" else ()
    out, acts = step(xp_of(xw._data), xw._data, hw._data, state._data, *extra)
    out = tuple(map(_wrap, out)) if mode == "LSTM" else _wrap(out)
    if _state.grad_enabled and (xw._rg or hw._rg or state._rg):
        record(node_cls, (xw, hw, state), out, saved=(xw, hw, state, acts)).extra = extra
    return out


# ------------------------------------------------------------------ RNN, LSTM, GRU

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters of every layer and direction, the checks
    of inputs and states, and the loop over layers, directions and time steps."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent "
                          "layer, so non-zero dropout expects num_layers greater than 1, but "
                          f"got dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        for arg, value in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(value, bool):
                raise TypeError(f"{name}: {arg} should be of type bool, got: "
                                f"{type(value).__name__}")
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int):
                raise TypeError(f"{name}: {arg} should be of type int, got: "
                                f"{type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name}: {arg} must be greater than zero, got {value}")
        if num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be greater than zero, got {num_layers}")
        if proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to "
                             f"disable projections, got {proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size ({proj_size}) has to be smaller than "
                             f"hidden_size ({hidden_size})")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        out_size = proj_size if proj_size > 0 else hidden_size
        factory = {"device": device, "dtype": dtype}
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, out_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for kind, shape in shapes:
                    param_name = f"{kind}_l{layer}{suffix}"
                    setattr(self, param_name, Parameter(creation.empty(shape, **factory)))
                    names.append(param_name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """PyTorch packs the weights into one cuDNN buffer here; labgrad keeps them as they
        are, so there is nothing to do (kept so that PyTorch code runs unchanged)."""

    @property
    def all_weights(self):
        """The parameters of each layer and direction, as lists."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -------------------------------------------------------------- checks

    def _name(self):
        return type(self).__name__

    def _check_input(self, input, packed):
        name = self._name()
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a tensor or a PackedSequence, got "
                            f"{describe(input)}")
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(f"{name}: input dtype ({input.dtype.name}) does not match weight "
                             f"dtype ({weight.dtype.name}). Convert the input: "
                             f"input.to({weight.dtype.name}), or the model: "
                             f"model.to({input.dtype.name})")
        if input.device != weight.device:
            raise RuntimeError(f"{name}: input is on {input.device} but the weights are on "
                               f"{weight.device}; move one with .to(device)")
        if packed:
            if input.ndim != 2:
                raise RuntimeError(f"{name}: a PackedSequence's data must have 2 dimensions, "
                                   f"got {input.ndim}")
        elif input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D (unbatched) or 3D, got "
                             f"{input.ndim}D tensor (shape {shape_str(input.shape)}) instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]} (input of shape "
                               f"{shape_str(input.shape)})")

    def _state_sizes(self):
        """(the size of h, the size of c) per layer and direction."""
        return (self.proj_size or self.hidden_size), self.hidden_size

    def _initial(self, hx, batched, batch, like, size, what):
        """A (layers * directions, N, size) initial state: hx checked, or zeros."""
        name = self._name()
        layers = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            return creation.zeros((layers, batch, size), dtype=like.dtype, device=like.device)
        if not isinstance(hx, Tensor):
            raise TypeError(f"{name}: {what} must be a tensor, got {describe(hx)}")
        if hx.ndim != (3 if batched else 2):
            raise RuntimeError(f"{name}: for {'batched 3-D' if batched else 'unbatched 2-D'} "
                               f"input, {what} should also be {3 if batched else 2}-D but got "
                               f"{hx.ndim}-D tensor")
        if not batched:
            hx = hx.unsqueeze(1)
        if tuple(hx.shape) != (layers, batch, size):
            raise RuntimeError(f"{name}: Expected {what} size {(layers, batch, size)} "
                               f"(num_layers * num_directions, batch, size), got "
                               f"{list(hx.shape)}")
        return hx

    # -------------------------------------------------------------- forward

    def _states(self, hx, batched, batch, like):
        """The initial (h0, c0 or None), each (layers * directions, N, size)."""
        h_size, c_size = self._state_sizes()
        if self.mode != "LSTM":
            return self._initial(hx, batched, batch, like, h_size, "hidden"), None
        if hx is None:
            hx = (None, None)
        elif not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"{self._name()}: hx must be a tuple (h_0, c_0), got "
                            f"{describe(hx)}")
        return (self._initial(hx[0], batched, batch, like, h_size, "hidden"),
                self._initial(hx[1], batched, batch, like, c_size, "cell"))

    def forward(self, input, hx=None):
        packed = isinstance(input, PackedSequence)
        if packed:
            self._check_input(input.data, True)
            padded, lengths = pad_packed_sequence(input)
            batched, time_dim, batch = True, 0, padded.shape[1]
            x = padded
        else:
            self._check_input(input, False)
            batched = input.ndim == 3
            time_dim = 1 if (self.batch_first and batched) else 0
            x = input if batched else input.unsqueeze(1)
            batch = x.shape[1 - time_dim]
            lengths = None
        h0, c0 = self._states(hx, batched, batch, x)
        output, h_n, c_n = self._run(x, time_dim, h0, c0, lengths)
        if packed:
            output = _pack_like(output, lengths, input)
        elif not batched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        return output, (h_n if c_n is None else (h_n, c_n))

    def _run(self, x, time_dim, h0, c0, lengths):
        """All layers over x ((T, N, I), or (N, T, I) when time_dim is 1): the last layer's
        outputs and the final states (layers * directions, N, size)."""
        directions = 2 if self.bidirectional else 1
        active = None
        if lengths is not None:  # a packed batch: step t updates only sequences that long
            xp = xp_of(x._data)
            steps = x.shape[time_dim]
            mask = xp.asarray(lengths.numpy()[None, :] > np.arange(steps)[:, None])
            active = [mask[t][:, None] for t in range(steps)]
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = self.all_weights[k]
                out, h, c = self._run_direction(x, time_dim, weights, h0[k],
                                                None if c0 is None else c0[k],
                                                direction == 1, active)
                outputs.append(out)
                finals_h.append(h)
                finals_c.append(c)
            x = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        h_n = stack(finals_h, 0)
        c_n = stack(finals_c, 0) if c0 is not None else None
        return x, h_n, c_n

    def _run_direction(self, x, time_dim, weights, h, c, reverse, active):
        """One layer in one direction: outputs stacked along time_dim, final h and c."""
        w_ih, w_hh = weights[0], weights[1]
        b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
        w_hr = weights[-1] if self.proj_size > 0 else None
        cell = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(self.mode, self.mode)
        nonlinearity = "relu" if self.mode == "RNN_RELU" else "tanh"
        spec = _Spec(cell, nonlinearity, time_dim, reverse, active)
        # The input projections of all time steps in one product.
        xw = linear(x, w_ih, b_ih)
        return _recurrence(spec, xw, h, c, w_hh, b_hh, w_hr)


# ------------------------------------------------------------------ a layer over time

class _Spec:
    """What a recurrence needs besides its tensors: the cell, the time dim of the
    projections (0, or 1 when batch first), the direction, and for a packed batch the
    (N, 1) bool mask of the sequences each step updates."""

    __slots__ = ("mode", "nonlinearity", "time_dim", "reverse", "active")

    def __init__(self, mode, nonlinearity, time_dim, reverse, active):
        self.mode, self.nonlinearity, self.time_dim = mode, nonlinearity, time_dim
        self.reverse, self.active = reverse, active

    def order(self, steps):
        return range(steps - 1, -1, -1) if self.reverse else range(steps)

    def at(self, array, t):
        """Step t of an array laid out like the projections."""
        return array[t] if self.time_dim == 0 else array[:, t]


def _steps(spec, xw, h, c, w_hh, b_hh, w_hr):
    """The recurrence as one graph node per time step, built from differentiable ops: what
    a create_graph backward of _recurrence replays. Returns (outputs, h_n, c_n or None)."""
    xws = xw.unbind(spec.time_dim)
    outs = [None] * len(xws)
    active = spec.active
    for t in spec.order(len(xws)):
        hw = linear(h, w_hh, b_hh)
        if spec.mode == "LSTM":
            h_new, c_new = _cell_step("LSTM", xws[t], hw, c)
            if w_hr is not None:
                h_new = linear(h_new, w_hr)
            c = c_new if active is None else where(_wrap(active[t]), c_new, c)
        else:
            h_new = _cell_step(spec.mode, xws[t], hw, h, spec.nonlinearity)
        h = h_new if active is None else where(_wrap(active[t]), h_new, h)
        outs[t] = h
    return stack(outs, spec.time_dim), h, c


class RecurrenceBackward0(Node):
    """Backward through time of one layer in one direction: inputs (xw, h0, c0, w_hh, b_hh,
    w_hr), outputs (outputs, h_n[, c_n]).

    Without create_graph it runs on the arrays the forward kept, step by step back in time,
    and forms the weight gradients with one matrix product over all the steps. With
    create_graph it replays the forward as differentiable per-step ops (_steps) and takes
    their gradient, which records the graph of the gradient."""

    def backward(self, *grads):
        saved = self.saved_tensors
        inputs, cache = saved[:6], saved[6]
        if _state.grad_enabled:
            return _replay(self.spec, inputs, grads)
        arrays = _through_time(self.spec, inputs, cache, [g._data for g in grads])
        return tuple(None if a is None else _wrap(a) for a in arrays)


def _replay(spec, inputs, grads):
    """The gradients for the recurrence's inputs through a differentiable replay of it."""
    with grad_mode.enable_grad():
        outputs = _steps(spec, *inputs)
    outputs = [o for o in outputs if o is not None]
    wanted = [i for i, t in enumerate(inputs) if t is not None and t.requires_grad]
    found = autograd_grad(outputs, [inputs[i] for i in wanted], list(grads), create_graph=True,
                 allow_unused=True)
    result = [None] * len(inputs)
    for i, g in zip(wanted, found):
        result[i] = g
    return tuple(result)


def _recurrence(spec, xw, h0, c0, w_hh, b_hh, w_hr):
    """Run one layer in one direction over all time steps on arrays, recorded as one graph
    node (RecurrenceBackward0). Returns (outputs stacked along time, h_n, c_n or None)."""
    x = xw._data
    xp = xp_of(x)
    lstm = spec.mode == "LSTM"
    step_fn = _CELLS[spec.mode][0]
    extra = (spec.nonlinearity,) if spec.mode == "RNN" else ()
    tensors = (xw, h0, c0, w_hh, b_hh, w_hr)
    recording = _state.grad_enabled and any(t is not None and t._rg for t in tensors)
    # Contiguous transposes, made once: a product with a transposed view is slower per step.
    w_t = xp.ascontiguousarray(w_hh._data.T)
    bias = None if b_hh is None else b_hh._data
    proj = None if w_hr is None else xp.ascontiguousarray(w_hr._data.T)
    h, c = h0._data, (c0._data if lstm else None)
    steps = x.shape[spec.time_dim]
    out = xp.empty(x.shape[:2] + h.shape[-1:], dtype=x.dtype)
    # What backward needs, kept only when recording: the state before each step, the
    # activations of each step, and (with projections) the cell output before projection.
    h_before = xp.empty_like(out) if recording else None
    c_before = xp.empty(x.shape[:2] + c.shape[-1:], dtype=x.dtype) if recording and lstm \
        else None
    cell_out = xp.empty(x.shape[:2] + (w_hr.shape[1],), x.dtype) if recording \
        and proj is not None else None
    acts = [None] * steps
    for t in spec.order(steps):
        hw = h @ w_t
        if bias is not None:
            hw += bias
        if recording:
            spec.at(h_before, t)[...] = h
            if lstm:
                spec.at(c_before, t)[...] = c
        if lstm:
            (h_new, c_new), acts[t] = step_fn(xp, spec.at(x, t), hw, c)
            if proj is not None:
                if recording:
                    spec.at(cell_out, t)[...] = h_new
                h_new = h_new @ proj
            c = c_new if spec.active is None else xp.where(spec.active[t], c_new, c)
        else:
            h_new, acts[t] = step_fn(xp, spec.at(x, t), hw, h, *extra)
        h = h_new if spec.active is None else xp.where(spec.active[t], h_new, h)
        spec.at(out, t)[...] = h
    outputs = (_wrap(out), _wrap(h)) + ((_wrap(c),) if lstm else ())
    if recording:
        cache = (h_before, c_before, cell_out, acts)
        node = record(RecurrenceBackward0, tensors, outputs, saved=tensors + (cache,))
        node.spec = spec
    return outputs if lstm else outputs + (None,)


def _through_time(spec, inputs, cache, grads):
    """The arrays of the gradients for (xw, h0, c0, w_hh, b_hh, w_hr), back through time."""
    xw, h0, c0, w_hh, b_hh, w_hr = inputs
    h_before, c_before, cell_out, acts = cache
    x = xw._data
    xp = xp_of(x)
    ops = _ArrayOps(xp)
    lstm = spec.mode == "LSTM"
    grad_fn = _CELLS[spec.mode][1].grads
    extra = (spec.nonlinearity,) if spec.mode == "RNN" else ()
    w = w_hh._data
    grad_out, dh = grads[0], grads[1]
    dc = grads[2] if lstm else None
    d_xw = xp.empty_like(x)
    # LSTM and RNN get the same gradient for the two projections; GRU's differ.
    d_hw = d_xw if spec.mode != "GRU" else xp.empty_like(x)
    d_proj = xp.empty_like(grad_out) if w_hr is not None else None
    for t in reversed(spec.order(x.shape[spec.time_dim])):
        gh = dh + spec.at(grad_out, t)
        carry_h = carry_c = None
        if spec.active is not None:  # a finished sequence passes its gradient straight on
            keep = spec.active[t]
            carry_h, gh = xp.where(keep, 0, gh), xp.where(keep, gh, 0)
            if lstm:
                carry_c, dc = xp.where(keep, 0, dc), xp.where(keep, dc, 0)
        if lstm:
            if d_proj is not None:
                spec.at(d_proj, t)[...] = gh
                gh = gh @ w_hr._data
            dx, dw, dc = grad_fn(ops, spec.at(c_before, t), acts[t], gh, dc)
            dh = dw @ w
        else:
            dx, dw, d_state = grad_fn(ops, spec.at(h_before, t), acts[t], gh, *extra)
            dh = dw @ w
            if d_state is not None:
                dh += d_state
        spec.at(d_xw, t)[...] = dx
        if d_hw is not d_xw:
            spec.at(d_hw, t)[...] = dw
        if carry_h is not None:
            dh += carry_h
            if lstm:
                dc = dc + carry_c
    gates = x.shape[-1]
    flat = d_hw.reshape(-1, gates)
    d_w = flat.T @ h_before.reshape(-1, h_before.shape[-1])
    d_b = flat.sum(0) if b_hh is not None else None
    d_w_hr = None
    if d_proj is not None:
        d_w_hr = d_proj.reshape(-1, d_proj.shape[-1]).T @ \
            cell_out.reshape(-1, cell_out.shape[-1])
    return d_xw, dh, dc, d_w, d_b, d_w_hr


def _pack_like(padded, lengths, packed):
    """The time-major padded output packed with the same order as the PackedSequence
    `packed` it was computed from."""
    if packed.sorted_indices is None:
        return pack_padded_sequence(padded, lengths)
    result = pack_padded_sequence(padded, lengths, enforce_sorted=False)
    return PackedSequence(result.data, packed.batch_sizes, packed.sorted_indices,
                          packed.unsorted_indices)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu), stacked
    num_layers deep, optionally bidirectional.

    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False). forward(input, hx=None) takes
    input (L, N, H_in) ((N, L, H_in) with batch_first, (L, H_in) unbatched, or a
    PackedSequence) and returns (output (L, N, D * H_out), h_n (D * num_layers, N, H_out)).
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("RNN: proj_size argument is only supported for LSTM, not RNN "
                             "or GRU")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, gates (i, f, g, o) as PyTorch; proj_size > 0 projects h with
    weight_hr.

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0). forward(input, hx=None) with hx = (h_0, c_0) returns
    (output, (h_n, c_n)).
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit, gates (r, z, n) as PyTorch: n = tanh(W_in x + b_in +
    r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.

    GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False). forward(input, hx=None) returns (output, h_n).
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("GRU: proj_size argument is only supported for LSTM, not RNN "
                             "or GRU")
        super().__init__("GRU", *args, **kwargs)


# ------------------------------------------------------------------ cells

class RNNCellBase(Module):
    """What the cells share: weight_ih (G * H, I), weight_hh (G * H, H), bias_ih, bias_hh."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(creation.empty((num_chunks * hidden_size, input_size),
                                                  **factory))
        self.weight_hh = Parameter(creation.empty((num_chunks * hidden_size, hidden_size),
                                                  **factory))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, **factory))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _prepare(self, input, states):
        """input as (N, I) and each state as (N, H) (zeros when None); whether batched."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a tensor, got {describe(input)}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D "
                             f"(shape {shape_str(input.shape)}) instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input has inconsistent input_size: got "
                               f"{input.shape[-1]}, expected {self.input_size}")
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(f"{name}: input dtype ({input.dtype.name}) does not match weight"
                               f" dtype ({self.weight_ih.dtype.name}); convert the input with "
                               f".to({self.weight_ih.dtype.name})")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        out = []
        for s in states:
            if s is None:
                s = creation.zeros((x.shape[0], self.hidden_size), dtype=x.dtype,
                                   device=x.device)
            else:
                if s.ndim not in (1, 2) or s.ndim != input.ndim:
                    raise ValueError(f"{name}: Expected hidden to be {input.ndim}D like the "
                                     f"input, got {s.ndim}D (shape {shape_str(s.shape)})")
                s = s if batched else s.unsqueeze(0)
                if tuple(s.shape) != (x.shape[0], self.hidden_size):
                    raise RuntimeError(f"{name}: hidden of shape {shape_str(s.shape)} does not "
                                       f"match (batch={x.shape[0]}, hidden_size="
                                       f"{self.hidden_size})")
            out.append(s)
        return x, out, batched

    def _projections(self, x, h):
        return (linear(x, self.weight_ih, self.bias_ih),
                linear(h, self.weight_hh, self.bias_hh))


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu). forward(input, hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity '{nonlinearity}'. Select from "
                             "'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, [hx])
        out = _cell_step("RNN", *self._projections(x, h), h, self.nonlinearity)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step. forward(input, hx=None) with hx = (h, c) -> (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        states = [None, None] if hx is None else list(hx)
        if len(states) != 2:
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c), got {describe(hx)}")
        x, (h, c), batched = self._prepare(input, states)
        h_new, c_new = _cell_step("LSTM", *self._projections(x, h), c)
        if not batched:
            return h_new.squeeze(0), c_new.squeeze(0)
        return h_new, c_new


class GRUCell(RNNCellBase):
    """One GRU step. forward(input, hx=None) -> h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, [hx])
        out = _cell_step("GRU", *self._projections(x, h), h)
        return out if batched else out.squeeze(0)
