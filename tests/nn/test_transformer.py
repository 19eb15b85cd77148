"""Transformer layers, stacks and the full model against PyTorch with the same weights
(outputs, input and parameter gradients, train with dropout=0 and eval, masks), state_dict
keys, and the TextClassifier of issue 4."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import labgrad as lg
import labgrad.nn as nn
from labgrad.autograd import gradcheck

RNG = np.random.default_rng(0)


def _array(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _load(ours, theirs):
    assert list(ours.state_dict()) == list(theirs.state_dict())
    result = ours.load_state_dict({k: lg.tensor(v.detach().numpy()) for k, v in
                                   theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys


def _assert_close(ours, theirs, rtol=1e-4, atol=1e-4):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                               atol=atol)


def _quiet(fn, *args, **kwargs):
    """Build a module without the nested-tensor warning PyTorch (and labgrad) give."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args, **kwargs)


def _run_both(torch, ours, theirs, arrays, masks, mode, **options):
    """Run both models on the same inputs and masks; compare outputs and gradients."""
    getattr(ours, mode)()
    getattr(theirs, mode)()
    inputs = [lg.tensor(a, requires_grad=True) for a in arrays]
    tinputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = ours(*inputs, **{k: lg.tensor(v) for k, v in masks.items()}, **options)
    tout = theirs(*tinputs, **{k: torch.tensor(v) for k, v in masks.items()}, **options)
    _assert_close(out, tout)
    w = _array(*tout.shape)
    (out * lg.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    for name, p in theirs.named_parameters():
        _assert_close(ours.get_parameter(name).grad, p.grad)
    for a, b in zip(inputs, tinputs):
        _assert_close(a.grad, b.grad)


def _padding(batch, length):
    mask = np.zeros((batch, length), bool)
    mask[0, -2:] = True
    return mask


ENCODER_OPTIONS = [
    {},
    {"batch_first": True},
    {"norm_first": True},
    {"activation": "gelu", "batch_first": True},
    {"bias": False, "norm_first": True},
]


MASKS = ["none", "padding", "causal-bool", "float+padding"]
# Every option set with every mask kind, train and eval alternating (each mask sees both).
ENCODER_CASES = [(options, masks, ("train", "eval")[(i + j) % 2])
                 for i, options in enumerate(ENCODER_OPTIONS) for j, masks in enumerate(MASKS)]


@pytest.mark.torch
@pytest.mark.parametrize("options,masks,mode", ENCODER_CASES,
                         ids=[f"{'-'.join(f'{k}={v}' for k, v in o.items()) or 'default'}"
                              f"-{m}-{mode}" for o, m, mode in ENCODER_CASES])
def test_encoder_layer_matches_torch(torch, options, masks, mode):
    kwargs = {"dim_feedforward": 16, "dropout": 0.0, **options}
    theirs = torch.nn.TransformerEncoderLayer(8, 2, **kwargs)
    ours = nn.TransformerEncoderLayer(8, 2, **kwargs)
    _load(ours, theirs)
    batch, length = 3, 5
    src = _array(*((batch, length, 8) if options.get("batch_first") else (length, batch, 8)))
    given = {}
    if "padding" in masks:
        given["src_key_padding_mask"] = _padding(batch, length)
    if masks == "causal-bool":
        given["src_mask"] = np.triu(np.ones((length, length), bool), 1)
    elif masks == "float+padding":
        given["src_mask"] = _array(length, length)
        given["src_key_padding_mask"] = np.where(_padding(batch, length), -np.inf,
                                                 0).astype(np.float32)
    _run_both(torch, ours, theirs, [src], given, mode)


@pytest.mark.torch
@pytest.mark.parametrize("options", [{}, {"norm_first": True, "batch_first": True},
                                     {"activation": "gelu"}])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_decoder_layer_matches_torch(torch, options, mode):
    kwargs = {"dim_feedforward": 16, "dropout": 0.0, **options}
    theirs = torch.nn.TransformerDecoderLayer(8, 2, **kwargs)
    ours = nn.TransformerDecoderLayer(8, 2, **kwargs)
    _load(ours, theirs)
    batch_first = options.get("batch_first", False)
    tgt = _array(*((2, 4, 8) if batch_first else (4, 2, 8)))
    memory = _array(*((2, 6, 8) if batch_first else (6, 2, 8)))
    masks = {"tgt_mask": np.triu(np.full((4, 4), -np.inf, np.float32), 1),
             "memory_key_padding_mask": _padding(2, 6)}
    _run_both(torch, ours, theirs, [tgt, memory], masks, mode)


@pytest.mark.torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_transformer_matches_torch(torch, batch_first, mode):
    kwargs = {"d_model": 8, "nhead": 2, "num_encoder_layers": 2, "num_decoder_layers": 2,
              "dim_feedforward": 16, "dropout": 0.0, "batch_first": batch_first}
    theirs = _quiet(torch.nn.Transformer, **kwargs)
    ours = _quiet(nn.Transformer, **kwargs)
    _load(ours, theirs)
    src = _array(*((3, 5, 8) if batch_first else (5, 3, 8)))
    tgt = _array(*((3, 4, 8) if batch_first else (4, 3, 8)))
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(
        mask.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    masks = {"tgt_mask": mask.numpy(), "src_key_padding_mask": _padding(3, 5),
             "memory_key_padding_mask": _padding(3, 5)}
    _run_both(torch, ours, theirs, [src, tgt], masks, mode)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
def test_encoder_eval_zeroes_padding_like_torch_nested_path(torch):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    tlayer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    ours, theirs = nn.TransformerEncoder(layer, 2), torch.nn.TransformerEncoder(tlayer, 2)
    _load(ours, theirs)
    ours.eval()
    theirs.eval()
    src, padding = _array(3, 5, 8), _padding(3, 5)
    with lg.no_grad(), torch.no_grad():
        out = ours(lg.tensor(src), src_key_padding_mask=lg.tensor(padding))
        tout = theirs(torch.tensor(src), src_key_padding_mask=torch.tensor(padding))
    assert not out.numpy()[0, -2:].any()
    _assert_close(out, tout)


@pytest.mark.torch
def test_state_dict_keys_and_repr(torch):
    ours = _quiet(nn.Transformer, d_model=16, nhead=4, num_encoder_layers=2,
                  num_decoder_layers=1, dim_feedforward=32)
    theirs = _quiet(torch.nn.Transformer, d_model=16, nhead=4, num_encoder_layers=2,
                    num_decoder_layers=1, dim_feedforward=32)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, p in theirs.named_parameters():
        assert tuple(ours.get_parameter(name).shape) == tuple(p.shape)
    assert repr(ours) == repr(theirs)
    # layers are deep copies: changing one leaves the others alone
    layers = ours.encoder.layers
    assert layers[0].linear1.weight is not layers[1].linear1.weight
    # every matrix is xavier-uniform: within its bound
    w = ours.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(w).max() <= np.sqrt(6 / (16 + 32))


class TextClassifier(nn.Module):
    """The model of issue 4: embedding, a 2-layer encoder, mean over tokens, a linear head."""

    def __init__(self, vocab_size=100, embed_dim=16, num_classes=5):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        layer = nn.TransformerEncoderLayer(d_model=embed_dim, nhead=4, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)
        self.fc = nn.Linear(embed_dim, num_classes)

    def forward(self, x):
        return self.fc(self.encoder(self.embedding(x)).mean(dim=1))


@pytest.mark.torch
def test_text_classifier_state_dict_loads_from_torch(torch):
    class TorchTextClassifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(100, 16)
            layer = torch.nn.TransformerEncoderLayer(d_model=16, nhead=4, batch_first=True)
            self.encoder = torch.nn.TransformerEncoder(layer, num_layers=2)
            self.fc = torch.nn.Linear(16, 5)

        def forward(self, x):
            return self.fc(self.encoder(self.embedding(x)).mean(dim=1))

    ours, theirs = TextClassifier(), TorchTextClassifier()
    _load(ours, theirs)
    ours.eval()
    theirs.eval()
    tokens = RNG.integers(0, 100, (4, 7))
    _assert_close(ours(lg.tensor(tokens)), theirs(torch.tensor(tokens)))


def test_encoder_layer_gradcheck():
    lg.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double()
    src = lg.tensor(_array(3, 2, 4, dtype=np.float64), requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=lg.float64)
    assert gradcheck(lambda x: layer(x, src_mask=mask), (src,))


def test_dropout_only_in_training():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    src = lg.tensor(_array(4, 2, 8))
    lg.manual_seed(0)
    a = layer(src)
    lg.manual_seed(1)
    assert not np.allclose(a.detach().numpy(), layer(src).detach().numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(src).detach().numpy(), layer(src).detach().numpy())


def test_errors_and_warning():
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.warns(UserWarning, match="enable_nested_tensor"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 1)
    model = _quiet(nn.Transformer, d_model=8, nhead=2, num_encoder_layers=1,
                   num_decoder_layers=1, dim_feedforward=8)
    with pytest.raises(RuntimeError, match="batch number"):
        model(lg.zeros(3, 2, 8), lg.zeros(3, 1, 8))
    with pytest.raises(RuntimeError, match="d_model=8"):
        model(lg.zeros(3, 2, 6), lg.zeros(3, 2, 6))
    # a callable activation is kept as given
    layer = nn.TransformerEncoderLayer(8, 2, activation=lg.tanh)
    assert layer.activation is lg.tanh and layer.activation_relu_or_gelu == 0
