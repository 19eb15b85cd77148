"""Convolutional networks: conv2d, max_pool2d and a whole CNN training step, labgrad vs PyTorch.

The shapes are those of PyTorch's MNIST example (batch 64, 1x28x28 -> conv 32 3x3 -> relu ->
conv 64 3x3 -> relu -> max_pool 2 -> dropout -> flatten -> linear 9216->128 -> relu -> dropout
-> linear 128->10 -> log_softmax, nll_loss, Adam) and a ResNet-style first layer (3x32x32,
64 channels, 3x3, padding 1). Each case runs the same statement text for both libraries on
tensors made from the same arrays (and, for the network, the same weights):

    conv2d ...         x.grad = w.grad = b.grad = None; F.conv2d(x, w, b, ...).sum().backward()
    max_pool2d ...     x.grad = None; F.max_pool2d(x, 2).sum().backward()
    MNIST CNN step     opt.zero_grad(); F.nll_loss(net(x), y).backward(); opt.step()

PyTorch's CPU convolutions are oneDNN kernels; labgrad's are NumPy im2col plus BLAS, so
the target is on the training step as a whole: labgrad / PyTorch <= 1.5. The other rows are
for information.

Both libraries keep worker threads spinning for a while after a parallel call (OpenBLAS for
up to about 0.1 s), which on a 2-core machine steals the cores from the other library's next
sample: each sample therefore starts after a short pause, outside the timed region.
"""
from __future__ import annotations

import time

import numpy as np

from .report import make_row, table
from .timing import compare, loop_sampler, paired_ratio, resolve_torch, settings

STEP_TARGET = 1.5
SETTLE_S = {"smoke": 0.0, "quick": 0.2, "full": 0.2}  # pause before each sample

# case -> (input shape, weight shape, conv keyword text, whether the input needs a gradient)
CONVS = {
    "conv2d MNIST conv1 1->32 28x28": ((64, 1, 28, 28), (32, 1, 3, 3), "", False),
    "conv2d MNIST conv2 32->64 26x26": ((64, 32, 26, 26), (64, 32, 3, 3), "", True),
    "conv2d ResNet stem 3->64 32x32 pad 1": ((64, 3, 32, 32), (64, 3, 3, 3), ", padding=1",
                                             False),
}
POOL_SHAPE = (64, 64, 24, 24)


def _smoke_shape(shape):
    """A tiny version of a shape for smoke mode: batch 2, at most 8 channels."""
    if len(shape) == 4:
        return (2, min(shape[1], 8), min(shape[2], 10), min(shape[3], 10))
    return shape


def _conv_rows(torch, config, smoke):
    import labgrad

    rng = np.random.default_rng(0)
    rows = []
    for case, (x_shape, w_shape, extra, input_grad) in CONVS.items():
        if smoke:
            x_shape = _smoke_shape(x_shape)
            w_shape = (min(w_shape[0], 8), x_shape[1]) + w_shape[2:]
        arrays = {"x": rng.standard_normal(x_shape, dtype=np.float32),
                  "w": rng.standard_normal(w_shape, dtype=np.float32),
                  "b": rng.standard_normal(w_shape[0], dtype=np.float32)}
        grads = {"x": input_grad, "w": True, "b": True}
        stmt = ("x.grad = w.grad = b.grad = None; "
                f"F.conv2d(x, w, b{extra}).sum().backward()")
        rows.append(_compare_libs("cnn", f"{case}, forward+backward", stmt, arrays, grads,
                                  labgrad, torch, config, None))
    shape = _smoke_shape(POOL_SHAPE) if smoke else POOL_SHAPE
    arrays = {"x": rng.standard_normal(shape, dtype=np.float32)}
    stmt = "x.grad = None; F.max_pool2d(x, 2).sum().backward()"
    rows.append(_compare_libs("cnn", "max_pool2d 2x2 64x64x24x24, forward+backward", stmt,
                              arrays, {"x": True}, labgrad, torch, config, None))
    return rows


def _namespace(lib, arrays, grads):
    space = {name: lib.tensor(array.copy(), requires_grad=grads[name])
             for name, array in arrays.items()}
    space["F"] = lib.nn.functional
    return space


def _compare_libs(suite, case, stmt, arrays, grads, labgrad, torch, config, target):
    samplers = {"labgrad": loop_sampler(stmt, _namespace(labgrad, arrays, grads),
                                        config["batch_s"])}
    if torch is not None:
        samplers["torch"] = loop_sampler(stmt, _namespace(torch, arrays, grads),
                                         config["batch_s"])
    return _row(suite, case, stmt, samplers, config, target)


def _settled(sampler, pause):
    """`sampler`, called after `pause` seconds of idling (not timed)."""
    def sample():
        time.sleep(pause)
        return sampler()
    return sample


def _row(suite, case, stmt, samplers, config, target):
    pause = config["settle_s"]
    stats = compare({name: _settled(s, pause) for name, s in samplers.items()},
                    config["repeat"])
    lab, ref = stats["labgrad"], stats.get("torch")
    extra = {"statement": stmt, "labgrad_median": lab.median}
    if ref is not None:
        extra.update(reference_median=ref.median, ratio_paired=paired_ratio(lab, ref))
    return make_row(suite, case, lab.min, ref.min if ref is not None else None,
                    ref_name="torch", max_ratio=target, extra=extra)


def mnist_net(lib):
    """PyTorch's MNIST example network, built with `lib` (labgrad or torch)."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = self.dropout2(x)
            return F.log_softmax(self.fc2(x), dim=1)

    return Net()


def _step_namespace(lib, weights, images, labels):
    net = mnist_net(lib)
    with lib.no_grad():
        for name, p in net.named_parameters():
            p.copy_(lib.tensor(weights[name]))
    return {"net": net, "opt": lib.optim.Adam(net.parameters(), lr=1e-3),
            "x": lib.tensor(images), "y": lib.tensor(labels), "F": lib.nn.functional}


def _step_row(torch, config, smoke):
    import labgrad

    rng = np.random.default_rng(1)
    batch = 2 if smoke else 64
    weights = {name: p.detach().numpy().copy()
               for name, p in mnist_net(labgrad).named_parameters()}
    images = rng.standard_normal((batch, 1, 28, 28), dtype=np.float32)
    labels = rng.integers(0, 10, batch)
    stmt = "opt.zero_grad(); F.nll_loss(net(x), y).backward(); opt.step()"
    samplers = {"labgrad": loop_sampler(stmt, _step_namespace(labgrad, weights, images, labels),
                                        config["batch_s"])}
    if torch is not None:
        samplers["torch"] = loop_sampler(stmt, _step_namespace(torch, weights, images, labels),
                                         config["batch_s"])
    return _row("cnn", f"MNIST CNN training step (Adam, batch {batch})", stmt, samplers,
                config, STEP_TARGET)


def run(mode="full", torch="auto") -> list:
    """Every conv and pool case, then the training step; returns result rows."""
    torch = resolve_torch(torch)
    config = dict(settings(mode), settle_s=SETTLE_S[mode])
    smoke = mode == "smoke"
    return _conv_rows(torch, config, smoke) + [_step_row(torch, config, smoke)]


def print_rows(rows):
    print(table("CNN ops and training step, float32 (per call; ratio of minimums)", rows,
                [("paired ratio", "ratio_paired", "x")]))


if __name__ == "__main__":
    print_rows(run("quick"))
