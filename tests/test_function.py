"""Custom autograd Functions (labgrad.autograd.Function), against finite differences and PyTorch.

Each Function is written once, as a factory over the library (`lib` is labgrad or torch), so
the PyTorch comparison runs the very same code: `import labgrad as torch` carries over.
"""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg
from labgrad.autograd import Function, gradcheck, gradgradcheck
from labgrad.autograd.function import once_differentiable


def make_cube(lib):
    class Cube(lib.autograd.Function):
        """k * x**3, with a non-tensor argument k kept on ctx; backward in library ops."""

        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x ** 3 * k

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * 3 * x ** 2 * ctx.k, None
    return Cube


def make_exp(lib):
    class Exp(lib.autograd.Function):
        """Saves its own output."""

        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            y, = ctx.saved_tensors
            return grad * y
    return Exp


def make_mul_add(lib):
    class MulAdd(lib.autograd.Function):
        """Two tensor inputs, two tensor outputs and a string mixed in, setup_context form."""

        @staticmethod
        def forward(a, b, scale=2.0):
            return a * b, "note", a + b * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            a, b, scale = inputs
            ctx.save_for_backward(a, b)
            ctx.scale = scale

        @staticmethod
        def backward(ctx, g_prod, g_none, g_sum):
            assert g_none is None
            a, b = ctx.saved_tensors
            grad_a = grad_b = None
            if ctx.needs_input_grad[0]:
                grad_a = g_prod * b + g_sum
            if ctx.needs_input_grad[1]:
                grad_b = g_prod * a + g_sum * ctx.scale
            return grad_a, grad_b, None
    return MulAdd


def make_passthrough(lib):
    class Passthrough(lib.autograd.Function):
        """Returns its input unchanged next to a new tensor."""

        @staticmethod
        def forward(ctx, x):
            return x, x * 2

        @staticmethod
        def backward(ctx, g_same, g_double):
            return g_same + 2 * g_double
    return Passthrough


def make_scale_(lib):
    class Scale_(lib.autograd.Function):
        """In place: x *= 3, with mark_dirty; saves the modified x (an output now)."""

        @staticmethod
        def forward(ctx, x):
            x.mul_(3)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * 3
    return Scale_


def make_sort_values(lib):
    class SortValues(lib.autograd.Function):
        """Sorted values and their (non-differentiable) indices."""

        @staticmethod
        def forward(ctx, x):
            values, indices = x.sort()
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(indices)
            return values, indices

        @staticmethod
        def backward(ctx, g_values, g_indices):
            indices, = ctx.saved_tensors
            return lib.zeros_like(g_values).scatter(0, indices, g_values)
    return SortValues


def _f64(*shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return lg.tensor(data, dtype=lg.float64, requires_grad=True)


# ------------------------------------------------------------------ finite differences

def test_gradcheck_and_gradgradcheck_with_a_non_tensor_argument():
    cube = make_cube(lg)
    x = _f64(3, 2)
    assert gradcheck(lambda t: cube.apply(t, 1.5), (x,))
    assert gradgradcheck(lambda t: cube.apply(t, 1.5), (x,))


def test_gradcheck_of_a_saved_output():
    exp = make_exp(lg)
    x = _f64(4)
    assert gradcheck(exp.apply, (x,))
    assert gradgradcheck(exp.apply, (x,))


def test_gradcheck_multiple_outputs_setup_context():
    mul_add = make_mul_add(lg)
    a, b = _f64(3, seed=1), _f64(3, seed=2)

    def fn(a, b):
        prod, _, total = mul_add.apply(a, b, 0.5)
        return prod, total
    assert gradcheck(fn, (a, b))
    assert gradgradcheck(fn, (a, b))


def test_create_graph_through_custom_backward():
    cube = make_cube(lg)
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    g, = lg.autograd.grad(cube.apply(x, 2.0).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [6.0, 24.0])
    gg, = lg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), [12.0, 24.0])  # d/dx 6 x**2 = 12 x


# ------------------------------------------------------------------ against PyTorch

def _run(lib, make, values, call):
    inputs = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values]
    outputs = call(make(lib), *inputs)
    loss = sum((o * (i + 1)).sum() for i, o in enumerate(outputs))
    loss.backward()
    return [o.detach().numpy() for o in outputs], [t.grad.numpy() for t in inputs]


CASES = [
    ("cube", make_cube, [[1.0, -2.0, 0.5]], lambda f, x: (f.apply(x, 3),)),
    ("exp", make_exp, [[0.1, -1.0]], lambda f, x: (f.apply(x),)),
    ("mul_add", make_mul_add, [[1.0, 2.0], [3.0, -1.0]],
     lambda f, a, b: f.apply(a, b, scale=4.0)[::2]),
    ("mul_add_default", make_mul_add, [[1.0, 2.0], [3.0, -1.0]],
     lambda f, a, b: f.apply(a, b)[::2]),
    ("passthrough", make_passthrough, [[1.0, 5.0]], lambda f, x: f.apply(x)),
    ("scale_", make_scale_, [[1.0, -4.0]], lambda f, x: (f.apply(x.clone()) * x,)),
    ("sort_values", make_sort_values, [[3.0, 1.0, 2.0]], lambda f, x: f.apply(x)[:1]),
]


@pytest.mark.torch
@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_matches_pytorch(torch, case):
    _, make, values, call = case
    got_out, got_grad = _run(lg, make, values, call)
    want_out, want_grad = _run(torch, make, values, call)
    for got, want in zip(got_out + got_grad, want_out + want_grad):
        np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("make", [make_cube, make_exp, make_passthrough, make_scale_,
                                  make_sort_values])
def test_node_name_and_edges_match_pytorch(torch, make):
    def describe(lib):
        x = lib.tensor([3.0, 1.0, 2.0], dtype=lib.float64, requires_grad=True)
        fn = make(lib)
        args = (x.clone(),) if make is make_scale_ else (x, 2.0) if make is make_cube else (x,)
        out = fn.apply(*args)
        outs = out if isinstance(out, tuple) else (out,)
        nodes = [(o.grad_fn.name() if o.grad_fn is not None else None, o.requires_grad,
                  o._version) for o in outs]
        edges = [None if n is None else n.name().split("::")[-1]  # torch::autograd::AccumulateGrad
                 for n, _ in outs[0].grad_fn.next_functions]
        return nodes, edges, outs[0].grad_fn.needs_input_grad
    assert describe(lg) == describe(torch)


# ------------------------------------------------------------------ ctx features

def test_node_is_named_after_the_function_and_carries_ctx_attributes():
    cube = make_cube(lg)
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    y = cube.apply(x, 4)
    assert y.grad_fn.name() == "CubeBackward"
    assert y.grad_fn.k == 4
    assert y.grad_fn.needs_input_grad == (True, False)
    assert len(y.grad_fn.next_functions) == 1  # no edge for the non-tensor argument
    assert y.grad_fn.saved_tensors[0] is x


def test_needs_input_grad_inside_forward_and_backward():
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, n):
            seen.append(("forward", ctx.needs_input_grad))
            return a * b

        @staticmethod
        def backward(ctx, grad):
            seen.append(("backward", ctx.needs_input_grad))
            return grad, None, None
    a = lg.ones(2, requires_grad=True)
    Probe.apply(a, lg.ones(2), 3).sum().backward()
    assert seen == [("forward", (True, False, False)), ("backward", (True, False, False))]


def test_saved_tensor_modified_in_place_is_caught():
    cube = make_cube(lg)
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = cube.apply(h, 1.0)
    h.add_(1)
    with pytest.raises(RuntimeError, match="CubeBackward.*modified by an in-place"):
        y.sum().backward()


def test_saved_tensors_are_freed_after_backward():
    cube = make_cube(lg)
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    y = cube.apply(x, 1.0).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 24.0])
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    with pytest.raises(RuntimeError, match="freed"):
        y.grad_fn.next_functions[0][0].saved_tensors


def test_function_that_saved_nothing_can_run_backward_twice():
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2
    x = lg.ones(2, requires_grad=True)
    y = Double.apply(x).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])


def test_materialize_grads():
    received = []

    def make(materialize):
        class Two(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(materialize)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, ga, gb):
                received.append(gb)
                return ga * 2
        return Two
    x = lg.ones(2, requires_grad=True)
    make(True).apply(x)[0].sum().backward()
    make(False).apply(x)[0].sum().backward()
    np.testing.assert_array_equal(received[0].numpy(), [0.0, 0.0])
    assert received[1] is None


def test_non_differentiable_outputs():
    sort_values = make_sort_values(lg)
    x = lg.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, indices = sort_values.apply(x)
    assert values.requires_grad and values.grad_fn.name() == "SortValuesBackward"
    assert not indices.requires_grad and indices.grad_fn is None
    (values * lg.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [100.0, 1.0, 10.0])


def test_input_returned_unchanged_is_a_view():
    passthrough = make_passthrough(lg)
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    same, _ = passthrough.apply(x)
    assert same is not x and same._base is x
    assert same.grad_fn.name() == "PassthroughBackward"
    with lg.no_grad():
        assert passthrough.apply(x)[0] is not x


def test_mark_dirty_gives_the_input_the_new_history():
    scale_ = make_scale_(lg)
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    out = scale_.apply(h)
    assert out is h
    assert h.grad_fn.name() == "Scale_Backward"
    assert h.grad_fn.next_functions[0][0].name() == "MulBackward0"
    np.testing.assert_array_equal(h.detach().numpy(), [3.0, 6.0])
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_mark_dirty_on_a_view_updates_its_base():
    scale_ = make_scale_(lg)
    x = lg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = x * 1
    scale_.apply(base[1:])
    np.testing.assert_array_equal(base.detach().numpy(), [1.0, 6.0, 9.0])
    (base * lg.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 30.0, 300.0])


def test_no_node_without_grad():
    cube = make_cube(lg)
    assert cube.apply(lg.ones(2), 1.0).grad_fn is None
    with lg.no_grad():
        y = cube.apply(lg.ones(2, requires_grad=True), 1.0)
    assert y.grad_fn is None and not y.requires_grad


def test_forward_runs_without_recording():
    class Inside(Function):
        @staticmethod
        def forward(ctx, x):
            inner = x * 2
            assert inner.grad_fn is None and not lg.is_grad_enabled()
            return inner

        @staticmethod
        def backward(ctx, grad):
            return grad * 2
    assert Inside.apply(lg.ones(2, requires_grad=True)).grad_fn.name() == "InsideBackward"


def test_vjp_may_replace_backward():
    class Neg(Function):
        @staticmethod
        def forward(ctx, x):
            return -x

        @staticmethod
        def vjp(ctx, grad):
            return -grad
    x = lg.ones(2, requires_grad=True)
    Neg.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, -1.0])


def test_gradient_of_a_broadcast_shape_is_summed_down():
    class Wide(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad.expand(3, 2)
    x = lg.ones(2, requires_grad=True)
    Wide.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


# ------------------------------------------------------------------ once_differentiable

class _OnceCube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        assert not lg.is_grad_enabled()
        return grad * 3 * x ** 2


def test_once_differentiable_first_order():
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    _OnceCube.apply(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 12.0])


def test_once_differentiable_refuses_a_second_derivative():
    x = lg.tensor([1.0, 2.0], requires_grad=True)
    v = lg.ones(2, requires_grad=True)
    g, = lg.autograd.grad(_OnceCube.apply(x), x, grad_outputs=v, create_graph=True)
    assert g.grad_fn.name() == "DelayedError"
    with pytest.raises(RuntimeError, match="differentiate twice.*once_differentiable"):
        g.sum().backward()


@pytest.mark.torch
def test_once_differentiable_matches_pytorch(torch):
    from torch.autograd.function import once_differentiable as torch_once

    class TorchOnceCube(torch.autograd.Function):
        forward = _OnceCube.forward

        @staticmethod
        @torch_once
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * 3 * x ** 2

    def run(lib, fn):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        v = lib.ones(2, requires_grad=True)
        g, = lib.autograd.grad(fn.apply(x), x, grad_outputs=v, create_graph=True)
        plain, = lib.autograd.grad(fn.apply(x).sum(), x, create_graph=True)
        return g.requires_grad, plain.requires_grad
    assert run(lg, _OnceCube) == run(torch, TorchOnceCube)


# ------------------------------------------------------------------ errors, as PyTorch raises

def _bad_backward(result_of):
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y, k):
            return x * y * k

        @staticmethod
        def backward(ctx, grad):
            return result_of(grad)
    return Bad


@pytest.mark.parametrize("result_of, message", [
    (lambda g: g, r"BadBackward returned an incorrect number of gradients \(expected 3, got 1\)"),
    (lambda g: (g, g, None, g), r"incorrect number of gradients \(expected 3, got 4\)"),
    (lambda g: (g, g, g), "different than None at position 3"),
    (lambda g: (g, g[:1], None), r"invalid gradient at index 1 - got \[1\] but expected shape "
     r"compatible with \[2\]"),
    (lambda g: (g, g.sum(), None), r"invalid gradient at index 1 - got \[\]"),
])
def test_backward_result_errors(result_of, message):
    x, y = lg.ones(2, requires_grad=True), lg.ones(2, requires_grad=True)
    out = _bad_backward(result_of).apply(x, y, 2.0)
    with pytest.raises(RuntimeError, match=message):
        out.sum().backward()


def test_extra_trailing_none_gradients_are_allowed():
    x, y = lg.ones(2, requires_grad=True), lg.ones(2, requires_grad=True)
    _bad_backward(lambda g: (g, g, None, None)).apply(x, y, 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


@pytest.mark.torch
@pytest.mark.parametrize("result_of", [
    lambda g: g, lambda g: (g, g, None, g), lambda g: (g, g, g), lambda g: (g, g[:1], None),
    lambda g: (g, g.reshape(2, 1), None)])
def test_backward_result_errors_where_pytorch_raises(torch, result_of):
    class TorchBad(torch.autograd.Function):
        forward = staticmethod(lambda ctx, x, y, k: x * y * k)
        backward = staticmethod(lambda ctx, grad: result_of(grad))
    for lib, fn in ((torch, TorchBad), (lg, _bad_backward(result_of))):
        x, y = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError):
            fn.apply(x, y, 2.0).sum().backward()


def test_save_for_backward_takes_only_tensors():
    class SavesInt(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x, 3)
            return x * 1
    with pytest.raises(TypeError, match="argument 1 is of type int"):
        SavesInt.apply(lg.ones(2, requires_grad=True))


def test_mark_dirty_of_a_leaf_that_requires_grad():
    scale_ = make_scale_(lg)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        scale_.apply(lg.ones(2, requires_grad=True))


def test_dirty_tensor_must_be_returned():
    class Forgets(Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x * 2
    with pytest.raises(RuntimeError, match="dirty.*not returned"):
        Forgets.apply(lg.ones(2, requires_grad=True) * 1)


def test_missing_forward_and_backward():
    class Empty(Function):
        pass
    with pytest.raises(NotImplementedError, match="implement the forward"):
        Empty.apply(lg.ones(2))

    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2
    y = NoBackward.apply(lg.ones(2, requires_grad=True))
    with pytest.raises(NotImplementedError, match="backward or vjp"):
        y.sum().backward()
