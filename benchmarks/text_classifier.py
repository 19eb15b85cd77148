"""One training step of the TextClassifier of issue 4, labgrad vs PyTorch.

The model: Embedding(10000, 256) -> TransformerEncoder(TransformerEncoderLayer(d_model=256,
nhead=4, batch_first=True), num_layers=2) -> mean over the tokens -> Linear(256, 5). A step on
a batch of 32 sequences of 64 tokens: zero_grad, forward, CrossEntropyLoss, backward, AdamW.
Both libraries start from the same weights (PyTorch's, loaded into labgrad) and see the same
batch, in train mode (dropout 0.1 on). Target: labgrad / PyTorch <= 1.25.
"""
from __future__ import annotations

import numpy as np

from .report import make_row, table
from .timing import compare, resolve_torch, timed

TARGET = 1.25
# mode -> (vocab, embed_dim, batch, tokens, samples per contender)
MODES = {
    "smoke": (100, 16, 2, 8, 1),
    "quick": (10000, 256, 32, 64, 5),
    "full": (10000, 256, 32, 64, 15),
}
CLASSES = 5


def build(lib, vocab, embed_dim):
    """The TextClassifier in `lib` (labgrad or torch), as a user would write it."""
    nn = lib.nn

    class TextClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, embed_dim)
            layer = nn.TransformerEncoderLayer(d_model=embed_dim, nhead=4, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, num_layers=2)
            self.fc = nn.Linear(embed_dim, CLASSES)

        def forward(self, x):
            return self.fc(self.encoder(self.embedding(x)).mean(dim=1))

    return TextClassifier()


def make_step(lib, model, tokens, labels):
    """A function running one training step of `model` in `lib`."""
    optimizer = lib.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()
    x, y = lib.tensor(tokens), lib.tensor(labels)
    model.train()

    def step():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    return step


def run(mode="full", torch="auto") -> list:
    import labgrad

    torch = resolve_torch(torch)
    vocab, embed_dim, batch, length, repeat = MODES[mode]
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, vocab, (batch, length))
    labels = rng.integers(0, CLASSES, batch)
    ours = build(labgrad, vocab, embed_dim)
    samplers = {}
    if torch is not None:
        theirs = build(torch, vocab, embed_dim)
        ours.load_state_dict({k: labgrad.tensor(v.detach().numpy())
                              for k, v in theirs.state_dict().items()})
        torch_step = make_step(torch, theirs, tokens, labels)
    labgrad_step = make_step(labgrad, ours, tokens, labels)
    samplers["labgrad"] = lambda: timed(labgrad_step)
    if torch is not None:
        samplers["torch"] = lambda: timed(torch_step)
    for sampler in samplers.values():  # warm up: first-call caches, optimizer state
        sampler()
    stats = compare(samplers, repeat)
    lab, ref = stats["labgrad"], stats.get("torch")
    extra = {"labgrad_median": lab.median}
    if ref is not None:
        extra["reference_median"] = ref.median
    case = f"train step, batch {batch}x{length}, embed {embed_dim}, vocab {vocab}"
    return [make_row("text_classifier", case, lab.min, ref.min if ref is not None else None,
                     ref_name="torch", max_ratio=TARGET, extra=extra)]


def print_rows(rows):
    print(table("TextClassifier training step (Embedding, 2-layer TransformerEncoder, Linear; "
                "CrossEntropyLoss + AdamW)", rows))


if __name__ == "__main__":
    print_rows(run("quick"))
