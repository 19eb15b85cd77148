"""Random numbers: seeds and Generator objects reproduce labgrad's stream; every sampler has
PyTorch's shapes, dtypes, ranges, checks and (roughly) its statistics."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
from labgrad import dtypes as lgd
from labgrad import random as lgr


@pytest.fixture(autouse=True)
def _restore_default_generator():
    """Tests seed the global generator; leave it as each test found it."""
    state = lg.get_rng_state()
    yield
    lg.set_rng_state(state)


def _name(dtype) -> str:
    return str(dtype).split(".")[-1]


# ---------------------------------------------------------------- seeds and generators

def test_manual_seed_reproduces_every_sampler():
    def draw():
        return [lg.rand(3).tolist(), lg.randn(2, 2).tolist(), lg.randint(0, 100, (4,)).tolist(),
                lg.randperm(6).tolist(), lg.normal(0.0, 1.0, (2,)).tolist(),
                lg.bernoulli(lg.full((5,), 0.5)).tolist(),
                lg.multinomial(lg.ones(5), 3).tolist(), lg.zeros(3).uniform_().tolist(),
                lg.zeros(3).normal_().tolist()]
    lg.manual_seed(1234)
    first = draw()
    lg.manual_seed(1234)
    assert draw() == first
    lg.manual_seed(4321)
    assert draw() != first


def test_manual_seed_returns_the_default_generator():
    gen = lg.manual_seed(7)
    assert gen is lg.default_generator and isinstance(gen, lg.Generator)
    assert lg.initial_seed() == 7


def test_generators_are_independent_streams():
    a, b = lg.Generator().manual_seed(5), lg.Generator().manual_seed(5)
    first = lg.rand(4, generator=a).tolist()
    lg.rand(10)  # the default generator does not disturb them
    assert lg.rand(4, generator=b).tolist() == first
    assert lg.rand(4, generator=a).tolist() != first


def test_generator_api():
    gen = lg.Generator()
    assert gen.device == lg.device("cpu")
    assert gen.initial_seed() == 67280421310721  # PyTorch's default seed
    assert gen.manual_seed(3) is gen and gen.initial_seed() == 3
    assert gen.manual_seed(-1).initial_seed() == 2 ** 64 - 1  # wraps as in PyTorch
    seed = gen.seed()
    assert isinstance(seed, int) and gen.initial_seed() == seed
    with pytest.raises(RuntimeError):
        gen.manual_seed(1.5)
    with pytest.raises(ValueError):
        gen.manual_seed(2 ** 64)


def test_get_state_set_state_round_trip():
    gen = lg.Generator().manual_seed(11)
    lg.rand(5, generator=gen)
    state = gen.get_state()
    assert state.dtype is lg.uint8 and state.ndim == 1
    after = [lg.rand(3, generator=gen).tolist(), lg.randint(0, 9, (3,), generator=gen).tolist()]
    gen.manual_seed(99)
    gen.set_state(state)
    assert [lg.rand(3, generator=gen).tolist(),
            lg.randint(0, 9, (3,), generator=gen).tolist()] == after
    assert gen.initial_seed() == 11


def test_global_rng_state_round_trip():
    lg.manual_seed(0)
    state = lg.get_rng_state()
    first = lg.randn(5).tolist()
    lg.set_rng_state(state)
    assert lg.randn(5).tolist() == first


def test_set_state_refuses_other_things():
    gen = lg.Generator()
    with pytest.raises(TypeError):
        gen.set_state(lg.zeros(3))
    with pytest.raises(RuntimeError, match="not a generator state"):
        gen.set_state(lg.tensor([1, 2, 3], dtype=lg.uint8))


@pytest.mark.torch
def test_generator_seeds_match_pytorch(torch):
    for seed in (0, 5, -1, -2 ** 63, 2 ** 64 - 1):
        assert lg.Generator().manual_seed(seed).initial_seed() == \
            torch.Generator().manual_seed(seed).initial_seed()
    for bad in (1.5, 2 ** 64, -2 ** 63 - 1):
        with pytest.raises(Exception) as theirs:
            torch.Generator().manual_seed(bad)
        with pytest.raises(Exception) as ours:
            lg.Generator().manual_seed(bad)
        assert issubclass(ours.type, (RuntimeError, ValueError)) and \
            issubclass(theirs.type, (RuntimeError, ValueError))
    assert lg.Generator().initial_seed() == torch.Generator().initial_seed()
    assert _name(lg.Generator().get_state().dtype) == _name(torch.Generator().get_state().dtype)


# ---------------------------------------------------------------- shapes, dtypes, ranges

SAMPLERS = {
    "rand": lambda m: m.rand(2, 3),
    "rand-tuple": lambda m: m.rand((2, 3)),
    "rand-size-keyword": lambda m: m.rand(size=(2, 3)),
    "rand-0d": lambda m: m.rand(()),
    "rand-float64": lambda m: m.rand(2, dtype=m.float64),
    "rand-float16": lambda m: m.rand(2, dtype=m.float16),
    "rand-bfloat16": lambda m: m.rand(2, dtype=m.bfloat16),
    "rand-int": lambda m: m.rand(2, dtype=m.int64),
    "rand-requires-grad": lambda m: m.rand(2, requires_grad=True),
    "rand-no-size": lambda m: m.rand(),
    "randn": lambda m: m.randn(4),
    "randn-int": lambda m: m.randn(2, dtype=m.int32),
    "randn-size-keyword": lambda m: m.randn(size=[3]),
    "randn-generator": lambda m: m.randn(2, generator=m.Generator()),
    "randint-high": lambda m: m.randint(10, (3,)),
    "randint-low-high": lambda m: m.randint(2, 10, (3,)),
    "randint-keywords": lambda m: m.randint(low=2, high=10, size=(3,)),
    "randint-high-keyword": lambda m: m.randint(high=10, size=(3,)),
    "randint-int-size": lambda m: m.randint(0, 10, 3),
    "randint-float-dtype": lambda m: m.randint(0, 10, (3,), dtype=m.float32),
    "randint-empty-range": lambda m: m.randint(5, 5, (3,)),
    "randint-list-size": lambda m: m.randint(0, 10, [2, 2]),
    "randint-negative": lambda m: m.randint(-5, 0, (3,)),
    "randint-uint8-overflow": lambda m: m.randint(0, 300, (3,), dtype=m.uint8),
    "randint-bool": lambda m: m.randint(0, 2, (3,), dtype=m.bool),
    "randint-requires-grad": lambda m: m.randint(0, 2, (3,), dtype=m.float32,
                                                 requires_grad=True),
    "randint-Size": lambda m: m.randint(0, 2, m.Size([2])),
    "randperm": lambda m: m.randperm(5),
    "randperm-0": lambda m: m.randperm(0),
    "randperm-float": lambda m: m.randperm(5, dtype=m.float32),
    "randperm-int32": lambda m: m.randperm(5, dtype=m.int32),
    "randperm-negative": lambda m: m.randperm(-1),
    "normal-tensors": lambda m: m.normal(m.zeros(3), m.ones(3)),
    "normal-tensor-mean": lambda m: m.normal(m.zeros(3), 1.0),
    "normal-tensor-std": lambda m: m.normal(0.0, m.ones(3)),
    "normal-numbers": lambda m: m.normal(0.0, 1.0, (2, 3)),
    "normal-size-keyword": lambda m: m.normal(0.0, 1.0, size=(2,)),
    "normal-float64-mean": lambda m: m.normal(m.zeros(3, dtype=m.float64), 1.0),
    "normal-float64-std": lambda m: m.normal(m.zeros(2), m.ones(2, dtype=m.float64)),
    "normal-number-float64-std": lambda m: m.normal(0.0, m.ones(2, dtype=m.float64)),
    "normal-broadcast": lambda m: m.normal(m.zeros(3, 1), m.ones(1, 2)),
    "normal-mismatch": lambda m: m.normal(m.zeros(3), m.ones(2)),
    "normal-negative-std": lambda m: m.normal(m.zeros(3), -1.0),
    "normal-negative-std-tensor": lambda m: m.normal(m.zeros(3), -m.ones(3)),
    "normal-requires-grad-mean": lambda m: m.normal(m.zeros(3, requires_grad=True), 1.0),
    "normal-requires-grad-flag": lambda m: m.normal(0.0, 1.0, (2,), requires_grad=True),
    "normal-dtype": lambda m: m.normal(0.0, 1.0, (2,), dtype=m.float64),
    "normal-int-mean": lambda m: m.normal(m.zeros(3, dtype=m.int64), 1.0),
    "normal-no-size": lambda m: m.normal(0.0, 1.0),
    "bernoulli": lambda m: m.bernoulli(m.full((3,), 0.5)),
    "bernoulli-float64": lambda m: m.bernoulli(m.full((3,), 0.5, dtype=m.float64)),
    "bernoulli-float16": lambda m: m.bernoulli(m.zeros(2, dtype=m.float16)),
    "bernoulli-p": lambda m: m.bernoulli(m.zeros(3), 0.5),
    "bernoulli-int-input": lambda m: m.bernoulli(m.zeros(3, dtype=m.int64)),
    "bernoulli-int-input-p": lambda m: m.bernoulli(m.zeros(2, dtype=m.int64), 0.5),
    "bernoulli-bool-input-p": lambda m: m.bernoulli(m.zeros(2, dtype=m.bool), 0.5),
    "bernoulli-bad-probability": lambda m: m.bernoulli(m.full((3,), 1.5)),
    "bernoulli-method": lambda m: m.full((3,), 0.5).bernoulli(),
    "bernoulli-requires-grad": lambda m: m.bernoulli(m.full((3,), 0.5, requires_grad=True)),
    "multinomial": lambda m: m.multinomial(m.ones(4), 2),
    "multinomial-replacement": lambda m: m.multinomial(m.ones(4), 10, replacement=True),
    "multinomial-2d": lambda m: m.multinomial(m.ones(3, 4), 2),
    "multinomial-2d-replacement": lambda m: m.multinomial(m.ones(3, 4), 7, True),
    "multinomial-too-many": lambda m: m.multinomial(m.ones(4), 5),
    "multinomial-zero-row": lambda m: m.multinomial(m.zeros(4), 1),
    "multinomial-negative": lambda m: m.multinomial(-m.ones(4), 1),
    "multinomial-0-samples": lambda m: m.multinomial(m.ones(4), 0),
    "multinomial-3d": lambda m: m.multinomial(m.ones(2, 2, 4), 1),
    "multinomial-0d": lambda m: m.multinomial(m.tensor(1.0), 1),
    "multinomial-int": lambda m: m.multinomial(m.ones(4, dtype=m.int64), 1),
    "multinomial-inf": lambda m: m.multinomial(m.tensor([1.0, float("inf")]), 1),
    "multinomial-few-nonzero": lambda m: m.multinomial(m.tensor([1.0, 0.0, 0.0]), 2),
    "multinomial-method": lambda m: m.ones(4).multinomial(2),
    "poisson": lambda m: m.poisson(m.ones(3)),
    "rand_like": lambda m: m.rand_like(m.ones(2, dtype=m.float64)),
    "rand_like-int": lambda m: m.rand_like(m.ones(2, dtype=m.int64)),
    "randn_like": lambda m: m.randn_like(m.ones(2, 3)),
    "randint_like": lambda m: m.randint_like(m.ones(2), 5),
    "randint_like-low-high": lambda m: m.randint_like(m.ones(2), 3, 5),
    "randint_like-int": lambda m: m.randint_like(m.ones(2, dtype=m.int32), 5),
    "uniform_": lambda m: m.zeros(3).uniform_(2, 3),
    "uniform_-int": lambda m: m.zeros(3, dtype=m.int64).uniform_(),
    "normal_": lambda m: m.zeros(3).normal_(),
    "random_": lambda m: m.zeros(3).random_(0, 5),
    "random_-high": lambda m: m.zeros(3).random_(5),
    "random_-default": lambda m: m.zeros(3, dtype=m.int64).random_(),
    "exponential_": lambda m: m.zeros(3).exponential_(),
    "bernoulli_": lambda m: m.zeros(3).bernoulli_(0.5),
    "bernoulli_-requires-grad": lambda m: m.zeros(3, requires_grad=True).bernoulli_(0.5),
    "rand-out": lambda m: m.rand(3, out=m.zeros(3, dtype=m.float64)),
    "rand-out-int": lambda m: m.rand(3, out=m.zeros(3, dtype=m.int64)),
    "rand-out-requires-grad": lambda m: m.rand(3, out=m.zeros(3, requires_grad=True)),
    "rand-out-flag": lambda m: m.rand(3, out=m.zeros(3), requires_grad=True),
    "randn-out-float16": lambda m: m.randn(2, 2, out=m.zeros(2, 2, dtype=m.float16)),
    "randint-out-float": lambda m: m.randint(0, 5, (3,), out=m.zeros(3)),
    "randint-out-uint8-overflow": lambda m: m.randint(0, 300, (3,),
                                                      out=m.zeros(3, dtype=m.uint8)),
    "randperm-out": lambda m: m.randperm(4, out=m.zeros(4)),
    "normal-out": lambda m: m.normal(0.0, 1.0, (3,), out=m.zeros(3, dtype=m.float64)),
    "normal-tensor-out": lambda m: m.normal(m.zeros(3), 1.0, out=m.zeros(3)),
    "normal-out-requires-grad-mean": lambda m: m.normal(m.zeros(3, requires_grad=True), 1.0,
                                                        out=m.zeros(3)),
    "bernoulli-out": lambda m: m.bernoulli(m.full((3,), 0.5), out=m.zeros(3, dtype=m.int64)),
    "multinomial-out": lambda m: m.multinomial(m.ones(4), 2, out=m.zeros(2, dtype=m.int64)),
}


def _outcome(make):
    try:
        t = make()
    except Exception as error:  # noqa: BLE001 - the error type is the outcome compared
        return type(error)
    return (_name(t.dtype), tuple(t.shape), t.requires_grad,
            None if t.grad_fn is None else t.grad_fn.name())


def _family(error):
    for family in (NotImplementedError, TypeError, ValueError, RuntimeError):
        if issubclass(error, family):
            return family
    return error


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(SAMPLERS))
def test_samplers_match_pytorch(case, torch):
    ours, theirs = _outcome(lambda: SAMPLERS[case](lg)), _outcome(lambda: SAMPLERS[case](torch))
    if isinstance(theirs, type):
        assert isinstance(ours, type), f"PyTorch raised {theirs.__name__}, labgrad gave {ours}"
        assert _family(ours) is _family(theirs)
    else:
        assert ours == theirs


def test_sampler_shapes_and_dtypes():
    assert lg.rand(2, 3).shape == (2, 3) and lg.rand(2, 3).dtype is lg.float32
    assert lg.randn(4, dtype=lg.float64).dtype is lg.float64
    assert lg.randint(5, (2, 2)).dtype is lg.int64
    assert lg.randperm(4).dtype is lg.int64
    assert lg.normal(lg.zeros(2, 1), lg.ones(1, 3)).shape == (2, 3)
    assert lg.multinomial(lg.ones(3, 5), 4).shape == (3, 4)
    assert lg.multinomial(lg.ones(3, 5), 9, replacement=True).dtype is lg.int64
    assert lg.bernoulli(lg.full((2, 2), 0.5, dtype=lg.float64)).dtype is lg.float64
    assert lg.rand(2, requires_grad=True).requires_grad
    for bad in (lambda: lg.rand(2, dtype=lg.int64), lambda: lg.randn(2, dtype=lg.int32),
                lambda: lg.zeros(2, dtype=lg.int64).uniform_()):
        with pytest.raises(NotImplementedError):
            bad()
    with pytest.raises(TypeError):
        lg.rand()
    with pytest.raises(TypeError):
        lg.randint(0, 10, 3)
    with pytest.raises(RuntimeError, match="from"):
        lg.randint(5, 5, (3,))
    with pytest.raises(RuntimeError, match="out of bounds"):
        lg.randint(0, 300, (3,), dtype=lg.uint8)
    with pytest.raises(RuntimeError, match="negative dimension"):
        lg.randperm(-1)


def test_sampler_ranges():
    lg.manual_seed(0)
    u = lg.rand(10000).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    for dtype in (lg.float16, lg.bfloat16, lg.float64):
        values = lg.rand(5000, dtype=dtype).float().numpy()
        assert values.min() >= 0.0 and values.max() < 1.0
    ints = lg.randint(-3, 4, (5000,)).numpy()
    assert ints.min() == -3 and ints.max() == 3
    assert set(lg.randint(0, 2, (200,), dtype=lg.bool).tolist()) == {True, False}
    assert sorted(lg.randperm(50).tolist()) == list(range(50))
    assert sorted(lg.randperm(7, dtype=lg.float32).tolist()) == [float(i) for i in range(7)]
    assert set(lg.bernoulli(lg.full((500,), 0.5)).tolist()) == {0.0, 1.0}
    picks = lg.multinomial(lg.tensor([0.0, 1.0, 0.0, 2.0]), 1000, replacement=True).numpy()
    assert set(picks.tolist()) <= {1, 3}
    filled = lg.zeros(1000).uniform_(2, 3).numpy()
    assert filled.min() >= 2 and filled.max() < 3
    assert set(lg.zeros(500).random_(0, 3).tolist()) == {0.0, 1.0, 2.0}
    assert lg.zeros(500, dtype=lg.int8).random_().numpy().min() >= 0
    assert (lg.zeros(100).exponential_().numpy() >= 0).all()


def test_sampler_statistics():
    lg.manual_seed(0)
    n = 200_000
    u = lg.rand(n).numpy().astype(np.float64)
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    z = lg.randn(n).numpy().astype(np.float64)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    mean, std = lg.tensor([-5.0, 0.0, 10.0]), lg.tensor([0.5, 1.0, 3.0])
    samples = np.stack([lg.normal(mean, std).numpy() for _ in range(4000)])
    np.testing.assert_allclose(samples.mean(0), [-5.0, 0.0, 10.0], atol=0.15)
    np.testing.assert_allclose(samples.std(0), [0.5, 1.0, 3.0], rtol=0.06)
    fixed = lg.normal(3.0, 2.0, (n,)).numpy()
    assert abs(fixed.mean() - 3) < 0.03 and abs(fixed.std() - 2) < 0.03
    p = lg.tensor([0.1, 0.5, 0.9])
    hits = np.stack([lg.bernoulli(p).numpy() for _ in range(4000)]).mean(0)
    np.testing.assert_allclose(hits, [0.1, 0.5, 0.9], atol=0.03)
    counts = np.bincount(lg.multinomial(lg.tensor([1.0, 2.0, 7.0]), n, True).numpy(),
                         minlength=3) / n
    np.testing.assert_allclose(counts, [0.1, 0.2, 0.7], atol=0.01)
    ints = lg.randint(0, 10, (n,)).numpy()
    np.testing.assert_allclose(np.bincount(ints) / n, np.full(10, 0.1), atol=0.005)
    assert abs(lg.poisson(lg.full((n,), 4.0)).numpy().mean() - 4.0) < 0.03


def test_multinomial_without_replacement():
    lg.manual_seed(0)
    rows = lg.multinomial(lg.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0]]), 2)
    for row in rows.tolist():
        assert len(set(row)) == 2  # no repeats in a row
    assert set(rows[1].tolist()) == {1, 2}
    # Heavier categories come first more often: category 2 of [1, 1, 8] leads ~80% of draws.
    firsts = [lg.multinomial(lg.tensor([1.0, 1.0, 8.0]), 3)[0].item() for _ in range(2000)]
    assert abs(firsts.count(2) / 2000 - 0.8) < 0.04
    # With fewer non-zero weights than samples, zero-weight categories come last (PyTorch).
    few = lg.multinomial(lg.tensor([1.0, 0.0, 0.0]), 2)
    assert few[0].item() == 0 and len(set(few.tolist())) == 2


def test_random_results_do_not_carry_gradients():
    mean = lg.zeros(3, requires_grad=True)
    out = lg.normal(mean, 1.0)
    assert out.requires_grad and out.grad_fn.name() == "NormalBackward1"
    out.sum().backward()
    assert mean.grad.tolist() == [0.0, 0.0, 0.0]
    p = lg.full((3,), 0.5, requires_grad=True)
    drawn = lg.bernoulli(p)
    assert drawn.grad_fn.name() == "BernoulliBackward0"
    drawn.sum().backward()
    assert p.grad.tolist() == [0.0, 0.0, 0.0]
    with lg.no_grad():
        assert not lg.normal(mean, 1.0).requires_grad


def test_in_place_fills_refuse_leaves_that_require_grad():
    t = lg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        lgr.uniform_(t)
    for fill in ("normal_", "cauchy_", "random_"):  # the error names the op
        with pytest.raises(RuntimeError, match=rf"^{fill}: a leaf tensor that requires grad"):
            getattr(t, fill)()
    with lg.no_grad():
        lgr.uniform_(t)
    assert t._version == 1


def test_extra_in_place_fills():
    lg.manual_seed(0)
    geometric = lgr.geometric_(lg.zeros(5000), 0.25).numpy()
    assert geometric.min() >= 1 and abs(geometric.mean() - 4) < 0.2
    log_normal = lgr.log_normal_(lg.zeros(5000), 0.0, 0.5).numpy()
    assert log_normal.min() > 0
    assert abs(np.median(log_normal) - 1.0) < 0.05  # exp(mean)
    cauchy = lgr.cauchy_(lg.zeros(5001), 2.0, 1.0).numpy()
    assert abs(np.median(cauchy) - 2.0) < 0.1
    np.testing.assert_allclose(np.percentile(cauchy, [25, 75]), [1.0, 3.0], atol=0.15)
    normal = lg.zeros(20000, dtype=lg.float64).normal_(3.0, 2.0).numpy()
    assert abs(normal.mean() - 3.0) < 0.05 and abs(normal.std() - 2.0) < 0.05
    firsts = np.bincount([lg.randperm(3)[0].item() for _ in range(3000)], minlength=3) / 3000
    np.testing.assert_allclose(firsts, [1 / 3] * 3, atol=0.04)


class _SharedMethodsOnly:
    """A NumPy generator showing only the methods CuPy's Generator has too (it has no
    permutation, normal, lognormal or standard_cauchy)."""

    SHARED = frozenset({"random", "uniform", "integers", "standard_normal", "exponential",
                        "geometric", "poisson"})

    def __init__(self, rng):
        self._rng = rng

    def __getattr__(self, name):
        if name not in self.SHARED:
            raise AttributeError(f"cupy.random.Generator has no attribute {name!r}")
        return getattr(self._rng, name)


def test_samplers_use_only_methods_cupy_generators_have():
    """randperm, normal_, log_normal_ and cauchy_ called NumPy-only methods, so they would
    fail on a GPU."""
    gen = lg.Generator()
    gen._rng = _SharedMethodsOnly(np.random.default_rng(0))
    x = lg.zeros(6)
    draws = [lg.rand(3, generator=gen), lg.randn(3, generator=gen),
             lg.randint(0, 5, (3,), generator=gen), lg.randperm(6, generator=gen),
             lg.normal(0.0, 1.0, (3,), generator=gen), lg.normal(x, 1.0, generator=gen),
             lg.bernoulli(x + 0.5, generator=gen), lg.poisson(x + 1, generator=gen),
             lg.multinomial(x + 1, 2, generator=gen)]
    draws += [getattr(lg.zeros(6), fill)(*args, generator=gen) for fill, args in (
        ("uniform_", ()), ("normal_", ()), ("bernoulli_", ()), ("exponential_", ()),
        ("geometric_", (0.5,)), ("log_normal_", ()), ("cauchy_", ()), ("random_", (10,)))]
    assert all(isinstance(d, lg.Tensor) for d in draws)
    assert sorted(draws[3].tolist()) == list(range(6))


def test_samplers_write_into_out():
    """out= was ignored: the samplers returned a new tensor and left out as it was."""
    lg.manual_seed(0)
    expected = lg.rand(3, dtype=lg.float64).tolist()
    lg.manual_seed(0)
    out = lg.zeros(3, dtype=lg.float64)
    assert lg.rand(3, out=out) is out and out.tolist() == expected  # drawn in out's dtype
    assert out._version == 1
    out = lg.zeros(5, dtype=lg.int32)
    assert lg.randperm(5, out=out) is out and sorted(out.tolist()) == [0, 1, 2, 3, 4]
    out = lg.zeros(2, 3)
    assert lg.normal(0.0, 1.0, (2, 3), out=out) is out and (out != 0).all()
    out = lg.zeros(4, dtype=lg.int64)
    assert lg.multinomial(lg.ones(4), 4, out=out) is out and sorted(out.tolist()) == [0, 1, 2, 3]
    with pytest.raises(RuntimeError, match=r"randn: .*\(2, 2\).*\(4,\)"):
        lg.randn(2, 2, out=lg.zeros(4))
    with pytest.raises(NotImplementedError):
        lg.rand(3, out=lg.zeros(3, dtype=lg.int64))  # as PyTorch: rand makes floats only


def test_uint_dtypes_sample():
    assert lg.randint(0, 10, (3,), dtype=lgd.uint16).dtype is lgd.uint16
