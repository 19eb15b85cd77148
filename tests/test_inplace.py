"""In-place ops: values, gradients, version counters, views and the errors PyTorch raises.

Each `torch` test runs the same function on labgrad and on PyTorch (the module is passed in),
so the two columns of results are computed by identical code.
"""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg

W0 = np.array([[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]])
B0 = np.array([[1.5, 2.0, -0.5], [0.75, 1.25, 3.0]])


def close(got, expected, atol=1e-6):
    def as_array(t):
        return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)
    np.testing.assert_allclose(as_array(got), as_array(expected), rtol=1e-5, atol=atol)


def same_results(fn, torch):
    """fn(module) returns a tuple of tensors (or None); labgrad's must equal PyTorch's."""
    got, expected = fn(lg), fn(torch)
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected)):
        if e is None:
            assert g is None, f"result {i}: expected None"
        else:
            assert g is not None, f"result {i}: got None"
            close(g, e)


def leaves(mod):
    w = mod.tensor(W0, requires_grad=True)
    b = mod.tensor(B0, requires_grad=True)
    return w, b


# ------------------------------------------------------------------ values and gradients

INPLACE_CASES = {
    "iadd_tensor": lambda x, b: x.__iadd__(b),
    "isub_tensor": lambda x, b: x.__isub__(b),
    "imul_tensor": lambda x, b: x.__imul__(b),
    "idiv_tensor": lambda x, b: x.__itruediv__(b),
    "iadd_scalar": lambda x, b: x.__iadd__(2.5),
    "isub_scalar": lambda x, b: x.__isub__(2.5),
    "imul_scalar": lambda x, b: x.__imul__(-3.0),
    "idiv_scalar": lambda x, b: x.__itruediv__(4.0),
    "add_alpha": lambda x, b: x.add_(b, alpha=2),
    "sub_": lambda x, b: x.sub_(b),
    "mul_": lambda x, b: x.mul_(b),
    "div_": lambda x, b: x.div_(b),
    "pow_scalar": lambda x, b: x.pow_(2),
    "pow_tensor": lambda x, b: x.abs_().pow_(b),
    "clamp_": lambda x, b: x.clamp_(-1.0, 1.0),
    "clamp_min_": lambda x, b: x.clamp_(min=0.3),
    "relu_": lambda x, b: x.relu_(),
    "exp_": lambda x, b: x.exp_(),
    "sigmoid_": lambda x, b: x.sigmoid_(),
    "tanh_": lambda x, b: x.tanh_(),
    "abs_": lambda x, b: x.abs_(),
    "neg_": lambda x, b: x.neg_(),
    "sqrt_": lambda x, b: x.abs_().sqrt_(),
    "log_": lambda x, b: x.abs_().log_(),
    "chain": lambda x, b: x.mul_(b).add_(1).abs_().log_(),
    "self_operand": lambda x, b: x.add_(x),
    "lerp_": lambda x, b: x.lerp_(b, 0.25),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(INPLACE_CASES))
def test_inplace_values_and_gradients_match_pytorch(name, torch):
    op = INPLACE_CASES[name]

    def run(mod):
        w, b = leaves(mod)
        x = w * 1.5  # a non-leaf: in-place is allowed
        out = op(x, b)
        assert out is x  # in-place ops return the tensor itself
        (x * mod.tensor(B0)).sum().backward()
        return x, w.grad, b.grad
    same_results(run, torch)


def test_imul_by_itself_gives_the_right_gradient():
    # PyTorch raises here (mul saved `other`, which is the tensor being overwritten); labgrad
    # keeps a copy of the old values for every node of the op that saved them.
    w = lg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x = w * 1
    x *= x
    x.sum().backward()
    close(x, [1.0, 4.0, 9.0])
    close(w.grad, [2.0, 4.0, 6.0])


def test_inplace_keeps_the_old_values_an_op_needs_for_backward():
    w = lg.tensor([1.0, 2.0], requires_grad=True)
    b = lg.tensor([3.0, 4.0], requires_grad=True)
    x = w * 1
    x.mul_(b)  # the gradient for b is x's old value, which mul_ overwrites
    x.sum().backward()
    close(w.grad, [3.0, 4.0])
    close(b.grad, [1.0, 2.0])


def test_modifying_the_output_of_an_inplace_op_again_keeps_gradients_right():
    # PyTorch raises here (exp_ saved its output, which add_ then changes); labgrad's exp_
    # saved its result's own memory, so the gradient is still right.
    w = lg.tensor([0.5, 1.0], dtype=lg.float64, requires_grad=True)
    x = w * 2
    x.exp_().add_(1).log_()
    x.sum().backward()
    e = np.exp(2 * np.array([0.5, 1.0]))
    close(w.grad, 2 * e / (e + 1))


def test_inplace_result_takes_over_the_history():
    w = lg.tensor([1.0, 2.0], requires_grad=True)
    x = w * 1
    x.exp_()
    assert x.grad_fn.name() == "ExpBackward0"
    assert x.requires_grad and not x.is_leaf


def test_inplace_on_a_tensor_without_grad_with_an_operand_that_requires_grad():
    w = lg.tensor([1.0, 2.0], requires_grad=True)
    x = lg.zeros(2)
    x.add_(w * 3)
    assert x.requires_grad and x.grad_fn is not None
    x.sum().backward()
    close(w.grad, [3.0, 3.0])


@pytest.mark.torch
def test_zero_and_fill_on_a_non_leaf_give_zero_gradients(torch):
    def run(mod):
        w, _ = leaves(mod)
        x, y, z = w * 2, w * 3, w * 4
        x.zero_()
        y.fill_(7.0)
        z[0].zero_()
        assert x.requires_grad and y.requires_grad
        (x + y + z).sum().backward()
        return x, y, z, w.grad
    same_results(run, torch)


def test_inplace_under_no_grad_keeps_the_history():
    w = lg.tensor([1.0, 2.0], requires_grad=True)
    x = w * 2
    node = x.grad_fn
    with lg.no_grad():
        x.add_(1)
    assert x.grad_fn is node
    assert x._version == 1


# ------------------------------------------------------------------ leaves

@pytest.mark.parametrize("op", [lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.zero_(),
                                lambda t: t.fill_(1.0), lambda t: t.__iadd__(1),
                                lambda t: t.relu_(), lambda t: t.__setitem__(0, 1.0),
                                lambda t: t.copy_(lg.ones(2))])
def test_inplace_on_a_leaf_that_requires_grad_is_an_error(op):
    w = lg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*in-place"):
        op(w)
    close(w.detach(), [1.0, 2.0])  # nothing was written
    assert w._version == 0


def test_inplace_on_a_view_of_a_leaf_that_requires_grad_is_an_error():
    w = lg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf tensor that requires grad"):
        w[0:1].add_(1)


def test_inplace_on_a_leaf_is_allowed_under_no_grad():
    w = lg.tensor([1.0, 2.0], requires_grad=True)
    with lg.no_grad():
        w.sub_(0.5)
        w[0] = 5.0
    close(w.detach(), [5.0, 1.5])
    assert w.is_leaf and w.requires_grad
    assert w._version == 2


@pytest.mark.torch
def test_leaf_errors_match_pytorch(torch):
    for mod in (lg, torch):
        w = mod.tensor([1.0, 2.0], requires_grad=True)
        for op in (lambda: w.add_(1), lambda: w[0:1].mul_(2)):
            with pytest.raises(RuntimeError, match="leaf"):
                op()


# ------------------------------------------------------------------ saved tensors and versions

def test_modifying_a_saved_tensor_then_backward_names_the_op_shape_dtype_and_versions():
    w = lg.tensor([1.0, 2.0], requires_grad=True)
    x = w * 1
    y = x * x  # MulBackward0 saves x (version 0)
    x.add_(1)  # version 1
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    message = str(info.value)
    for words in ("MulBackward0", "in-place", "(2,)", "float32", "version 1", "version 0"):
        assert words in message, words


def test_modifying_a_saved_output_then_backward_is_an_error():
    w = lg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * 1).exp()  # ExpBackward0 saves its output
    y.mul_(2)
    with pytest.raises(RuntimeError, match=r"ExpBackward0.*version 1.*version 0"):
        y.sum().backward()


@pytest.mark.torch
def test_saved_tensor_check_matches_pytorch(torch):
    def outcome(mod, modify):
        w = mod.tensor([1.0, 2.0], requires_grad=True)
        x = w * 1
        y = x.sigmoid() * x.exp()  # sigmoid saves its output, mul saves both, exp its output
        modify(x)
        try:
            y.sum().backward()
        except RuntimeError as error:
            assert "in-place" in str(error) or "inplace" in str(error)
            return "error"
        return "ok"
    for modify in (lambda x: x.add_(1), lambda x: x[0].mul_(2), lambda x: None):
        assert outcome(lg, modify) == outcome(torch, modify)


def test_version_counter_counts_inplace_ops():
    t = lg.zeros(3)
    assert t._version == 0
    t.add_(1)
    t[0] = 2.0
    t.zero_()
    t += 1
    assert t._version == 4


def test_views_share_the_version_counter_with_their_base():
    base = lg.zeros(2, 3)
    views = [base[0], base[:, 1], base.t(), base.view(6), base.reshape(3, 2),
             base.unsqueeze(0), base.transpose(0, 1), base.detach()]
    base[1].add_(1)  # in-place on a view bumps the base's version
    assert base._version == 1
    assert all(v._version == 1 for v in views)
    base.mul_(2)
    assert all(v._version == 2 for v in views)
    views[0].fill_(3.0)
    assert base._version == 3
    close(base, [[3.0, 3.0, 3.0], [2.0, 2.0, 2.0]])


@pytest.mark.torch
def test_view_version_counters_match_pytorch(torch):
    def versions(mod):
        base = mod.zeros(2, 3)
        v = base[0]
        d = base.detach()
        v.add_(1)
        d.mul_(2)
        copy = base.clone()
        copy.add_(1)
        return base._version, v._version, d._version, copy._version
    assert versions(lg) == versions(torch)


def test_an_inplace_result_that_cannot_be_cast_is_an_error():
    t = lg.tensor([1, 2], dtype=lg.int64)
    for op in (lambda: t.add_(0.5), lambda: t.mul_(lg.tensor([1.5, 2.0]))):
        with pytest.raises(RuntimeError, match=r"add_|mul_") as info:
            op()
        assert "float32 can't be cast" in str(info.value) and "int64" in str(info.value)
    with pytest.raises(RuntimeError, match=r"__itruediv__: result type float\d+ can't be cast"):
        t /= 2
    close(t, [1, 2])
    assert t._version == 0
    t.add_(3)  # int into int is fine
    close(t, [4, 5])


@pytest.mark.torch
def test_cast_errors_match_pytorch(torch):
    for mod in (lg, torch):
        t = mod.tensor([1, 2])
        with pytest.raises(RuntimeError, match="can't be cast"):
            t += 1.5
        b = mod.tensor([True, False])
        with pytest.raises(RuntimeError, match="can't be cast"):
            b.add_(1)
        f = mod.tensor([1.0, 2.0])
        f.add_(mod.tensor([1, 2]))  # int into float: fine
        close(f, [2.0, 4.0])


def test_an_inplace_result_of_another_shape_is_an_error():
    with pytest.raises(RuntimeError, match=r"add_.*\(2, 2, 3\).*\(2, 3\)"):
        lg.ones(2, 3).add_(lg.ones(2, 1, 3))


def test_writing_into_an_expanded_tensor_is_an_error():
    t = lg.ones(1, 3).expand(2, 3)
    with pytest.raises(RuntimeError, match="clone"):
        t.add_(1)


# ------------------------------------------------------------------ x[idx] = v

SETITEM_CASES = {
    "int": lambda x, v: x.__setitem__(1, v[0]),
    "int_pair": lambda x, v: x.__setitem__((0, 2), v[1, 1]),
    "slice": lambda x, v: x.__setitem__((slice(None), slice(0, 2)), v[:, :2]),
    "broadcast_row": lambda x, v: x.__setitem__(slice(0, 2), v[0]),
    "scalar": lambda x, v: x.__setitem__((1, slice(None)), 4.0),
    "index_list": lambda x, v: x.__setitem__([0, 1], v[1] * 2),
    "mask": lambda x, v: x.__setitem__(x > 1.0, 0.0),
    "view_of_view": lambda x, v: x[0].__setitem__(slice(1, 3), v[1, :2]),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(SETITEM_CASES))
def test_setitem_on_a_non_leaf_matches_pytorch(name, torch):
    put = SETITEM_CASES[name]

    def run(mod):
        w, b = leaves(mod)
        x = w * 2
        put(x, b * 3)
        (x * x).sum().backward()
        return x, w.grad, b.grad
    same_results(run, torch)


@pytest.mark.torch
def test_augmented_assignment_on_an_indexed_region_matches_pytorch(torch):
    def run(mod):
        w, b = leaves(mod)
        x = w * 2
        x[:, 0] += 10.0  # getitem (a view), __iadd__ on the view, then __setitem__
        x[1] *= b[0]
        x[x < 0] -= 1.0
        (x * x).sum().backward()
        return x, w.grad, b.grad
    same_results(run, torch)


# ------------------------------------------------------------------ in-place on views

@pytest.mark.torch
def test_inplace_on_a_view_updates_the_base_history(torch):
    def run(mod):
        w, b = leaves(mod)
        x = w * 2
        v = x.t()[1:]  # rows 1, 2 of the transpose: a strided view
        v.mul_(b.t()[1:])
        v.exp_()
        (x * x).sum().backward()
        return x, w.grad, b.grad
    same_results(run, torch)


@pytest.mark.torch
def test_view_and_base_grad_fns_after_inplace_on_a_view(torch):
    for mod in (lg, torch):
        w, _ = leaves(mod)
        x = w * 2
        v = x[1]
        v.mul_(3)
        assert "CopySlices" in x.grad_fn.name()
        assert v.grad_fn.name() == "AsStridedBackward0"
        assert x._version == 1 and v._version == 1


@pytest.mark.torch
def test_views_taken_before_an_inplace_op_see_the_new_history(torch):
    def run(mod):
        w, b = leaves(mod)
        x = w * 1
        row0, row1, col = x[0], x[1], x[:, 2]
        used_before = row1 * 5  # consumed before the change: keeps the old values' gradient
        x.mul_(2)
        row1.add_(b[1])
        loss = row0.sum() + (row1 * row1).sum() + col.sum() * 3 + used_before.sum()
        loss.backward()
        return x, w.grad, b.grad
    same_results(run, torch)


@pytest.mark.torch
def test_backward_from_a_view_taken_before_an_inplace_op(torch):
    def run(mod):
        w, _ = leaves(mod)
        x = w * 1
        v = x.t()
        x.mul_(2)
        v.backward(mod.ones(3, 2), retain_graph=True)
        (g,) = mod.autograd.grad((v * v).sum(), w)
        return w.grad, g
    same_results(run, torch)


@pytest.mark.torch
def test_copy_into_a_view_of_a_tensor_without_grad(torch):
    def run(mod):
        w, b = leaves(mod)
        x = mod.zeros(2, 3)
        x[0].copy_(w[1] * b[0])
        assert x.requires_grad
        (x * x).sum().backward()
        return x, w.grad, b.grad
    same_results(run, torch)


def test_double_backward_through_inplace_ops():
    rng = np.random.default_rng(3)
    x0 = lg.tensor(rng.uniform(0.5, 1.5, (2, 3)), dtype=lg.float64, requires_grad=True)
    b0 = lg.tensor(rng.uniform(0.5, 1.5, (2, 3)), dtype=lg.float64, requires_grad=True)

    def f(x, b):
        y = x * 1
        y.mul_(b)
        y[0].exp_()
        y[:, 1] *= x[:, 2]
        return y.tanh_()
    assert lg.autograd.gradcheck(f, (x0, b0))
    assert lg.autograd.gradgradcheck(f, (x0, b0))


@pytest.mark.torch
def test_inplace_on_a_detached_tensor_leaves_the_original_history_alone(torch):
    def run(mod):
        w, b = leaves(mod)
        x = w * 2
        d = x.detach()
        d.add_(b)  # d takes a history of its own; x's values change, its graph does not
        assert d.requires_grad and x._version == 1
        x.mul_(3)  # and d does not become a view of the new x
        (d * d).sum().backward()
        (x * 1).sum().backward()
        w_leaf = mod.ones(2, requires_grad=True)
        w_leaf.detach().add_(mod.ones(2, requires_grad=True))  # allowed: not a view of w_leaf
        return x, d, w.grad, b.grad
    same_results(run, torch)


def test_copy_keeps_the_conversion_error_of_its_source(monkeypatch):
    # A failed dtype/device conversion of src is reported as itself, not as a broadcast error.
    from labgrad.ops import conversion

    def refuse(*args, **kwargs):
        raise RuntimeError("to: cannot move the tensor to that device")
    monkeypatch.setattr(conversion, "convert", refuse)
    with pytest.raises(RuntimeError, match="cannot move the tensor") as info:
        lg.zeros(3).copy_(lg.ones(3, dtype=lg.float64))
    assert "broadcast" not in str(info.value)


def test_copy_still_explains_a_shape_that_does_not_broadcast():
    with pytest.raises(RuntimeError, match=r"copy_: source of shape \(2,\) cannot be broadcast"):
        lg.zeros(3).copy_(lg.ones(2))
