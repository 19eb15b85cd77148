"""labgrad.autograd.functional: vjp, jvp, jacobian, hessian, vhp, hvp.

Tests marked `torch` compare values, structures and errors with torch.autograd.functional;
the rest check against finite differences and closed forms.
"""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
from labgrad.autograd import functional as F

# torch's forward-mode Jacobian (vmap) goes through torch.jit.script, deprecated in torch 2.13
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")


def lg_tensor(array, requires_grad=False):
    return lg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


def to_numpy(value):
    return value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)


def assert_same(got, expected, atol=1e-8):
    """Same nesting (tuple or tensor, recursively), shapes and values. (torch's forward-mode
    Jacobian nests lists where the reverse mode nests tuples; labgrad gives tuples for both.)"""
    if isinstance(expected, (tuple, list)):
        assert isinstance(got, tuple), f"expected a tuple, got {type(got).__name__}"
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e, atol)
        return
    assert isinstance(got, lg.Tensor), f"expected a tensor, got {type(got).__name__}"
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(to_numpy(got), to_numpy(expected), rtol=1e-7, atol=atol)


def both(torch, arrays, tuple_=True):
    """The same inputs as labgrad and torch tensors (a tuple, or one tensor)."""
    ours = tuple(lg_tensor(a) for a in arrays)
    theirs = tuple(torch.tensor(np.asarray(a, dtype=np.float64)) for a in arrays)
    return (ours, theirs) if tuple_ else (ours[0], theirs[0])


RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 3))
W = RNG.standard_normal((2, 3))
X3 = RNG.standard_normal(3)
X4 = RNG.standard_normal(4)
M23 = RNG.standard_normal((2, 3))


# ------------------------------------------------------------------ functions under test
# Each works on labgrad and torch tensors alike (only methods and operators both share).

def elementwise(x):
    return x.exp() * x.sin()


def matmul(w, x):
    return w @ x


def multi_output(x, y):
    return (x * y).exp(), (x.sin() * y).sum(), y.tanh()


def ignores_second(x, y):
    return x * 2.0


def rosenbrock(x):
    return ((1 - x[:-1]) ** 2 + 100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def quadratic_form(x, a):
    return x @ (a @ x)


def logsumexp(x):
    return x.logsumexp(0)


def pow_adder(x, y):
    return (2 * x.pow(2) + 3 * y.pow(3)).sum()


JACOBIAN_CASES = [
    ("elementwise", elementwise, [X3], False),
    ("elementwise_matrix", elementwise, [M23], False),
    ("matmul", matmul, [W, X3], True),
    ("multi_output", multi_output, [X3, M23], True),
    ("ignores_second", ignores_second, [X3, X4], True),
]

HESSIAN_CASES = [
    ("rosenbrock", rosenbrock, [X4], False),
    ("quadratic_form", quadratic_form, [X3, A], True),
    ("logsumexp", logsumexp, [X4], False),
    ("pow_adder", pow_adder, [X3, M23], True),
]


# ------------------------------------------------------------------ against PyTorch

@pytest.mark.torch
@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
@pytest.mark.parametrize("name,func,arrays,tuple_", JACOBIAN_CASES,
                         ids=[c[0] for c in JACOBIAN_CASES])
def test_jacobian_matches_torch(torch, name, func, arrays, tuple_, strategy):
    ours, theirs = both(torch, arrays, tuple_)
    expected = torch.autograd.functional.jacobian(func, theirs, vectorize=True,
                                                  strategy=strategy)
    got = F.jacobian(func, ours, strategy=strategy)
    assert_same(got, expected)
    assert_same(F.jacobian(func, ours, vectorize=True), expected)


@pytest.mark.torch
@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
@pytest.mark.parametrize("name,func,arrays,tuple_", HESSIAN_CASES,
                         ids=[c[0] for c in HESSIAN_CASES])
def test_hessian_matches_torch(torch, name, func, arrays, tuple_, strategy):
    ours, theirs = both(torch, arrays, tuple_)
    expected = torch.autograd.functional.hessian(func, theirs, vectorize=True,
                                                 outer_jacobian_strategy=strategy)
    got = F.hessian(func, ours, outer_jacobian_strategy=strategy)
    assert_same(got, expected)


PRODUCT_CASES = [
    # (function, input arrays, tuple inputs?, v arrays for vjp, v arrays for jvp)
    ("elementwise", elementwise, [M23], False, [M23 * 0.5], [M23 - 1]),
    ("matmul", matmul, [W, X3], True, [X3[:2]], [W * 2, X3]),
    ("multi_output", multi_output, [X3, M23], True, [M23, np.array(1.5), M23 * 2],
     [X3 + 1, M23]),
]


@pytest.mark.torch
@pytest.mark.parametrize("name,func,arrays,tuple_,v_out,v_in", PRODUCT_CASES,
                         ids=[c[0] for c in PRODUCT_CASES])
def test_vjp_and_jvp_match_torch(torch, name, func, arrays, tuple_, v_out, v_in):
    ours, theirs = both(torch, arrays, tuple_)
    multi = name == "multi_output"
    v_out_ours, v_out_theirs = both(torch, v_out, multi)
    v_in_ours, v_in_theirs = both(torch, v_in, tuple_)
    tf = torch.autograd.functional
    assert_same(F.vjp(func, ours, v_out_ours), tf.vjp(func, theirs, v_out_theirs))
    assert_same(F.jvp(func, ours, v_in_ours), tf.jvp(func, theirs, v_in_theirs))


@pytest.mark.torch
@pytest.mark.parametrize("name,func,arrays,tuple_", HESSIAN_CASES,
                         ids=[c[0] for c in HESSIAN_CASES])
def test_vhp_and_hvp_match_torch(torch, name, func, arrays, tuple_):
    ours, theirs = both(torch, arrays, tuple_)
    v_arrays = [np.linspace(-1, 2, a.size).reshape(a.shape) for a in arrays]
    v_ours, v_theirs = both(torch, v_arrays, tuple_)
    tf = torch.autograd.functional
    assert_same(F.vhp(func, ours, v_ours), tf.vhp(func, theirs, v_theirs))
    assert_same(F.hvp(func, ours, v_ours), tf.hvp(func, theirs, v_theirs))


@pytest.mark.torch
def test_v_may_be_left_out_for_one_element_tensors_as_in_torch(torch):
    tf = torch.autograd.functional
    x, xt = both(torch, [np.array([0.7])], tuple_=False)
    assert_same(F.vjp(logsumexp, lg_tensor(X4)), tf.vjp(logsumexp, torch.tensor(X4)))
    assert_same(F.jvp(elementwise, x), tf.jvp(elementwise, xt))
    cube = lambda x: x.pow(3).sum()  # noqa: E731
    assert_same(F.vhp(cube, x), tf.vhp(cube, xt))
    assert_same(F.hvp(cube, x), tf.hvp(cube, xt))


@pytest.mark.torch
@pytest.mark.parametrize("fn", ["vjp", "jvp", "vhp", "hvp", "jacobian", "hessian"])
def test_create_graph_results_are_differentiable_like_torch(torch, fn):
    """With create_graph=True, the result is a function of the inputs: its gradient with
    respect to them (a third derivative for the Hessian ones) matches PyTorch's."""
    func = {"vjp": elementwise, "jvp": elementwise, "jacobian": elementwise}.get(fn, rosenbrock)
    x = lg_tensor(X4, requires_grad=True)
    xt = torch.tensor(X4, requires_grad=True)
    v, vt = lg_tensor(np.linspace(-1, 1, 4)), torch.tensor(np.linspace(-1, 1, 4))
    ours, theirs = getattr(F, fn), getattr(torch.autograd.functional, fn)
    if fn in ("jacobian", "hessian"):
        got, expected = ours(func, x, create_graph=True), theirs(func, xt, create_graph=True)
    else:
        got = ours(func, x, v, create_graph=True)[1]
        expected = theirs(func, xt, vt, create_graph=True)[1]
    assert got.requires_grad
    assert_same(got, expected)
    (gx,) = lg.autograd.grad((got * got).sum(), x)
    (gxt,) = torch.autograd.grad((expected * expected).sum(), xt)
    assert_same(gx, gxt)


STRICT_CASES = [
    # (name, call(tensor maker, functional namespace, strict)): all raise with strict=True in
    # torch; the ones named "independent" give zeros for the independent part without it.
    ("vjp_independent_input", lambda m, f, strict: f.vjp(
        ignores_second, (m(X3), m(X4)), m(X3), strict=strict)),
    ("vjp_constant_output", lambda m, f, strict: f.vjp(
        lambda x: x.detach() * 2, m(X3), m(X3), strict=strict)),
    ("jvp_independent_input", lambda m, f, strict: f.jvp(
        lambda x, y: (y * 0 + 1).detach() + x, (m(X3), m(X3)), (m(X3), m(X3)), strict=strict)),
    ("jacobian_independent_input", lambda m, f, strict: f.jacobian(
        ignores_second, (m(X3), m(X4)), strict=strict)),
    ("hessian_of_linear", lambda m, f, strict: f.hessian(
        lambda x: (x * 3).sum(), m(X3), strict=strict)),
    ("vhp_of_linear", lambda m, f, strict: f.vhp(
        lambda x: (x * 3).sum(), m(X3), m(X3), strict=strict)),
    ("hvp_of_linear", lambda m, f, strict: f.hvp(
        lambda x: (x * 3).sum(), m(X3), m(X3), strict=strict)),
    # strict=True is not supported with these options, in torch as here
    ("jacobian_vectorize", lambda m, f, strict: f.jacobian(
        elementwise, m(X3), strict=strict, vectorize=True)),
    ("jacobian_forward_mode", lambda m, f, strict: f.jacobian(
        elementwise, m(X3), strict=strict, vectorize=True, strategy="forward-mode")),
]
ZERO_CASES = [c for c in STRICT_CASES if "jacobian_" not in c[0] or "independent" in c[0]]


@pytest.mark.torch
@pytest.mark.parametrize("name,call", STRICT_CASES, ids=[c[0] for c in STRICT_CASES])
def test_strict_raises_where_torch_raises(torch, name, call):
    with pytest.raises(RuntimeError):
        call(torch.tensor, torch.autograd.functional, True)
    with pytest.raises(RuntimeError, match="strict"):
        call(lg_tensor, F, True)


@pytest.mark.torch
@pytest.mark.parametrize("name,call", ZERO_CASES, ids=[c[0] for c in ZERO_CASES])
def test_without_strict_independent_inputs_get_zeros_as_in_torch(torch, name, call):
    expected = call(torch.tensor, torch.autograd.functional, False)
    assert_same(call(lg_tensor, F, False), expected)


# ------------------------------------------------------------------ without PyTorch

def numerical_jacobian(func, arrays, eps=1e-6):
    """Central differences of func (on float64 labgrad tensors) with respect to each array."""
    blocks = []
    for j, array in enumerate(arrays):
        columns = []
        for k in range(array.size):
            shifted = []
            for sign in (1, -1):
                moved = [a.copy() for a in arrays]
                moved[j].reshape(-1)[k] += sign * eps
                shifted.append(to_numpy(func(*[lg_tensor(a) for a in moved])))
            columns.append((shifted[0] - shifted[1]) / (2 * eps))
        blocks.append(np.stack(columns, axis=-1).reshape(shifted[0].shape + array.shape))
    return blocks


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
@pytest.mark.parametrize("name,func,arrays", [
    ("elementwise", elementwise, [M23]),
    ("matmul", matmul, [W, X3]),
    ("rosenbrock", rosenbrock, [X4]),
])
def test_jacobian_matches_finite_differences(name, func, arrays, strategy):
    got = F.jacobian(func, tuple(lg_tensor(a) for a in arrays), strategy=strategy)
    for block, expected in zip(got, numerical_jacobian(func, arrays)):
        np.testing.assert_allclose(to_numpy(block), expected, rtol=1e-5, atol=1e-6)


def test_hessian_of_a_quadratic_form_is_a_plus_a_transposed():
    h = F.hessian(lambda x: quadratic_form(x, lg_tensor(A)), lg_tensor(X3))
    np.testing.assert_allclose(to_numpy(h), A + A.T, atol=1e-12)


def test_hessian_of_rosenbrock_at_the_minimum_has_the_closed_form():
    h = F.hessian(rosenbrock, lg_tensor([1.0, 1.0]))
    np.testing.assert_allclose(to_numpy(h), [[802.0, -400.0], [-400.0, 200.0]])


def test_hessian_of_logsumexp_is_diag_p_minus_p_p_transposed():
    p = np.exp(X4) / np.exp(X4).sum()
    h = F.hessian(logsumexp, lg_tensor(X4))
    np.testing.assert_allclose(to_numpy(h), np.diag(p) - np.outer(p, p), atol=1e-12)


def test_products_agree_with_the_full_jacobian_and_hessian():
    x, v3 = lg_tensor(X3), lg_tensor([0.5, -1.0, 2.0])
    jac = to_numpy(F.jacobian(elementwise, x))
    np.testing.assert_allclose(to_numpy(F.vjp(elementwise, x, v3)[1]), to_numpy(v3) @ jac)
    np.testing.assert_allclose(to_numpy(F.jvp(elementwise, x, v3)[1]), jac @ to_numpy(v3))
    x4, v4 = lg_tensor(X4), lg_tensor([1.0, 0.0, -2.0, 0.5])
    hess = to_numpy(F.hessian(rosenbrock, x4))
    np.testing.assert_allclose(to_numpy(F.vhp(rosenbrock, x4, v4)[1]), to_numpy(v4) @ hess)
    np.testing.assert_allclose(to_numpy(F.hvp(rosenbrock, x4, v4)[1]), hess @ to_numpy(v4))


def test_structure_follows_the_inputs_and_outputs():
    x, y = lg_tensor(X3), lg_tensor(M23)
    single = F.jacobian(elementwise, x)
    assert isinstance(single, lg.Tensor) and single.shape == (3, 3)
    per_input = F.jacobian(matmul, (lg_tensor(W), x))
    assert isinstance(per_input, tuple) and [b.shape for b in per_input] == [(2, 2, 3), (2, 3)]
    nested = F.jacobian(multi_output, (x, y))
    assert [[b.shape for b in row] for row in nested] == [
        [(2, 3, 3), (2, 3, 2, 3)], [(3,), (2, 3)], [(2, 3, 3), (2, 3, 2, 3)]]
    hess = F.hessian(pow_adder, (x, y))
    assert [[b.shape for b in row] for row in hess] == [[(3, 3), (3, 2, 3)],
                                                       [(2, 3, 3), (2, 3, 2, 3)]]
    out, grads = F.vjp(pow_adder, (x, y))
    assert isinstance(out, lg.Tensor) and isinstance(grads, tuple) and len(grads) == 2


def test_inputs_are_left_alone_and_results_do_not_require_grad():
    x = lg_tensor(X4, requires_grad=True)
    before = to_numpy(x).copy()
    results = [F.vjp(rosenbrock, x), F.jvp(elementwise, x, lg.ones(4)),
               F.vhp(rosenbrock, x, lg.ones(4)), F.hvp(rosenbrock, x, lg.ones(4)),
               (F.jacobian(elementwise, x),), (F.hessian(rosenbrock, x),)]
    for result in results:
        for t in result:
            assert not t.requires_grad and t.grad_fn is None
    assert x.grad is None
    np.testing.assert_array_equal(to_numpy(x), before)


def test_independent_inputs_get_zeros_without_strict():
    jac = F.jacobian(ignores_second, (lg_tensor(X3), lg_tensor(X4)))
    np.testing.assert_array_equal(to_numpy(jac[1]), np.zeros((3, 4)))
    _, (gx, gy) = F.vjp(ignores_second, (lg_tensor(X3), lg_tensor(X4)), lg.ones(3))
    np.testing.assert_array_equal(to_numpy(gy), np.zeros(4))
    np.testing.assert_array_equal(to_numpy(F.hessian(lambda x: x.sum(), lg_tensor(X3))),
                                  np.zeros((3, 3)))


def test_results_keep_a_graph_with_create_graph():
    x = lg_tensor(X3, requires_grad=True)
    _, jv = F.jvp(lambda x: x ** 3, x, lg.ones(3), create_graph=True)  # 3 x^2
    (g,) = lg.autograd.grad(jv.sum(), x)
    np.testing.assert_allclose(to_numpy(g), 6 * X3)


@pytest.mark.parametrize("call,message", [
    (lambda: F.vjp(elementwise, lg_tensor(X3)), "v can only be None"),
    (lambda: F.vjp(elementwise, lg_tensor(X3), lg.ones(4)), r"invalid size.*\(3,\).*\(4,\)"),
    (lambda: F.jvp(matmul, (lg_tensor(W), lg_tensor(X3)), (lg.ones(2, 3),)),
     "invalid length: should be 2 but got 1"),
    (lambda: F.hessian(elementwise, lg_tensor(X3)), "single element"),
    (lambda: F.vhp(multi_output, (lg_tensor(X3), lg_tensor(M23)), (lg.ones(3), lg.ones(2, 3))),
     "single Tensor"),
    (lambda: F.jacobian(elementwise, lg_tensor(X3), create_graph=True, strategy="forward-mode"),
     "create_graph"),
])
def test_misuse_is_an_error_that_says_what_is_wrong(call, message):
    with pytest.raises((RuntimeError, NotImplementedError), match=message):
        call()


def test_non_tensor_inputs_and_unknown_strategies_are_rejected():
    with pytest.raises(TypeError, match="index 1 has type list"):
        F.jacobian(matmul, (lg_tensor(W), [1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="reverse-mode"):
        F.jacobian(elementwise, lg_tensor(X3), strategy="sideways")


def test_functional_is_an_attribute_of_labgrad_autograd():
    assert lg.autograd.functional.jacobian is F.jacobian
