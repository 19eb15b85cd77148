"""Learning-rate schedulers: lr (and momentum) sequences against PyTorch's, state dicts,
ReduceLROnPlateau, errors."""
from __future__ import annotations

import copy
import math
import warnings

import pytest

import labgrad as lg
from labgrad.optim import lr_scheduler as sched

STEPS = 50


class Halve:
    """A callable object: its state goes into the scheduler's state_dict."""

    def __init__(self):
        self.factor = 0.5

    def __call__(self, epoch):
        return self.factor ** (epoch // 10)


# name -> (optimizer, options, scheduler factory taking (module, optimizer))
CASES = {
    "StepLR": ("SGD", {}, lambda m, o: m.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": ("SGD", {}, lambda m, o: m.MultiStepLR(o, [5, 12, 12, 30], gamma=0.3)),
    "ConstantLR": ("SGD", {}, lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=8)),
    "LinearLR": ("SGD", {}, lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9,
                                                    total_iters=20)),
    "ExponentialLR": ("SGD", {}, lambda m, o: m.ExponentialLR(o, gamma=0.93)),
    "PolynomialLR": ("SGD", {}, lambda m, o: m.PolynomialLR(o, total_iters=30, power=2.0)),
    "CosineAnnealingLR": ("SGD", {}, lambda m, o: m.CosineAnnealingLR(o, T_max=15,
                                                                      eta_min=0.001)),
    "CosineAnnealingWarmRestarts": ("SGD", {}, lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=0.01)),
    "LambdaLR": ("SGD", {}, lambda m, o: m.LambdaLR(o, [lambda e: 0.95 ** e, Halve()])),
    "MultiplicativeLR": ("SGD", {}, lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97)),
    "CyclicLR-triangular": ("SGD", {"momentum": 0.9}, lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=6, step_size_down=4)),
    "CyclicLR-triangular2": ("SGD", {"momentum": 0.9}, lambda m, o: m.CyclicLR(
        o, base_lr=[0.01, 0.02], max_lr=0.1, step_size_up=5, mode="triangular2")),
    "CyclicLR-exp_range": ("Adam", {}, lambda m, o: m.CyclicLR(
        o, base_lr=0.001, max_lr=0.01, step_size_up=4, mode="exp_range", gamma=0.97)),
    "CyclicLR-scale_fn": ("SGD", {}, lambda m, o: m.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations",
        cycle_momentum=False)),
    "OneCycleLR-cos": ("SGD", {"momentum": 0.9}, lambda m, o: m.OneCycleLR(
        o, max_lr=0.1, total_steps=STEPS + 1)),
    "OneCycleLR-linear-adam": ("Adam", {}, lambda m, o: m.OneCycleLR(
        o, max_lr=[0.01, 0.02], epochs=5, steps_per_epoch=11, anneal_strategy="linear",
        pct_start=0.4)),
    "OneCycleLR-three_phase": ("SGD", {"momentum": 0.9}, lambda m, o: m.OneCycleLR(
        o, max_lr=0.1, total_steps=STEPS + 1, three_phase=True, div_factor=10.0,
        final_div_factor=100.0)),
    "SequentialLR": ("SGD", {}, lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.ExponentialLR(o, gamma=0.9),
            m.CosineAnnealingLR(o, T_max=10)], milestones=[5, 20])),
    "ChainedScheduler": ("SGD", {}, lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.9),
         m.StepLR(o, step_size=9, gamma=0.5)])),
}


def make(lib, name):
    """An optimizer with two param groups (different lrs) and the scheduler `name`."""
    opt_name, options, factory = CASES[name]
    groups = [{"params": [lib.zeros(2, requires_grad=True)], "lr": 0.1},
              {"params": [lib.zeros(2, requires_grad=True)], "lr": 0.05}]
    opt = getattr(lib.optim, opt_name)(groups, **options)
    for group in opt.param_groups:
        group["params"][0].grad = lib.zeros(2)
    return opt, factory(lib.optim.lr_scheduler, opt)


def trace(opt, scheduler, steps=STEPS):
    """The lrs (and momenta / beta1) after construction and after each step."""
    def now():
        return ([g["lr"] for g in opt.param_groups], list(scheduler.get_last_lr()),
                [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups])
    out = [now()]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        out.append(now())
    return out


def assert_same_trace(got, expected):
    assert len(got) == len(expected)
    for epoch, (a, b) in enumerate(zip(got, expected)):
        for x, y in zip(a, b):
            assert x == pytest.approx(y, rel=1e-12, abs=1e-15), f"epoch {epoch}: {a} vs {b}"


@pytest.mark.torch
@pytest.mark.parametrize("name", list(CASES))
def test_lr_sequence_matches_torch(torch, name):
    lab, ref = make(lg, name), make(torch, name)
    assert_same_trace(trace(*lab), trace(*ref))
    assert set(lab[1].state_dict()) == set(ref[1].state_dict())  # PyTorch's attribute names


@pytest.mark.parametrize("name", list(CASES))
def test_state_dict_round_trip(name):
    opt, scheduler = make(lg, name)
    full = trace(opt, scheduler, STEPS)
    opt2, scheduler2 = make(lg, name)
    trace(opt2, scheduler2, 20)
    saved = copy.deepcopy(scheduler2.state_dict())
    opt_saved = copy.deepcopy(opt2.state_dict())
    assert "optimizer" not in saved
    opt3, scheduler3 = make(lg, name)
    opt3.load_state_dict(opt_saved)
    scheduler3.load_state_dict(saved)
    resumed = trace(opt3, scheduler3, STEPS - 20)
    assert_same_trace(resumed, full[20:])


@pytest.mark.torch
def test_closed_form_epochs_and_fractional_warm_restarts(torch):
    def run(lib):
        opt, _ = make(lib, "StepLR")
        step_lr = lib.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        restarts = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (4, 9, 2):
                step_lr.step(epoch)
                out.append(step_lr.get_last_lr())
            for i in range(40):
                restarts.step(i / 3)
                out.append(restarts.get_last_lr() + [restarts.T_i, restarts.T_cur])
            restarts.step(100)
            out.append(restarts.get_last_lr() + [restarts.T_i, restarts.T_cur])
        return out
    got, expected = run(lg), run(torch)
    for a, b in zip(got, expected):
        assert a == pytest.approx(b, rel=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("options", [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.1, threshold_mode="abs"),
    dict(mode="min", factor=0.5, patience=1, cooldown=2, min_lr=[0.02, 0.001]),
    dict(mode="max", patience=0, threshold_mode="rel", eps=0.01, min_lr=0.004),
], ids=["defaults", "max-abs", "cooldown-min_lr", "eps"])
def test_reduce_on_plateau_matches_torch(torch, options):
    metrics = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 1.2, 0.1] * 4

    def run(lib):
        opt, _ = make(lib, "StepLR")
        plateau = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
        out = []
        for m in metrics:
            opt.step()
            plateau.step(lib.tensor(m) if len(out) % 2 else m)
            out.append(plateau.get_last_lr() + [plateau.best, plateau.num_bad_epochs])
        return out, plateau.state_dict()
    (got, state), (expected, _) = run(lg), run(torch)
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a == pytest.approx(b, rel=1e-6)
    assert got[-1][:2] != got[0][:2]  # the lr did go down
    opt, _ = make(lg, "StepLR")
    fresh = sched.ReduceLROnPlateau(opt, **options)
    fresh.load_state_dict(state)
    assert fresh.best == state["best"] and fresh.num_bad_epochs == state["num_bad_epochs"]


def test_reduce_on_plateau_errors():
    opt, _ = make(lg, "StepLR")
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        sched.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode sideways is unknown"):
        sched.ReduceLROnPlateau(opt, mode="sideways")
    with pytest.raises(ValueError, match="threshold mode"):
        sched.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 2 min_lrs"):
        sched.ReduceLROnPlateau(opt, min_lr=[0.1])


def test_initial_lr_and_resuming():
    opt, scheduler = make(lg, "StepLR")
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.05]
    assert scheduler.base_lrs == [0.1, 0.05] and scheduler.last_epoch == 0
    fresh, _ = make(lg, "StepLR")
    for group in fresh.param_groups:
        del group["initial_lr"]
    with pytest.raises(KeyError, match="initial_lr"):
        sched.ExponentialLR(fresh, gamma=0.5, last_epoch=3)


def test_tensor_lr_is_updated_in_place():
    p = lg.zeros(2, requires_grad=True)
    p.grad = lg.ones(2)
    lr = lg.tensor(0.1)
    opt = lg.optim.SGD([p], lr=lr)
    scheduler = sched.ExponentialLR(opt, gamma=0.5)
    opt.step()
    scheduler.step()
    assert opt.param_groups[0]["lr"] is lr and float(lr) == pytest.approx(0.05)
    last = scheduler.get_last_lr()[0]
    assert isinstance(last, lg.Tensor) and last is not lr


def test_warnings():
    opt, scheduler = make(lg, "StepLR")
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()
    opt, scheduler = make(lg, "StepLR")
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()  # the right order: no warning
    with pytest.warns(UserWarning, match="get_last_lr"):
        scheduler.get_lr()
    with pytest.warns(UserWarning, match="epoch parameter"):
        scheduler.step(3)


def test_scheduler_errors():
    opt, _ = make(lg, "StepLR")
    with pytest.raises(TypeError, match="is not an Optimizer"):
        sched.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        sched.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(TypeError, match="should be a function"):
        sched.MultiplicativeLR(opt, [1.0, 2.0])
    with pytest.raises(ValueError, match="between 0 and 1"):
        sched.ConstantLR(opt, factor=2.0)
    with pytest.raises(ValueError, match="greater than 0"):
        sched.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="positive integer T_0"):
        sched.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ValueError, match="total_steps OR"):
        sched.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        sched.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="step")
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        sched.OneCycleLR(opt, max_lr=[0.1], total_steps=10)
    with pytest.raises(ValueError, match="mode is invalid"):
        sched.CyclicLR(opt, 0.01, 0.1, mode="square")
    plain = lg.optim.Adagrad([lg.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="momentum or beta1"):
        sched.CyclicLR(plain, 0.01, 0.1)
    other, _ = make(lg, "StepLR")
    with pytest.raises(ValueError, match="same optimizer"):
        sched.SequentialLR(opt, [sched.StepLR(opt, 2), sched.StepLR(other, 2)], [3])
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        sched.SequentialLR(opt, [sched.StepLR(opt, 2)], [3])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        sched.ChainedScheduler([sched.ReduceLROnPlateau(opt)])


def test_one_cycle_refuses_to_step_past_the_end():
    opt, scheduler = make(lg, "OneCycleLR-cos")
    trace(opt, scheduler, STEPS)
    opt.step()
    scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 52 times"):
        scheduler.step()


def test_cosine_annealing_reaches_eta_min_at_t_max():
    opt, scheduler = make(lg, "CosineAnnealingLR")
    lrs = [lr for lr, _, _ in trace(opt, scheduler, 15)]
    assert lrs[15][0] == pytest.approx(0.001)
    assert lrs[0][0] == 0.1 and all(a[0] > b[0] for a, b in zip(lrs, lrs[1:]))
    assert math.isclose(lrs[8][1], 0.001 + (0.05 - 0.001) * (1 + math.cos(math.pi * 8 / 15)) / 2)
