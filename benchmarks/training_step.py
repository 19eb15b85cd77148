"""One training step of an MLP classifier, labgrad vs PyTorch (CPU).

The model is 784-512-512-10 with ReLU (nn.Linear layers), batch 128, cross-entropy loss
(nn.functional.cross_entropy); the timed statement is a whole step, the same text for both
libraries:

    opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()

once with SGD (momentum 0.9) and once with Adam. Both libraries start from the same weights
and data, and their losses after the warm-up steps are checked to agree, so the benchmark
never times a wrong step. A third row times the optimizer step alone (Adam over the MLP's
parameters) for information. Target: a step costs at most 1.1x PyTorch's.
"""
from __future__ import annotations

import numpy as np

from .report import make_row, table
from .timing import compare, loop_sampler, paired_ratio, resolve_torch, settings

STEP = "opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()"
# mode -> (layer sizes, batch); smoke mode only checks that the code runs.
SIZES = {"smoke": ((32, 16, 16, 4), 8), "quick": ((784, 512, 512, 10), 128),
         "full": ((784, 512, 512, 10), 128)}
OPTIMIZERS = {"SGD": ("SGD", {"lr": 0.01, "momentum": 0.9}), "Adam": ("Adam", {"lr": 1e-3})}
TARGET = 1.1
WARMUP = 3


def make_mlp(lib, weights):
    """An MLP of nn.Linear layers in `lib`, holding copies of `weights` [(W, b), ...]."""
    nn = lib.nn

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(w.shape[1], w.shape[0]) for w, _ in weights)
            with lib.no_grad():
                for layer, (w, b) in zip(self.layers, weights):
                    layer.weight.copy_(lib.tensor(w))
                    layer.bias.copy_(lib.tensor(b))

        def forward(self, x):
            *hidden, last = self.layers
            for layer in hidden:
                x = layer(x).relu()
            return last(x)

    return MLP()


def make_case(lib, optimizer, arrays):
    """The namespace the step statement runs in: model, opt, x, y, F."""
    model = make_mlp(lib, arrays["weights"])
    name, options = OPTIMIZERS[optimizer]
    opt = getattr(lib.optim, name)(model.parameters(), **options)
    return {"model": model, "opt": opt, "F": lib.nn.functional,
            "x": lib.tensor(arrays["x"]), "y": lib.tensor(arrays["y"])}


def make_arrays(mode, seed=0):
    sizes, batch = SIZES[mode]
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        bound = 1 / np.sqrt(fan_in)  # nn.Linear's default initialization range
        weights.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                        rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return {"weights": weights,
            "x": rng.standard_normal((batch, sizes[0])).astype(np.float32),
            "y": rng.integers(0, sizes[-1], batch)}


def warm_up(namespace):
    """A few steps (first-call caches, optimizer state); returns the last loss."""
    scope = dict(namespace)
    for _ in range(WARMUP):
        exec(STEP, scope)  # noqa: S102 - our own statement, as the timed loop runs it
    return float(scope["loss"].detach())


def run(mode="full", torch="auto", optimizers=None) -> list:
    """Time a training step per optimizer (and an Adam step alone); returns result rows."""
    import labgrad

    torch = resolve_torch(torch)
    config = settings(mode)
    arrays = make_arrays(mode)
    rows = []
    for optimizer in optimizers or OPTIMIZERS:
        cases = {"labgrad": make_case(labgrad, optimizer, arrays)}
        if torch is not None:
            cases["torch"] = make_case(torch, optimizer, arrays)
        losses = {lib: warm_up(ns) for lib, ns in cases.items()}
        if torch is not None and not np.isclose(losses["labgrad"], losses["torch"], rtol=1e-4):
            raise AssertionError(f"training_step {optimizer}: labgrad's loss after {WARMUP} "
                                 f"steps is {losses['labgrad']}, PyTorch's {losses['torch']}")
        rows.append(_compare("training_step", f"MLP step, {optimizer}", STEP, cases, config,
                             TARGET, {"loss": losses["labgrad"]}))
    adam = {"labgrad": make_case(labgrad, "Adam", arrays)}
    if torch is not None:
        adam["torch"] = make_case(torch, "Adam", arrays)
    for namespace in adam.values():
        warm_up(namespace)
    rows.append(_compare("training_step", "Adam step alone", "opt.step()", adam, config, None,
                         {}))
    return rows


def _compare(suite, case, stmt, namespaces, config, target, extra):
    samplers = {lib: loop_sampler(stmt, ns, config["batch_s"]) for lib, ns in namespaces.items()}
    stats = compare(samplers, config["repeat"])
    lab, ref = stats["labgrad"], stats.get("torch")
    extra = dict(extra, statement=stmt, labgrad_median=lab.median)
    if ref is not None:
        extra.update(reference_median=ref.median, ratio_paired=paired_ratio(lab, ref))
    return make_row(suite, case, lab.min, ref.min if ref is not None else None,
                    ref_name="torch", max_ratio=target, extra=extra)


def print_rows(rows):
    sizes, batch = SIZES["full"]
    shape = "-".join(map(str, sizes))
    print(table(f"Training step, MLP {shape}, batch {batch}, float32 (ratio of minimums)",
                rows, [("paired ratio", "ratio_paired", "x")]))


if __name__ == "__main__":
    print_rows(run("quick"))
