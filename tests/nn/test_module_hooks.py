"""Module hooks: forward pre-hooks and hooks, full backward (pre-)hooks, global module hooks;
their order, arguments and results compared with PyTorch's."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad
from labgrad.nn.modules import module as module_mod

W = np.array([[0.2, -0.4, 0.6], [0.1, 0.3, -0.5]])


def _model(t):
    """Sequential(Scale, Affine) in labgrad or torch, float64, same weights."""
    tnn = t.nn

    class Affine(tnn.Module):
        def __init__(self):
            super().__init__()
            self.weight = tnn.Parameter(t.tensor(W))

        def forward(self, x, shift=0.0):
            return x @ self.weight.t() + shift

    class Scale(tnn.Module):
        def forward(self, x):
            return x * 3

    return tnn.Sequential(Scale(), Affine())


def _as_list(values):
    return [None if v is None else np.round(v.detach().numpy(), 6).tolist()
            if hasattr(v, "detach") else v for v in values]


def _forward_log(t):
    seq = _model(t)
    log = []
    affine = seq[1]
    affine.register_forward_pre_hook(lambda m, a: log.append(("pre", len(a))))
    affine.register_forward_pre_hook(lambda m, a: log.append(("pre-first",)), prepend=True)

    def pre_kwargs(m, args, kwargs):
        log.append(("pre-kw", sorted(kwargs)))
        return args, {**kwargs, "shift": 1.0}

    affine.register_forward_pre_hook(pre_kwargs, with_kwargs=True)
    affine.register_forward_hook(lambda m, a, out: log.append(("fwd", _as_list([out]))))
    affine.register_forward_hook(lambda m, a, kw, out: out * 2, with_kwargs=True)
    affine.register_forward_hook(lambda m, a, out: log.append(("fwd-first",)), prepend=True)
    seq[0].register_forward_pre_hook(lambda m, a: (a[0] + 1,))  # replaces the input
    out = seq(t.ones(1, 3, dtype=t.float64))
    log.append(("out", _as_list([out])))
    return log


@pytest.mark.torch
def test_forward_hooks_order_and_results_match_torch(torch):
    assert _forward_log(labgrad) == _forward_log(torch)


def _always_call_log(t):
    class Boom(t.nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    log = []
    m = Boom()
    m.register_forward_hook(lambda mod, a, out: log.append(("always", out)), always_call=True)
    m.register_forward_hook(lambda mod, a, out: log.append("never"))
    with pytest.raises(ValueError, match="boom"):
        m(t.ones(1))
    return log


@pytest.mark.torch
def test_always_call_hooks_run_when_forward_raises(torch):
    assert _always_call_log(labgrad) == _always_call_log(torch) == [("always", None)]


def test_handles_remove_hooks_and_work_as_context_managers():
    m = _model(labgrad)[0]
    calls = []
    handle = m.register_forward_hook(lambda mod, a, out: calls.append(1))
    with m.register_forward_pre_hook(lambda mod, a: calls.append(0)):
        m(labgrad.ones(1))
    m(labgrad.ones(1))
    handle.remove()
    handle.remove()  # a second remove does nothing
    m(labgrad.ones(1))
    assert calls == [0, 1, 1]
    assert not m._forward_hooks and not m._forward_pre_hooks


def test_pre_hook_with_kwargs_must_return_a_pair():
    m = _model(labgrad)[1]
    m.register_forward_pre_hook(lambda mod, a, kw: a, with_kwargs=True)
    with pytest.raises(RuntimeError, match=r"tuple of \(new_args, new_kwargs\)"):
        m(labgrad.ones(1, 3, dtype=labgrad.float64))


def _backward_log(t):
    seq = _model(t)
    log = []

    def full(name):
        def hook(m, grad_input, grad_output):
            log.append((name, "full", _as_list(grad_input), _as_list(grad_output)))
        return hook

    def pre(name):
        def hook(m, grad_output):
            log.append((name, "pre", _as_list(grad_output)))
            return tuple(g * 2 for g in grad_output)
        return hook

    for name, module in (("seq", seq), ("scale", seq[0]), ("affine", seq[1])):
        module.register_full_backward_hook(full(name))
        module.register_full_backward_pre_hook(pre(name))
    seq[1].register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))  # replaces grad_input
    x = t.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], dtype=t.float64, requires_grad=True)
    seq(x).pow(2).sum().backward()
    log.append(("x.grad", _as_list([x.grad])))
    log.append(("weight.grad", _as_list([seq[1].weight.grad])))
    return log


@pytest.mark.torch
def test_full_backward_hooks_match_torch(torch):
    ours, theirs = _backward_log(labgrad), _backward_log(torch)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a == b


def _multi_io_log(t):
    class Two(t.nn.Module):
        def forward(self, a, k, b):
            return a * b, (a + b).sum(), a * 2

    log = []
    m = Two()
    m.register_full_backward_hook(
        lambda mod, gi, go: log.append(("full", _as_list(gi), _as_list(go))))
    m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", _as_list(go))))
    a = t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True)
    b = t.tensor([3.0, 4.0], dtype=t.float64)
    o1, o2, _ = m(a, 5, b)  # a non-tensor argument, an input without grad, an unused output
    (o1.sum() + o2).backward()
    log.append(("a.grad", _as_list([a.grad])))
    return log


@pytest.mark.torch
def test_backward_hooks_with_several_inputs_and_outputs_match_torch(torch):
    assert _multi_io_log(labgrad) == _multi_io_log(torch)


def test_backward_hook_when_no_input_requires_grad():
    m = _model(labgrad)[1]
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append((gi, _as_list(go))))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        m(labgrad.ones(1, 3, dtype=labgrad.float64)).sum().backward()
    assert seen == [((None,), [[[1.0, 1.0]]])]
    m.register_full_backward_hook(lambda mod, gi, go: (labgrad.ones(1),))
    with pytest.raises(RuntimeError, match="no input requires gradient"), \
            pytest.warns(UserWarning):
        m(labgrad.ones(1, 3, dtype=labgrad.float64)).sum().backward()


def test_backward_hook_with_wrong_number_of_grads_raises():
    m = _model(labgrad)[1]
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    x = labgrad.ones(1, 3, dtype=labgrad.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        m(x).sum().backward()


def test_global_module_hooks_run_before_module_hooks():
    m = _model(labgrad)[0]
    log = []
    m.register_forward_pre_hook(lambda mod, a: log.append("pre"))
    m.register_forward_hook(lambda mod, a, out: log.append("fwd"))
    handles = [module_mod.register_module_forward_pre_hook(lambda mod, a: log.append("gpre")),
               module_mod.register_module_forward_hook(lambda mod, a, out: log.append("gfwd"))]
    try:
        m(labgrad.ones(1))
        other = _model(labgrad)[0]
        other(labgrad.ones(1))
    finally:
        for h in handles:
            h.remove()
    assert log == ["gpre", "pre", "gfwd", "fwd", "gpre", "gfwd"]
    m(labgrad.ones(1))
    assert log[-2:] == ["pre", "fwd"]


def test_global_backward_hook_sees_every_module():
    seq = _model(labgrad)
    names = []
    handle = module_mod.register_module_full_backward_hook(
        lambda mod, gi, go: names.append(type(mod).__name__))
    try:
        x = labgrad.ones(1, 3, dtype=labgrad.float64, requires_grad=True)
        seq(x).sum().backward()
    finally:
        handle.remove()
    assert names == ["Affine", "Scale", "Sequential"]


def test_hooks_keep_the_module_scope():
    m = _model(labgrad)
    scopes = []
    m[1].register_forward_hook(
        lambda mod, a, out: scopes.append(labgrad.autograd.graph.scope[-1]))
    m[1].register_full_backward_hook(lambda mod, gi, go: None)
    with labgrad.autograd.record_graph() as g:
        m(labgrad.ones(1, 3, dtype=labgrad.float64, requires_grad=True))
    assert scopes == ["1"]
    assert {n.metadata["module"] for n in g.nodes if n.metadata["op"] == "MmBackward0"} == {"1"}
