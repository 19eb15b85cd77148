"""Every optimizer against PyTorch's single-tensor ("for-loop") update: same initial
parameters, the same sequence of gradients, 20 steps, then parameters and state compared."""
from __future__ import annotations

import numpy as np
import pytest

import labgrad as lg

pytestmark = pytest.mark.torch

SHAPES = [(4, 3), (3,), (6,)]
STEPS = 20

# (optimizer, options): the main option combinations of each optimizer.
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.9), eps=1e-3)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5,
                     eps=1e-6, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01, betas=(0.9, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}"
       for name, kw in CASES]
NP = {"float32": np.float32, "float64": np.float64}
# float32: PyTorch's kernels fuse some multiply-adds that NumPy rounds twice, so values may
# differ in the last bits; float64 shows that the formulas are the same.
TOL = {"float32": dict(rtol=2e-6, atol=2e-6), "float64": dict(rtol=1e-12, atol=1e-13)}


def make_params(torch, dtype, seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(NP[dtype]) for s in SHAPES]
    return ([torch.tensor(a.copy(), requires_grad=True) for a in init],
            [lg.tensor(a.copy(), requires_grad=True) for a in init])


def set_grads(torch, tparams, lparams, rng, dtype):
    for t, p in zip(tparams, lparams):
        g = rng.standard_normal(p.shape).astype(NP[dtype])
        t.grad = torch.tensor(g.copy())
        p.grad = lg.tensor(g.copy())


def to_numpy(value):
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


def assert_same_state(torch_opt, lab_opt, tparams, lparams, tol):
    for t, p in zip(tparams, lparams):
        np.testing.assert_allclose(to_numpy(p), to_numpy(t), **tol)
        tstate, lstate = torch_opt.state[t], lab_opt.state[p]
        assert list(lstate) == list(tstate)
        for key, expected in tstate.items():
            got = lstate[key]
            if key in ("step", "mu_product"):
                assert got.dtype == lg.float32 and got.shape == () and got.device.type == "cpu"
                assert float(got) == pytest.approx(float(expected), rel=1e-6)
            else:
                np.testing.assert_allclose(to_numpy(got), to_numpy(expected), **tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, options", CASES, ids=IDS)
def test_matches_torch_on_given_gradients(torch, name, options, dtype):
    tparams, lparams = make_params(torch, dtype)
    torch_opt = getattr(torch.optim, name)(tparams, foreach=False, **options)
    lab_opt = getattr(lg.optim, name)(lparams, **options)
    rng = np.random.default_rng(1)
    for _ in range(STEPS):
        set_grads(torch, tparams, lparams, rng, dtype)
        torch_opt.step()
        lab_opt.step()
    assert_same_state(torch_opt, lab_opt, tparams, lparams, TOL[dtype])


@pytest.mark.parametrize("name, options", CASES[::3], ids=IDS[::3])
def test_matches_torch_on_a_loss(torch, name, options):
    """Gradients computed by each library from its own parameters: a quadratic bowl."""
    tparams, lparams = make_params(torch, "float64", seed=2)
    torch_opt = getattr(torch.optim, name)(tparams, foreach=False, **options)
    lab_opt = getattr(lg.optim, name)(lparams, **options)
    targets = [np.linspace(-1, 1, int(np.prod(s))).reshape(s) for s in SHAPES]
    for _ in range(STEPS):
        for lib, params, opt in ((torch, tparams, torch_opt), (lg, lparams, lab_opt)):
            opt.zero_grad()
            loss = sum(((p - lib.tensor(t)) ** 2).sum() + (p ** 3).mean()
                       for p, t in zip(params, targets))
            loss.backward()
            opt.step()
    assert_same_state(torch_opt, lab_opt, tparams, lparams, TOL["float64"])


def test_param_groups_with_their_own_options(torch):
    tparams, lparams = make_params(torch, "float32")

    def groups(params):
        return [{"params": params[:1], "lr": 0.1, "momentum": 0.9},
                {"params": params[1:], "weight_decay": 0.5, "nesterov": True,
                 "momentum": 0.5}]
    torch_opt = torch.optim.SGD(groups(tparams), lr=0.01, foreach=False)
    lab_opt = lg.optim.SGD(groups(lparams), lr=0.01, foreach=False)
    assert [{k: v for k, v in g.items() if k != "params"} for g in lab_opt.param_groups] == \
        [{k: v for k, v in g.items() if k != "params"} for g in torch_opt.param_groups]
    rng = np.random.default_rng(3)
    for _ in range(STEPS):
        set_grads(torch, tparams, lparams, rng, "float32")
        torch_opt.step()
        lab_opt.step()
    assert_same_state(torch_opt, lab_opt, tparams, lparams, TOL["float32"])


def test_tensor_lr_and_params_without_grad(torch):
    tparams, lparams = make_params(torch, "float32")
    torch_opt = torch.optim.Adam(tparams, lr=torch.tensor(0.01), foreach=False)
    lab_opt = lg.optim.Adam(lparams, lr=lg.tensor(0.01))
    rng = np.random.default_rng(4)
    for step in range(STEPS):
        set_grads(torch, tparams, lparams, rng, "float32")
        if step % 2:  # the last parameter gets no gradient every other step: it is skipped
            tparams[-1].grad = None
            lparams[-1].grad = None
        torch_opt.step()
        lab_opt.step()
    assert_same_state(torch_opt, lab_opt, tparams, lparams, TOL["float32"])


@pytest.mark.parametrize("name, options", CASES[::2], ids=IDS[::2])
def test_state_dict_layout_matches_torch(torch, name, options):
    tparams, lparams = make_params(torch, "float32")
    torch_opt = getattr(torch.optim, name)(tparams, **options)
    lab_opt = getattr(lg.optim, name)(lparams, **options)
    rng = np.random.default_rng(5)
    set_grads(torch, tparams, lparams, rng, "float32")
    torch_opt.step()
    lab_opt.step()
    expected, got = torch_opt.state_dict(), lab_opt.state_dict()
    assert list(got) == ["state", "param_groups"]
    assert got["param_groups"] == expected["param_groups"]
    assert list(got["state"]) == list(expected["state"])
    for index, entry in expected["state"].items():
        assert list(got["state"][index]) == list(entry)
    assert repr(lab_opt) == repr(torch_opt)


@pytest.mark.parametrize("name, options", CASES[1::3], ids=IDS[1::3])
def test_loading_torch_state_dict_continues_identically(torch, name, options):
    tparams, lparams = make_params(torch, "float64")
    torch_opt = getattr(torch.optim, name)(tparams, foreach=False, **options)
    rng = np.random.default_rng(6)
    for _ in range(10):
        set_grads(torch, tparams, lparams, rng, "float64")
        torch_opt.step()
    # What a user does: torch's state dict converted through NumPy, and the same weights.
    saved = torch_opt.state_dict()
    converted = {
        "state": {i: {k: lg.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v
                      for k, v in entry.items()} for i, entry in saved["state"].items()},
        "param_groups": saved["param_groups"]}
    with lg.no_grad():
        for t, p in zip(tparams, lparams):
            p.copy_(lg.tensor(t.detach().numpy()))
    lab_opt = getattr(lg.optim, name)(lparams, **options)
    lab_opt.load_state_dict(converted)
    for _ in range(10):
        set_grads(torch, tparams, lparams, rng, "float64")
        torch_opt.step()
        lab_opt.step()
    assert_same_state(torch_opt, lab_opt, tparams, lparams, TOL["float64"])
