"""The Optimizer base: parameter handling, zero_grad, closures, state dicts, hooks, events."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import labgrad as lg
from labgrad import optim
from labgrad.optim.optimizer import (register_optimizer_step_post_hook,
                                     register_optimizer_step_pre_hook)

ALL = [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad, optim.Adadelta,
       optim.Adamax, optim.NAdam, optim.RAdam]


def params(n=2, seed=0):
    rng = np.random.default_rng(seed)
    return [lg.tensor(rng.standard_normal((3, 2)).astype(np.float32), requires_grad=True)
            for _ in range(n)]


def give_grads(ps, seed=1):
    rng = np.random.default_rng(seed)
    for p in ps:
        p.grad = lg.tensor(rng.standard_normal(p.shape).astype(np.float32))


def snapshot(opt):
    """Everything load_state_dict may change, deep-copied as values."""
    state = {id(p): {k: (v.numpy().copy() if isinstance(v, lg.Tensor) else v)
                     for k, v in s.items()} for p, s in opt.state.items()}
    groups = [{k: (list(map(id, v)) if k == "params" else v) for k, v in g.items()}
              for g in opt.param_groups]
    return state, groups


def assert_same_snapshot(a, b):
    (state_a, groups_a), (state_b, groups_b) = a, b
    assert groups_a == groups_b
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        for name, value in state_a[key].items():
            np.testing.assert_array_equal(state_b[key][name], value)


# ------------------------------------------------------------------ construction errors

def test_construction_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(params(1)[0], lr=0.1)
    with pytest.raises(TypeError, match="sets"):
        optim.SGD([{"params": set(params(2))}], lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([1.0], lr=0.1)
    a = params(1)[0]
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([a * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([a, a], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([a], lr=-1.0)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam([a], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        optim.SGD([a], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid momentum value"):
        optim.SGD([a], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="Invalid rho value"):
        optim.Adadelta([a], rho=1.5)
    with pytest.raises(ValueError, match="one element"):
        optim.SGD([a], lr=lg.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="differentiable=True"):
        optim.Adam([a], differentiable=True)


def test_required_option_and_defaults_fill_groups():
    class Plain(optim.Optimizer):
        def __init__(self, ps, lr=optim.optimizer.required, scale=2.0):
            super().__init__(ps, {"lr": lr, "scale": scale})

    a, b = params(2)
    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Plain([a])
    opt = Plain([{"params": [a], "lr": 0.5}, {"params": b, "lr": 0.1, "scale": 3.0}])
    assert opt.param_groups[0]["scale"] == 2.0 and opt.param_groups[1]["scale"] == 3.0
    assert opt.param_groups[1]["params"] == [b]  # a lone tensor becomes a list
    with pytest.raises(NotImplementedError, match="must define step"):
        opt.step()


def test_named_parameters_and_add_param_group():
    a, b, c = params(3)
    opt = optim.SGD([("w", a), ("b", b)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]
    with pytest.raises(ValueError, match="with/without names"):
        opt.add_param_group({"params": [c]})
    opt.add_param_group({"params": [("c", c)], "lr": 0.5})
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [("again", a)]})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.add_param_group([c])


def test_parameters_from_a_generator_and_retained_grad_tensors():
    a = params(1)[0]
    opt = optim.SGD((p for p in [a]), lr=0.1)
    assert opt.param_groups[0]["params"] == [a]
    b = a * 2
    b.retain_grad()
    optim.SGD([b], lr=0.1)  # a non-leaf that retains grad may be optimized


# ------------------------------------------------------------------ step, zero_grad, closure

def test_zero_grad_to_none_or_zeros():
    ps = params(2)
    give_grads(ps)
    opt = optim.SGD(ps, lr=0.1)
    grad = ps[0].grad
    version = grad._version
    opt.zero_grad(set_to_none=False)
    assert ps[0].grad is grad and np.all(grad.numpy() == 0)
    assert grad._version > version
    opt.zero_grad()
    assert all(p.grad is None for p in ps)
    opt.zero_grad()  # nothing to do


def test_zero_grad_detaches_a_grad_with_history():
    a = params(1)[0]
    (a ** 2).sum().backward(create_graph=True)
    assert a.grad.grad_fn is not None
    optim.SGD([a], lr=0.1).zero_grad(set_to_none=False)
    assert a.grad.grad_fn is None and not a.grad.requires_grad
    assert np.all(a.grad.numpy() == 0)


def test_step_with_closure_returns_its_loss_and_records_grad():
    a = params(1)[0]
    opt = optim.SGD([a], lr=0.1)
    before = a.detach().numpy().copy()
    calls = []

    def closure():
        calls.append(lg.is_grad_enabled())
        opt.zero_grad()
        loss = (a ** 2).sum()
        loss.backward()
        return loss

    with lg.no_grad():
        loss = opt.step(closure)
    assert calls == [True]  # the closure runs with grad enabled, even under no_grad
    assert float(loss) == pytest.approx(float((before ** 2).sum()))
    np.testing.assert_allclose(a.detach().numpy(), before - 0.1 * 2 * before, rtol=1e-6)
    assert opt.step() is None


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_step_bumps_versions_so_backward_catches_stale_saved_tensors(cls):
    a = params(1)[0]
    opt = cls([a], lr=0.1)
    loss = (a * a).sum()  # saves a for backward
    a.grad = lg.ones(a.shape)
    version = a._version
    opt.step()
    assert a._version == version + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation|in-place|version"):
        loss.backward()


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_step_leaves_grads_untouched_and_builds_no_graph(cls):
    a = params(1)[0]
    a.grad = lg.ones(a.shape)
    options = {"weight_decay": 0.1, "maximize": True}
    opt = cls([a], lr=0.1, **options)
    opt.step()
    np.testing.assert_array_equal(a.grad.numpy(), np.ones(a.shape, np.float32))
    assert a.grad_fn is None and a.requires_grad and a.is_leaf
    assert all(not v.requires_grad for v in opt.state[a].values())


def test_adagrad_creates_its_state_up_front():
    a = params(1)[0]
    opt = optim.Adagrad([a], initial_accumulator_value=0.25)
    assert float(opt.state[a]["step"]) == 0.0
    assert np.all(opt.state[a]["sum"].numpy() == 0.25)
    b = params(1, seed=3)[0]
    opt.add_param_group({"params": [b]})
    b.grad = lg.ones(b.shape)
    opt.step()
    assert float(opt.state[b]["step"]) == 1.0


def test_step_counter_follows_default_dtype():
    a = lg.zeros(2, dtype=lg.float64, requires_grad=True)
    a.grad = lg.ones(2, dtype=lg.float64)
    previous = lg.get_default_dtype()
    lg.set_default_dtype(lg.float64)
    try:
        opt = optim.Adam([a])
        opt.step()
    finally:
        lg.set_default_dtype(previous)
    assert opt.state[a]["step"].dtype == lg.float64


# ------------------------------------------------------------------ state dicts

@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_state_dict_round_trip_continues_identically(cls):
    ps = params(2)
    opt = cls(ps, lr=0.01)
    for seed in range(5):
        give_grads(ps, seed)
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    clones = [p.detach().clone().requires_grad_() for p in ps]
    other = cls(clones, lr=0.5)  # the loaded groups bring lr back to 0.01
    other.load_state_dict(saved)
    assert other.param_groups[0]["lr"] == 0.01
    assert other.param_groups[0]["params"] == clones
    for seed in range(5, 10):
        give_grads(ps, seed)
        give_grads(clones, seed)
        opt.step()
        other.step()
    for p, q in zip(ps, clones):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_state_dict_survives_save_and_load(tmp_path):
    ps = params(2)
    opt = optim.Adam(ps, lr=0.01)
    give_grads(ps)
    opt.step()
    lg.save(opt.state_dict(), tmp_path / "optim.pt")
    other = optim.Adam([p.detach().clone().requires_grad_() for p in ps])
    other.load_state_dict(lg.load(tmp_path / "optim.pt"))
    assert other.param_groups[0]["lr"] == 0.01
    for p, q in zip(ps, other.param_groups[0]["params"]):
        np.testing.assert_array_equal(other.state[q]["exp_avg"].numpy(),
                                      opt.state[p]["exp_avg"].numpy())


def test_state_dict_layout():
    ps = params(3)
    opt = optim.Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.1}])
    give_grads(ps)
    ps[2].grad = None
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1, 2]]
    assert list(sd["state"]) == [0, 1]  # the parameter without a gradient has no state yet
    assert list(sd["state"][0]) == ["step", "exp_avg", "exp_avg_sq"]
    step = sd["state"][0]["step"]
    assert step.dtype == lg.float32 and step.shape == () and float(step) == 1.0
    assert sd["state"][0]["exp_avg"] is opt.state[ps[0]]["exp_avg"]  # PyTorch: not copies
    assert "params" in opt.param_groups[0]  # the groups themselves are untouched


def test_load_state_dict_casts_state_to_the_params():
    a = lg.zeros(3, dtype=lg.float64, requires_grad=True)
    opt = optim.Adam([a])
    saved = {"state": {0: {"step": lg.tensor(4.0), "exp_avg": lg.ones(3),
                           "exp_avg_sq": lg.ones(3)}},
             "param_groups": [dict(opt.state_dict()["param_groups"][0])]}
    opt.load_state_dict(saved)
    state = opt.state[a]
    assert state["exp_avg"].dtype == lg.float64  # cast to the parameter's dtype
    assert state["step"].dtype == lg.float32  # a counter keeps its own
    assert state["exp_avg"] is not saved["state"][0]["exp_avg"]  # copied
    saved["state"][0]["step"] = 7  # an old-style number becomes a tensor
    opt.load_state_dict(saved)
    assert isinstance(opt.state[a]["step"], lg.Tensor) and float(opt.state[a]["step"]) == 7


def test_adamw_loaded_groups_stay_decoupled():
    a = params(1)[0]
    saved = optim.Adam([a]).state_dict()
    opt = optim.AdamW([a])
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


@pytest.mark.parametrize("break_it, message", [
    (lambda sd: sd["param_groups"].append({"params": [], "lr": 1.0}), "number of parameter"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), "doesn't match the size"),
    (lambda sd: sd.pop("state"), "no \\['state'\\]"),
    (lambda sd: sd["state"][1].update(exp_avg=lg.zeros(2, 3)),
     "state\\[1\\]\\['exp_avg'\\] has shape \\(2, 3\\).*has shape \\(3, 2\\)"),
])
def test_load_state_dict_errors_change_nothing(break_it, message):
    ps = params(2)
    opt = optim.Adam(ps, lr=0.01)
    give_grads(ps)
    opt.step()
    saved = copy.deepcopy(opt.state_dict())
    saved["param_groups"][0]["lr"] = 123.0
    break_it(saved)
    before = snapshot(opt)
    with pytest.raises((ValueError, KeyError), match=message):
        opt.load_state_dict(saved)
    assert_same_snapshot(before, snapshot(opt))
    assert opt.param_groups[0]["lr"] == 0.01


def test_state_dict_hooks():
    a = params(1)[0]
    opt = optim.SGD([a], lr=0.1)
    seen = []
    opt.register_state_dict_pre_hook(lambda o: seen.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    assert opt.state_dict()["extra"] == 1 and seen == ["pre"]
    opt.register_load_state_dict_pre_hook(lambda o, sd: seen.append("load-pre"))
    handle = opt.register_load_state_dict_post_hook(lambda o: seen.append("load-post"))
    opt.register_load_state_dict_post_hook(lambda o: seen.append("first"), prepend=True)
    opt.load_state_dict(opt.state_dict())
    assert seen == ["pre", "pre", "load-pre", "first", "load-post"]
    handle.remove()
    opt.load_state_dict(opt.state_dict())
    assert seen[-1] == "first"


# ------------------------------------------------------------------ hooks and events

def test_step_hooks_run_in_order_and_can_replace_arguments():
    a = params(1)[0]
    a.grad = lg.ones(a.shape)
    opt = optim.SGD([a], lr=0.1)
    seen = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", args)))
    post = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", args)))
    opt.step()
    assert seen == [("pre", ()), ("post", ())]
    with opt.register_step_pre_hook(lambda o, args, kwargs: ((lambda: 5.0,), {})):
        assert opt.step() == 5.0  # the hook handed step a closure
    pre.remove()
    post.remove()
    seen.clear()
    opt.step()
    assert seen == []
    with opt.register_step_pre_hook(lambda o, args, kwargs: "bad"):
        with pytest.raises(RuntimeError, match="must return None or a tuple"):
            opt.step()


def test_global_step_hooks():
    a = params(1)[0]
    a.grad = lg.ones(a.shape)
    opt = optim.Adam([a])
    seen = []
    with register_optimizer_step_pre_hook(lambda o, args, kwargs: seen.append("pre")), \
            register_optimizer_step_post_hook(lambda o, args, kwargs: seen.append("post")):
        opt.step()
    opt.step()
    assert seen == ["pre", "post"]


def test_every_step_emits_the_optimizer_step_event():
    a = params(1)[0]
    a.grad = lg.ones(a.shape)
    opt = optim.RMSprop([a])
    seen = []
    with lg.events.register_optimizer_step_hook(lambda o: seen.append(o.state[a]["step"]
                                                                      .item())):
        opt.step()
        opt.step()
    opt.step()
    assert seen == [1.0, 2.0]  # after the update, once per step


def test_subclass_calling_super_step_fires_hooks_once():
    class Logged(optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    a = params(1)[0]
    a.grad = lg.ones(a.shape)
    opt = Logged([a], lr=0.1)
    seen = []
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append(1))
    with lg.events.register_optimizer_step_hook(lambda o: seen.append(2)):
        opt.step()
    assert seen == [1, 2]


def test_repr():
    opt = optim.SGD(params(1), lr=0.1)
    text = repr(opt)
    assert text.startswith("SGD (\nParameter Group 0\n    dampening: 0\n")
    assert "    lr: 0.1\n" in text and text.endswith(")")


# ------------------------------------------------------------------ GPU

@pytest.mark.cuda
@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_cuda_step_matches_cpu(cls):
    cpu = params(2)
    gpu = [p.detach().to("cuda").requires_grad_() for p in cpu]
    options = {"lr": 0.01, "weight_decay": 0.1, **({"momentum": 0.9} if cls is optim.SGD else {})}
    opts = [cls(cpu, **options), cls(gpu, **options)]
    for seed in range(5):
        give_grads(cpu, seed)
        for p, q in zip(cpu, gpu):
            q.grad = p.grad.to("cuda")
        for opt in opts:
            opt.step()
    for p, q in zip(cpu, gpu):
        assert q.is_cuda and opts[1].state[q]
        np.testing.assert_allclose(q.detach().cpu().numpy(), p.detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    restored = cls([q.detach().clone().requires_grad_() for q in gpu])
    restored.load_state_dict(opts[1].state_dict())
    assert all(v.is_cuda for s in restored.state.values() for k, v in s.items()
               if k not in ("step", "mu_product"))
