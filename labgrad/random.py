"""Random numbers: Generator objects, the default generator, and the sampling functions."""
from __future__ import annotations

import builtins
import json

import numpy as np

from . import backend
from . import dtypes as _dt
from .device import as_device
from .tensor import Tensor

_DEFAULT_SEED = 67280421310721  # PyTorch's default seed


class Generator:
    """A source of random numbers for one device, as torch.Generator."""

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self._seed = _DEFAULT_SEED
        self._rng = None

    def manual_seed(self, seed) -> Generator:
        self._seed = int(seed) & 0xFFFF_FFFF_FFFF_FFFF
        self._rng = None
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the seed used."""
        self.manual_seed(int(np.random.SeedSequence().entropy) & 0xFFFF_FFFF_FFFF_FFFF)
        return self._seed

    def initial_seed(self) -> int:
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
        state = json.loads(bytes(new_state.numpy().astype(np.uint8)).decode())
        self._seed = state["seed"]
        self.rng.bit_generator.state = state["bit_generator"]
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
    """Seed every device's default generator."""
    default_generator.manual_seed(seed)
    for gen in _cuda_generators.values():
        gen.manual_seed(seed)
    return default_generator


def seed() -> int:
    value = default_generator.seed()
    for gen in _cuda_generators.values():
        gen.manual_seed(value)
    return value


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _sample(fill, size, generator, dtype, device, requires_grad, default=None):
    dev = as_device(device)
    dt = _dt.to_dtype(dtype) if dtype is not None else (default or _dt.get_default_dtype())
    rng = _generator_for(dev, generator).rng
    with backend.use_device(dev):
        data = fill(rng, size).astype(dt.np, copy=False)
    out = Tensor._wrap(data)
    if requires_grad:
        out.requires_grad = True
    return out


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False) -> Tensor:
    """Uniform samples in [0, 1)."""
    return _sample(lambda rng, s: rng.random(s), _size(size), generator, dtype, device,
                   requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False) -> Tensor:
    """Standard normal samples."""
    return _sample(lambda rng, s: rng.standard_normal(s), _size(size), generator, dtype, device,
                   requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False) -> Tensor:
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None or size is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    return _sample(lambda rng, s: rng.integers(low, high, s), tuple(size), generator, dtype,
                   device, requires_grad, default=_dt.int64)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0..n-1."""
    return _sample(lambda rng, s: rng.permutation(n), (n,), generator, dtype, device,
                   requires_grad, default=_dt.int64)


def rand_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype,
                   device=device or input.device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,
           requires_grad=False) -> Tensor:
    """Normal samples; mean and std may be tensors (broadcast) or numbers (then size is needed)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        like = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(tuple(np.shape(getattr(mean, "_data", mean))),
                                    tuple(np.shape(getattr(std, "_data", std))))
        noise = randn(shape, generator=generator, dtype=like.dtype, device=like.device)
        return (noise * std + mean).detach()
    if size is None:
        raise TypeError("normal: with number mean and std, size is required")
    noise = randn(size, generator=generator, dtype=dtype, device=device)
    out = noise * std + mean
    if requires_grad:
        out.requires_grad = True
    return out


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """1 with probability `input` (or `p`), else 0; same dtype as input."""
    probs = input._data if p is None else p
    dev = input.device
    rng = _generator_for(dev, generator).rng
    with backend.use_device(dev):
        draws = rng.random(input._data.shape) < probs
    return Tensor._wrap(draws.astype(input._data.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    """Indices drawn by the (unnormalized) weights in each row of `input` (1-D or 2-D)."""
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: expected a 1-D or 2-D weight tensor, got shape "
                           f"{tuple(input.shape)}")
    weights = input.detach().double().cpu().numpy()
    rows = weights.reshape(-1, weights.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("multinomial: weights must be finite and non-negative")
    if not replacement and num_samples > rows.shape[-1]:
        raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without replacement "
                           f"from {rows.shape[-1]} categories")
    rng = _generator_for(as_device("cpu"), generator if generator is None or
                         generator.device.type == "cpu" else None).rng
    picks = []
    for row in rows:
        total = row.sum()
        if total <= 0:
            raise RuntimeError("multinomial: each row of weights needs a positive sum")
        if not replacement and builtins.int((row > 0).sum()) < num_samples:
            raise RuntimeError("multinomial: not enough categories with non-zero weight to draw "
                               f"{num_samples} samples without replacement")
        picks.append(rng.choice(row.size, size=num_samples, replace=replacement, p=row / total))
    result = np.stack(picks).reshape(weights.shape[:-1] + (num_samples,)).astype(np.int64)
    return Tensor._wrap(backend.to_device(result, input.device))


def poisson(input, generator=None) -> Tensor:
    rng = _generator_for(input.device, generator).rng
    return Tensor._wrap(rng.poisson(input._data).astype(input._data.dtype))


# In-place fills used by initializers (nn.init) and by users.

def _fill_(self, data):
    with_grad_off_check(self)
    self._data[...] = data
    self._bump_version()
    return self


def with_grad_off_check(self):
    from .autograd import grad_mode
    if grad_mode.state.grad_enabled and self._rg and self.grad_fn is None:
        raise RuntimeError("a leaf tensor that requires grad is being used in an in-place "
                           "operation; wrap it in labgrad.no_grad() or modify .data")


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    rng = _generator_for(self.device, generator).rng
    return _fill_(self, rng.uniform(a, b, self._data.shape))


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    rng = _generator_for(self.device, generator).rng
    return _fill_(self, rng.normal(mean, std, self._data.shape))


def bernoulli_(self, p=0.5, *, generator=None):
    rng = _generator_for(self.device, generator).rng
    probs = p._data if isinstance(p, Tensor) else p
    return _fill_(self, rng.random(self._data.shape) < probs)


def exponential_(self, lambd=1.0, *, generator=None):
    rng = _generator_for(self.device, generator).rng
    return _fill_(self, rng.exponential(1.0 / lambd, self._data.shape))


def random_(self, low=0, high=None, *, generator=None):
    if high is None:
        low, high = 0, low if low else 2 ** 24
    rng = _generator_for(self.device, generator).rng
    return _fill_(self, rng.integers(low, high, self._data.shape))
