"""Random numbers: Generator objects, the default generator, and the sampling functions.

The API, shapes, dtypes, checks and errors follow PyTorch; the numbers themselves come from
NumPy's PCG64 (CuPy's generator on a GPU), so a seed reproduces labgrad's own stream, not
PyTorch's.
"""
from __future__ import annotations

import builtins
import json
import operator

import numpy as np

from . import backend
from . import dtypes as _dt
from .autograd import grad_mode
from .autograd.graph import Node, record
from .creation import _checked_device, _finish, _size, _size_kw, with_out
from .device import as_device
from .ops.inplace import check_inplace_allowed
from .tensor import Tensor

_DEFAULT_SEED = 67280421310721  # PyTorch's default seed
_UINT64 = 2 ** 64


def _check_seed(seed) -> builtins.int:
    """A seed as PyTorch takes it: an int in [-2**63, 2**64); negatives wrap to uint64."""
    if isinstance(seed, Tensor):
        seed = seed.item()
    if isinstance(seed, (builtins.float, np.floating)) or not hasattr(seed, "__index__"):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = operator.index(seed)
    if not -2 ** 63 <= seed < _UINT64:
        raise ValueError(f"manual_seed: Overflow when unpacking long long: seed {seed} is "
                         "outside [-2**63, 2**64)")
    return seed % _UINT64


class Generator:
    """A source of random numbers for one device, as torch.Generator."""

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        if self.device.type == "cuda":
            from . import cuda
            cuda.check_device(self.device, "Generator")
        self._seed = _DEFAULT_SEED
        self._rng = None

    def __repr__(self):
        return f"<labgrad.Generator object at {id(self):#x}>"

    def manual_seed(self, seed) -> Generator:
        self._seed = _check_seed(seed)
        self._rng = None
        return self

    def seed(self) -> builtins.int:
        """Seed from the operating system's entropy; returns the seed used."""
        self.manual_seed(builtins.int(np.random.SeedSequence().entropy) % _UINT64)
        return self._seed

    def initial_seed(self) -> builtins.int:
        return self._seed

    @property
    def rng(self):
        """The backend generator (NumPy's PCG64 on the cpu, CuPy's on a GPU)."""
        if self._rng is None:
            if self.device.type == "cpu":
                self._rng = np.random.Generator(np.random.PCG64(self._seed))
            else:
                cp = backend.cupy()
                with cp.cuda.Device(self.device.index or 0):
                    self._rng = cp.random.default_rng(self._seed)
        return self._rng

    def get_state(self) -> Tensor:
        """The generator's state as a uint8 tensor (JSON bytes, never pickle)."""
        if self.device.type != "cpu":
            raise RuntimeError("get_state: only cpu generator states can be saved")
        state = {"seed": self._seed, "bit_generator": self.rng.bit_generator.state}
        raw = json.dumps(state).encode()
        return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state: Tensor) -> Generator:
        """Restore a state from get_state()."""
        if not isinstance(new_state, Tensor) or new_state.dtype is not _dt.uint8:
            got = new_state.dtype if isinstance(new_state, Tensor) else type(new_state).__name__
            raise TypeError(f"set_state: expected a labgrad.ByteTensor (uint8) from "
                            f"get_state(), got {got}")
        try:
            state = json.loads(bytes(new_state.numpy(force=True)).decode())
            seed, bit_state = state["seed"], state["bit_generator"]
            rng = np.random.Generator(np.random.PCG64())
            rng.bit_generator.state = bit_state
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise RuntimeError("set_state: not a generator state (make one with "
                               "get_state())") from None
        self._seed, self._rng = _check_seed(seed), rng
        return self


default_generator = Generator("cpu")
_cuda_generators: dict = {}


def _generator_for(device, generator):
    if generator is not None:
        if generator.device.type != device.type:
            raise RuntimeError(f"random: expected a {device.type} generator, got one for "
                               f"{generator.device}")
        return generator
    if device.type == "cpu":
        return default_generator
    key = device.index or 0
    if key not in _cuda_generators:
        _cuda_generators[key] = Generator(device).manual_seed(default_generator.initial_seed())
    return _cuda_generators[key]


def manual_seed(seed) -> Generator:
    """Seed every device's default generator; returns the cpu one."""
    seed = _check_seed(seed)
    default_generator.manual_seed(seed)
    for gen in _cuda_generators.values():
        gen.manual_seed(seed)
    return default_generator


def seed() -> builtins.int:
    value = default_generator.seed()
    for gen in _cuda_generators.values():
        gen.manual_seed(value)
    return value


def initial_seed() -> builtins.int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


# ---------------------------------------------------------------- helpers

def _float_dtype(op, dtype, kernel):
    """The dtype for a sampler that only makes floats (PyTorch: NotImplementedError)."""
    dt = _dt.to_dtype(dtype) if dtype is not None else _dt.get_default_dtype()
    if not dt.is_floating_point:
        raise NotImplementedError(f"{op}: \"{kernel}\" not implemented for '{dt.name}'")
    return dt


def _sample(op, draw, shape, generator, dt, device, requires_grad):
    """A tensor of `draw(rng, shape)` (float64 or int64 values) cast to `dt` on `device`."""
    dev = _checked_device(op, device, None)
    rng = _generator_for(dev, generator).rng
    with backend.use_device(dev):
        data = _to_dtype(draw(rng, shape), dt)
    return _finish(data, requires_grad)


def _to_dtype(data, dt):
    """Random float64 values as `dt`; 16-bit floats via float32, as PyTorch rounds them."""
    if dt.itemsize == 2 and dt.is_floating_point and data.dtype == np.float64:
        data = data.astype(np.float32)
    return data.astype(dt.np, copy=False)


# ---------------------------------------------------------------- samplers

@with_out
def rand(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **kwargs) -> Tensor:
    """Uniform samples in [0, 1)."""
    shape = _size("rand", size, _size_kw("rand", kwargs))
    dt = _float_dtype("rand", dtype, "check_uniform_bounds")
    return _sample("rand", lambda rng, s: _uniform(rng, s, dt), shape, generator, dt, device,
                   requires_grad)


def _uniform(rng, shape, dt):
    """Uniform in [0, 1) with as many random bits as the dtype's significand, as PyTorch
    draws them: exact in the dtype, so never rounded up to 1."""
    bits = _SIGNIFICAND_BITS[dt.name]
    return rng.integers(0, 2 ** bits, shape, dtype=np.int64) * (2.0 ** -bits)


@with_out
def randn(*size, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, **kwargs) -> Tensor:
    """Standard normal samples."""
    shape = _size("randn", size, _size_kw("randn", kwargs))
    dt = _float_dtype("randn", dtype, "normal_kernel_cpu")
    return _sample("randn", lambda rng, s: rng.standard_normal(s), shape, generator, dt, device,
                   requires_grad)


@with_out
def randint(*args, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
            pin_memory=False, **kwargs) -> Tensor:
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``
    (size a tuple), int64 unless another dtype is asked for."""
    low, high, size = _randint_args(args, kwargs)
    dt = _dt.to_dtype(dtype) if dtype is not None else _dt.int64
    _check_random_bounds("randint", low, high, dt)
    shape = _size("randint", (size,))
    return _sample("randint", lambda rng, s: rng.integers(low, high, s), shape, generator, dt,
                   device, requires_grad)


def _randint_args(args, kwargs):
    names = ("low", "high", "size")
    given = dict(zip(names[3 - len(args):] if len(args) < 3 else names, args))
    if len(args) > 3:
        raise TypeError(f"randint() takes at most 3 positional arguments ({len(args)} given)")
    for name in names:
        if name in kwargs:
            if name in given:
                raise TypeError(f"randint() got multiple values for argument '{name}'")
            given[name] = kwargs.pop(name)
    if kwargs:
        raise TypeError(f"randint() got unexpected keyword arguments {sorted(kwargs)}")
    if "high" not in given or "size" not in given:
        raise TypeError("randint(): expected randint(high, size) or randint(low, high, size)")
    size = given["size"]
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' must be a tuple of ints, not "
                        f"{type(size).__name__}")
    low, high = given.get("low", 0), given["high"]
    return operator.index(low), operator.index(high), size


def _check_random_bounds(op, low, high, dt):
    """PyTorch's random_(from, to) checks: from < to, both within the dtype."""
    if low >= high:
        raise RuntimeError(f"{op}: random_ expects 'from' to be less than 'to', but got "
                           f"from={low} >= to={high}")
    if dt.category == _dt._INT:
        info = np.iinfo(dt.np)
        if not info.min <= low <= info.max:
            raise RuntimeError(f"{op}: from is out of bounds for {dt.name}")
        if not info.min <= high - 1 <= info.max:
            raise RuntimeError(f"{op}: to - 1 is out of bounds for {dt.name}")


@with_out
def randperm(n, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless another dtype is asked for)."""
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"randperm: Trying to create tensor with negative dimension {n}: "
                           f"[{n}]")
    dt = _dt.to_dtype(dtype) if dtype is not None else _dt.int64
    return _sample("randperm", _permutation, (n,), generator, dt, device, requires_grad)


def _permutation(rng, shape):
    """A random permutation of 0..n-1 (shape (n,)), from what NumPy's and CuPy's generators
    both have: the order that sorts n uniform draws."""
    keys = rng.random(shape)
    return backend.xp_of(keys).argsort(keys)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None) -> Tensor:
    """``randint_like(input, high)`` or ``randint_like(input, low, high)``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


# ---------------------------------------------------------------- normal, with its zero gradient

class _ZeroGrad(Node):
    """Sampling is not differentiable through: PyTorch gives its inputs zero gradients."""

    def backward(self, grad):
        zero = grad * 0
        return tuple(zero for _ in self.next_functions)


class NormalBackward1(_ZeroGrad):  # mean a tensor, std a number
    pass


class NormalBackward2(_ZeroGrad):  # mean a number, std a tensor
    pass


class NormalBackward3(_ZeroGrad):  # both tensors
    pass


class BernoulliBackward0(_ZeroGrad):
    pass


@with_out
def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """Normal samples. mean and std may be tensors (broadcast together; the result has the
    dtype of mean, else of std) or numbers (then `size` is required)."""
    mean_t = mean if isinstance(mean, Tensor) else None
    std_t = std if isinstance(std, Tensor) else None
    if mean_t is None and std_t is None:
        if size is None:
            raise TypeError("normal(): with number mean and std, size is required: "
                            "normal(mean, std, size)")
        _check_std(std)
        dt = _float_dtype("normal", dtype, "normal_kernel_cpu")
        noise = randn(size, generator=generator, dtype=_dt.float64, device=device)
        return _finish(_to_dtype(noise._data * std + mean, dt), requires_grad)
    like = mean_t if mean_t is not None else std_t
    if not like.dtype.is_floating_point:
        raise NotImplementedError(f"normal: \"normal_kernel_cpu\" not implemented for "
                                  f"'{like.dtype.name}'")
    _check_std(std)
    shapes = [t._data.shape for t in (mean_t, std_t) if t is not None]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise RuntimeError(f"normal: the shapes of mean {tuple(mean.shape)} and std "
                           f"{tuple(std.shape)} cannot be broadcast together") from None
    noise = randn(shape, generator=generator, dtype=_dt.float64, device=like.device)
    m = mean_t._data if mean_t is not None else mean
    s = std_t._data if std_t is not None else std
    out = _finish(_to_dtype(noise._data * s + m, like.dtype))
    if grad_mode.state.grad_enabled and any(t is not None and t._rg for t in (mean_t, std_t)):
        node = (NormalBackward3 if mean_t is not None and std_t is not None else
                NormalBackward1 if mean_t is not None else NormalBackward2)
        record(node, tuple(t for t in (mean_t, std_t) if t is not None), out)
    return out


def _check_std(std):
    if isinstance(std, Tensor):
        if (std._data < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")


# ---------------------------------------------------------------- bernoulli, multinomial, poisson

class NotImplementedBackward(Node):
    """bernoulli(input, p): PyTorch records a node whose backward is not implemented."""

    def name(self) -> str:
        return "NotImplemented"

    def backward(self, grad):
        raise RuntimeError("the derivative for 'bernoulli' with a number p is not implemented")


@with_out
def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """1 with probability `input` (or the number `p`), else 0; the dtype of input."""
    dev = input.device
    if p is None:
        if not input.dtype.is_floating_point:
            raise NotImplementedError(f"bernoulli: \"bernoulli_tensor_cpu_p_\" not implemented "
                                      f"for '{input.dtype.name}'")
        probs = input._data
        if ((probs < 0) | (probs > 1) | (probs != probs)).any():
            raise RuntimeError("bernoulli: Expected p_in >= 0 && p_in <= 1 to be true, but got "
                               "false.")
    else:
        probs = p._data if isinstance(p, Tensor) else p
        if not isinstance(p, Tensor) and not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    rng = _generator_for(dev, generator).rng
    with backend.use_device(dev):
        draws = rng.random(input._data.shape) < probs
    result = Tensor._wrap(draws.astype(input._data.dtype))
    if grad_mode.state.grad_enabled and input._rg:
        record(BernoulliBackward0 if p is None else NotImplementedBackward, (input,), result)
    return result


@with_out
def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    """Indices drawn by the (unnormalized) weights in each row of `input` (1-D or 2-D)."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype.name}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape "
                           f"{tuple(input.shape)}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples "
                           f"(num_samples={num_samples})")
    rows = input.detach().cpu()._data.astype(np.float64).reshape(-1, input.shape[-1])
    categories = rows.shape[1]
    if not replacement and num_samples > categories:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           f"without replacement ({num_samples} > {categories})")
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    rng = _generator_for(as_device("cpu"), generator if generator is None or
                         generator.device.type == "cpu" else None).rng
    if replacement:
        picks = _draw_with_replacement(rows, num_samples, rng)
    else:
        # PyTorch's method: the top num_samples of weight / Exp(1) noise. Categories of zero
        # weight come last, and are drawn only when the others run out.
        keys = rows / rng.exponential(size=rows.shape)
        picks = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    picks = picks.reshape(tuple(input.shape[:-1]) + (num_samples,)).astype(np.int64)
    return Tensor._wrap(backend.to_device(picks, input.device))


def _draw_with_replacement(rows, n, rng):
    """Inverse-CDF sampling, all rows at once: the rows' CDFs are offset by the row number so
    that one sorted search serves them all."""
    count, categories = rows.shape
    cdf = np.cumsum(rows / rows.sum(axis=1, keepdims=True), axis=1)
    offsets = np.arange(count)[:, None]
    flat = (cdf + offsets).ravel()
    targets = rng.random((count, n)) + offsets
    picks = np.searchsorted(flat, targets, side="right") - offsets * categories
    last_nonzero = categories - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)
    return np.minimum(picks, last_nonzero[:, None])  # rounding at the top of the CDF


def poisson(input, generator=None) -> Tensor:
    """Poisson counts with rates `input`; the dtype of input."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"poisson: not implemented for '{input.dtype.name}'")
    if (input._data < 0).any():
        raise RuntimeError("poisson: invalid Poisson rate, expected rate to be non-negative")
    rng = _generator_for(input.device, generator).rng
    with backend.use_device(input.device):
        return Tensor._wrap(rng.poisson(input._data).astype(input._data.dtype))


# ---------------------------------------------------------------- in-place fills
# (for initializers and users; bound as Tensor methods in labgrad._tensor_methods)
#
# Each draws from methods that NumPy's and CuPy's generators both have (random, uniform,
# integers, standard_normal, exponential, geometric, poisson), so they work on either device.

def _fill_(op, self, generator, draw):
    """Overwrite `self` with `draw(rng, shape)` from the generator of its device."""
    check_inplace_allowed(op, self)
    rng = _generator_for(self.device, generator).rng
    with backend.use_device(self.device):
        self._data[...] = _to_dtype(draw(rng, self._data.shape), self.dtype)
    self._bump_version()
    return self


def _float_only(self, op, kernel):
    if not self.dtype.is_floating_point:
        raise NotImplementedError(f"{op}: \"{kernel}\" not implemented for '{self.dtype.name}'")


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with uniform samples in [a, b)."""
    _float_only(self, "uniform_", "check_uniform_bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={a} > to={b}")
    return _fill_("uniform_", self, generator,
                  lambda rng, s: _uniform(rng, s, self.dtype) * (b - a) + a)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with normal samples."""
    _float_only(self, "normal_", "normal_kernel_cpu")
    _check_std(std)
    return _fill_("normal_", self, generator,
                  lambda rng, s: mean + std * rng.standard_normal(s))


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 (probability p, a number or a tensor) or 0."""
    if isinstance(p, Tensor):
        probs = p._data
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        probs = p
    return _fill_("bernoulli_", self, generator, lambda rng, s: rng.random(s) < probs)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with exponential samples of rate `lambd`."""
    _float_only(self, "exponential_", "exponential_cpu")
    if lambd <= 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    return _fill_("exponential_", self, generator,
                  lambda rng, s: rng.exponential(1.0 / lambd, s))


def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill_("geometric_", self, generator, lambda rng, s: rng.geometric(p, s))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with exp(N(mean, std)) samples."""
    _float_only(self, "log_normal_", "log_normal_cpu")
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")

    def draw(rng, shape):
        normal = rng.standard_normal(shape)
        return backend.xp_of(normal).exp(mean + std * normal)
    return _fill_("log_normal_", self, generator, draw)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy samples."""
    _float_only(self, "cauchy_", "cauchy_cpu")

    def draw(rng, shape):  # the inverse of Cauchy's CDF, as PyTorch draws it
        uniform = rng.random(shape)
        return median + sigma * backend.xp_of(uniform).tan(np.pi * (uniform - 0.5))
    return _fill_("cauchy_", self, generator, draw)


def random_(self, low=None, high=None, *, generator=None):
    """Fill with integers: random_(low, high) in [low, high), random_(high) in [0, high), and
    random_() every integer the dtype holds exactly (floats: 0 to 2**significand bits)."""
    if low is None:
        low, high = 0, _random_default_high(self.dtype)
    elif high is None:
        low, high = 0, low
    _check_random_bounds("random_", low, high, self.dtype)
    return _fill_("random_", self, generator,
                  lambda rng, s: rng.integers(low, high, s, dtype=np.int64))


_SIGNIFICAND_BITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}


def _random_default_high(dt):
    if dt.is_floating_point:
        return 2 ** _SIGNIFICAND_BITS[dt.name] + 1
    if dt is _dt.bool:
        return 2
    return builtins.int(np.iinfo(dt.np).max) + 1 if dt.itemsize < 8 else 2 ** 63

