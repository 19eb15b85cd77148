"""nn.Module and nn.Parameter: registration, iteration, state_dict, conversion, repr, scope."""
from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest

import labgrad
from labgrad import nn
from labgrad.autograd import graph as _graph


def _build(t):
    """The same small model in labgrad or torch (`t` is either module): nested children, a
    shared submodule, a shared parameter, buffers (one non-persistent), a None parameter."""
    tnn = t.nn

    class Leaf(tnn.Module):
        def __init__(self, i, o):
            super().__init__()
            self.weight = tnn.Parameter(t.arange(o * i, dtype=t.float32).reshape(o, i) / 10)
            self.bias = tnn.Parameter(t.zeros(o))
            self.register_buffer("running", t.ones(o))
            self.register_buffer("scratch", t.zeros(o), persistent=False)
            self.register_parameter("empty", None)

        def forward(self, x):
            return x @ self.weight.t() + self.bias

        def extra_repr(self):
            return f"in={self.weight.shape[1]}, out={self.weight.shape[0]}"

    class Net(tnn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = tnn.Sequential(Leaf(3, 4), tnn.Module(), Leaf(4, 4))
            self.shared = self.encoder[0]
            self.head = Leaf(4, 2)
            self.tied = self.head.weight
            self.register_buffer("count", t.zeros((), dtype=t.int64))

        def forward(self, x):
            return self.head(self.encoder[2](self.shared(x).relu()))

    return Net()


# ------------------------------------------------------------------ Parameter and Buffer

def test_parameter_shares_memory_and_requires_grad():
    t = labgrad.zeros(3)
    p = nn.Parameter(t)
    assert isinstance(p, labgrad.Tensor) and type(p) is nn.Parameter
    assert p.requires_grad and p.is_leaf
    t.add_(1)
    assert p.tolist() == [1.0, 1.0, 1.0]
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    with pytest.raises(TypeError, match="Parameter"):
        nn.Parameter([1.0, 2.0])


def test_ops_on_a_parameter_give_plain_tensors():
    p = nn.Parameter(labgrad.randn(2, 3))
    for out in (p * 2, p.t(), p[0], p.sum(), p.detach(), p.data, p.clone(), p.view(3, 2)):
        assert type(out) is labgrad.Tensor
    (p * 2).sum().backward()
    assert type(p.grad) is labgrad.Tensor


@pytest.mark.torch
def test_parameter_repr_matches_torch(torch):
    values = np.array([[1.5, -2.0], [0.25, 3.0]], dtype=np.float32)
    ours = repr(nn.Parameter(labgrad.tensor(values)))
    theirs = repr(torch.nn.Parameter(torch.tensor(values)))
    assert ours == theirs


def test_parameter_deepcopy_keeps_class_and_grad():
    p = nn.Parameter(labgrad.ones(2))
    p.grad = labgrad.full((2,), 3.0)
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q is not p
    assert q.grad.tolist() == [3.0, 3.0]
    q.data.add_(1)
    assert p.tolist() == [1.0, 1.0]


def test_buffer_marks_tensor_for_registration():
    m = nn.Module()
    m.stats = nn.Buffer(labgrad.zeros(2))
    m.tmp = nn.Buffer(labgrad.ones(1), persistent=False)
    assert isinstance(m.stats, nn.Buffer) and not isinstance(labgrad.zeros(1), nn.Buffer)
    assert [n for n, _ in m.named_buffers()] == ["stats", "tmp"]
    assert list(m.state_dict()) == ["stats"]
    m.stats = labgrad.ones(3)  # a buffer name takes plain tensors too
    assert m.stats.tolist() == [1.0, 1.0, 1.0]


# ------------------------------------------------------------------ registration

def test_attribute_registration_and_deletion():
    m = nn.Module()
    m.w = nn.Parameter(labgrad.zeros(1))
    m.child = nn.Module()
    m.register_buffer("b", labgrad.zeros(1))
    m.plain = 3
    assert "w" in m._parameters and "child" in m._modules and "b" in m._buffers
    assert m.plain == 3 and "plain" in m.__dict__
    m.w = None  # allowed: empties the slot
    assert m._parameters["w"] is None and list(m.parameters()) == []
    m.child = nn.Sequential()
    m.child = None
    assert m._modules["child"] is None
    with pytest.raises(TypeError, match="as parameter 'w'"):  # as PyTorch: the slot is typed
        m.w = nn.Module()
    m.plain = nn.Parameter(labgrad.zeros(1))  # a plain attribute is replaced by a parameter
    assert "plain" not in m.__dict__ and "plain" in m._parameters
    del m.b, m.w, m.plain
    assert not m._buffers and not m._parameters
    with pytest.raises(AttributeError, match="has no attribute 'b'"):
        m.b


def test_registration_errors():
    m = nn.Module()
    m.w = nn.Parameter(labgrad.zeros(1))
    m.c = nn.Module()
    with pytest.raises(TypeError, match=r"cannot assign 'labgrad.FloatTensor' as parameter 'w'"):
        m.w = labgrad.zeros(1)
    with pytest.raises(TypeError, match="as child module 'c'"):
        m.c = 3
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", labgrad.zeros(1))
    with pytest.raises(KeyError, match="empty"):
        m.register_parameter("", None)
    with pytest.raises(KeyError, match="attribute 'w' already exists"):
        m.register_buffer("w", labgrad.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None required"):
        m.register_buffer("x", [1.0])
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(ValueError, match="non-leaf"):
        m.register_parameter("y", _non_leaf())
    with pytest.raises(TypeError, match="unexpected keyword argument 'x'"):
        nn.Module(x=1)


def _non_leaf():
    p = nn.Parameter(labgrad.ones(1))
    q = p * 2
    q.__class__ = nn.Parameter  # a Parameter with a grad_fn: what register_parameter refuses
    return q


def test_assigning_before_init_is_an_error():
    class Early(nn.Module):
        def __init__(self, what):
            self.x = what
            super().__init__()

    with pytest.raises(AttributeError, match="cannot assign module before Module.__init__"):
        Early(nn.Module())
    with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__"):
        Early(nn.Parameter(labgrad.zeros(1)))


def test_missing_forward_raises_pytorch_error():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required '
                                                  r'"forward" function'):
        nn.Module()(labgrad.zeros(1))


# ------------------------------------------------------------------ iteration (vs torch)

@pytest.mark.torch
def test_names_and_order_match_torch(torch):
    ours, theirs = _build(labgrad), _build(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in theirs.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in ours.named_modules(remove_duplicate=False)] == \
        [n for n, _ in theirs.named_modules(remove_duplicate=False)]
    assert [n for n, _ in ours.named_modules(prefix="m")] == \
        [n for n, _ in theirs.named_modules(prefix="m")]
    assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
    assert [n for n, _ in ours.named_parameters(prefix="p", recurse=False)] == \
        [n for n, _ in theirs.named_parameters(prefix="p", recurse=False)]
    assert [n for n, _ in ours.head.named_parameters(recurse=False)] == ["weight", "bias"]
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    assert len(list(ours.modules())) == len(list(theirs.modules()))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.state_dict(prefix="x.")) == list(theirs.state_dict(prefix="x."))


@pytest.mark.torch
def test_repr_matches_torch(torch):
    assert repr(_build(labgrad)) == repr(_build(torch))


def test_dir_lists_registered_names():
    names = dir(_build(labgrad))
    assert {"encoder", "head", "tied", "count", "forward", "training"} <= set(names)


def test_get_submodule_parameter_buffer():
    m = _build(labgrad)
    assert m.get_submodule("encoder.2") is m.encoder[2]
    assert m.get_submodule("") is m
    assert m.get_parameter("head.bias") is m.head.bias
    assert m.get_buffer("encoder.0.running") is m.encoder[0].running
    with pytest.raises(AttributeError, match="Sequential has no attribute `7`"):
        m.get_submodule("encoder.7")
    with pytest.raises(AttributeError, match="`count` is not an nn.Module"):
        m.get_submodule("count.x")
    with pytest.raises(AttributeError, match="`running` is not an nn.Parameter"):
        m.get_parameter("head.running")
    with pytest.raises(AttributeError, match="`bias` is not a buffer"):
        m.get_buffer("head.bias")


# ------------------------------------------------------------------ modes and grads

def test_train_eval_apply_requires_grad_zero_grad():
    m = _build(labgrad)
    assert m.eval() is m and not any(mod.training for mod in m.modules())
    assert m.train() is m and all(mod.training for mod in m.modules())
    with pytest.raises(ValueError, match="boolean"):
        m.train("no")
    order = []
    m.apply(lambda mod: order.append(type(mod).__name__))
    assert order[-1] == "Net" and order[0] == "Leaf"
    assert m.requires_grad_(False) is m and not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    m(labgrad.ones(2, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(not p.grad.any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


# ------------------------------------------------------------------ state dict

def test_state_dict_values_are_detached_views_and_keep_vars():
    m = _build(labgrad)
    sd = m.state_dict()
    assert isinstance(sd, OrderedDict)
    w = sd["head.weight"]
    assert type(w) is labgrad.Tensor and not w.requires_grad
    m.head.weight.data.add_(1)
    assert np.allclose(w.numpy(), m.head.weight.detach().numpy())  # shares memory
    assert m.state_dict(keep_vars=True)["head.weight"] is m.head.weight
    assert "encoder.0.scratch" not in sd and "count" in sd


def test_load_state_dict_round_trip_casts_and_bumps_version():
    src, dst = _build(labgrad), _build(labgrad)
    for p in src.parameters():
        p.data.normal_()
    sd = {k: (v.double() if v.is_floating_point() else v) for k, v in src.state_dict().items()}
    version = dst.head.weight._version
    weight = dst.head.weight
    result = dst.load_state_dict(sd)
    assert repr(result) == "<All keys matched successfully>"
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert dst.head.weight is weight and weight.dtype == labgrad.float32
    assert dst.head.weight._version > version
    for (k, a), b in zip(src.state_dict().items(), dst.state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy()), k


@pytest.mark.torch
def test_load_state_dict_error_lists_every_problem_like_torch(torch):
    def bad(t):
        good = _build(t).state_dict()
        sd = OrderedDict((k, v) for k, v in good.items() if k != "encoder.2.bias")
        sd["head.weight"] = t.zeros(5, 5)
        sd["encoder.0.running"] = 3.0
        sd["extra"] = t.zeros(1)
        sd["head.nope"] = t.zeros(1)
        return sd

    messages = []
    for t in (torch, labgrad):
        m = _build(t)
        with pytest.raises(RuntimeError) as info:
            m.load_state_dict(bad(t))
        messages.append(str(info.value).replace("torch", "labgrad"))
    assert messages[0] == messages[1]
    assert messages[1].startswith("Error(s) in loading state_dict for Net:\n\tMissing key(s)")


def test_load_state_dict_changes_nothing_when_it_raises():
    m = _build(labgrad)
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    sd = {k: labgrad.full(tuple(v.shape), 7.0).to(v.dtype) for k, v in m.state_dict().items()}
    sd["head.bias"] = labgrad.zeros(9)  # one bad entry, listed last
    with pytest.raises(RuntimeError, match="size mismatch for head.bias"):
        m.load_state_dict(sd)
    for k, v in m.state_dict().items():
        assert np.array_equal(v.numpy(), before[k]), k


def test_load_state_dict_not_strict_and_assign():
    m = _build(labgrad)
    sd = m.state_dict()
    del sd["head.bias"]
    sd["unused"] = labgrad.zeros(1)
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["head.bias"] and result.unexpected_keys == ["unused"]
    assert "missing_keys=['head.bias']" in repr(result)
    new = {k: v.clone() + 1 for k, v in _build(labgrad).state_dict().items()}
    m.load_state_dict(new, assign=True)
    assert type(m.head.weight) is nn.Parameter and m.head.weight.requires_grad
    assert np.array_equal(m.head.weight.detach().numpy(), new["head.weight"].numpy())
    assert m.count is new["count"]
    with pytest.raises(TypeError, match="dict-like"):
        m.load_state_dict([("a", 1)])


def test_custom_load_from_state_dict_and_extra_state():
    class Versioned(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("steps", labgrad.zeros((), dtype=labgrad.int64))
            self.note = "none"

        def _load_from_state_dict(self, state_dict, prefix, *args):
            state_dict.setdefault(prefix + "steps", labgrad.tensor(5))  # old checkpoints
            super()._load_from_state_dict(state_dict, prefix, *args)

        def get_extra_state(self):
            return {"note": self.note}

        def set_extra_state(self, state):
            self.note = state["note"]

    outer = nn.Module()
    outer.v = Versioned()
    assert list(outer.state_dict()) == ["v.steps", "v._extra_state"]
    outer.load_state_dict({"v._extra_state": {"note": "loaded"}})
    assert outer.v.steps.item() == 5 and outer.v.note == "loaded"


# ------------------------------------------------------------------ conversion

def test_to_keeps_parameter_identity_and_converts_grads():
    m = _build(labgrad)
    params = list(m.parameters())
    m(labgrad.ones(1, 3)).sum().backward()
    grad = m.head.weight.grad
    assert m.to(labgrad.float64) is m
    assert all(a is b for a, b in zip(m.parameters(), params))
    assert all(p.dtype == labgrad.float64 for p in m.parameters())
    assert m.head.weight.grad is grad and grad.dtype == labgrad.float64
    assert m.count.dtype == labgrad.int64 and m.encoder[0].running.dtype == labgrad.float64
    assert m.float().head.weight.dtype == labgrad.float32
    assert m.double().head.bias.dtype == labgrad.float64
    m.to("cpu", labgrad.float32)
    m.to(labgrad.zeros(1, dtype=labgrad.float64))
    assert m.head.weight.dtype == labgrad.float64 and m.cpu() is m
    assert m.half().head.weight.dtype == labgrad.float16
    assert m.type(labgrad.float32).head.weight.dtype == labgrad.float32
    with pytest.raises(TypeError, match="only accepts floating point"):
        m.to(labgrad.int64)
    out = m(labgrad.ones(1, 3))
    assert out.dtype == labgrad.float32


def test_deepcopy_of_a_module():
    m = _build(labgrad)
    c = copy.deepcopy(m)
    assert c.head.weight is not m.head.weight and c.tied is c.head.weight
    assert c.shared is c.encoder[0]
    assert np.array_equal(c(labgrad.ones(1, 3)).detach().numpy(),
                          m(labgrad.ones(1, 3)).detach().numpy())


# ------------------------------------------------------------------ scope and events

class _Inner(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(labgrad.ones(2))

    def forward(self, x):
        return x * self.w


class _Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = nn.Module()
        self.block.inner = _Inner()
        self.other = nn.Sequential(self.block.inner)  # the same module under a second name

    def forward(self, x):
        y = self.block.inner(x).exp()  # a grandchild, called from here
        scratch = _Inner()  # a module that is not registered
        return scratch(y).sum()


def test_scope_names_in_graph_metadata():
    m = _Outer()
    with labgrad.autograd.record_graph() as g:
        m(labgrad.ones(2))
    modules = {n.metadata["op"]: n.metadata["module"] for n in g.nodes}
    assert modules["ExpBackward0"] == "" and modules["SumBackward0"] == ""
    muls = [n.metadata["module"] for n in g.nodes if n.metadata["op"] == "MulBackward0"]
    assert muls == ["block.inner", ""]  # the unregistered one runs under its caller's name
    assert _graph.scope == []


def test_scope_of_nested_sequential_and_reuse():
    inner = _Inner()
    seq = nn.Sequential(nn.Sequential(inner), inner)
    seen = []
    with labgrad.events.register_module_forward_hook(
            lambda mod, args, out: seen.append((type(mod).__name__, _graph.scope[-1]))):
        seq(labgrad.ones(2))
    assert seen == [("_Inner", "0.0"), ("Sequential", "0"), ("_Inner", "1"), ("Sequential", "")]
    inner(labgrad.ones(2))  # called on its own, it is the outermost module
    assert _graph.scope == []


def test_scope_is_popped_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    with pytest.raises(ValueError):
        nn.Sequential(Boom())(labgrad.ones(1))
    assert _graph.scope == []


def test_module_forward_event_receives_inputs_and_output():
    m = _Inner()
    calls = []
    handle = labgrad.events.register_module_forward_hook(
        lambda mod, args, out: calls.append((mod, args, out)))
    x = labgrad.ones(2)
    out = m(x)
    handle.remove()
    m(x)
    assert len(calls) == 1
    mod, args, seen = calls[0]
    assert mod is m and args[0] is x and seen is out


def test_replacing_a_child_renames_its_scope():
    m = nn.Sequential(_Inner(), _Inner())
    m(labgrad.ones(2))
    moved = m[0]
    m[0] = _Inner()
    m.add_module("moved", moved)
    names = []
    with labgrad.events.register_module_forward_hook(
            lambda mod, args, out: names.append(_graph.scope[-1])):
        m(labgrad.ones(2))
    assert names == ["0", "1", "moved", ""]


@pytest.mark.cuda
def test_cuda_round_trip_keeps_identity():
    m = _build(labgrad)
    weight = m.head.weight
    m(labgrad.ones(1, 3)).sum().backward()
    assert m.cuda() is m and m.head.weight is weight
    assert weight.is_cuda and weight.grad.is_cuda and m.count.is_cuda
    out = m(labgrad.ones(1, 3, device="cuda"))
    assert out.is_cuda
    m.load_state_dict(_build(labgrad).state_dict())  # CPU values copied onto the GPU
    assert m.head.weight.is_cuda
    assert m.cpu().head.weight is weight and not weight.is_cuda


def test_gradients_of_parameters_are_plain_tensors():
    lg = labgrad
    p = lg.nn.Parameter(lg.tensor(2.0))
    p.backward()  # the implicit gradient of a Parameter root
    assert type(p.grad) is lg.Tensor
    q = lg.nn.Parameter(lg.tensor([1.0, 2.0]))
    (q * 3).backward(lg.nn.Parameter(lg.ones(2)))  # a Parameter given as the gradient
    assert type(q.grad) is lg.Tensor
