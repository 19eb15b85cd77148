"""Devices and labgrad.cuda: device objects as torch.device; queries that answer without a
GPU; clear errors when a GPU is asked for and missing; and, where CuPy sees a GPU (tests marked
`cuda`), tensors that live there."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

import labgrad as lg

HAS_GPU = lg.cuda.is_available()
no_gpu = pytest.mark.skipif(HAS_GPU, reason="checks the errors given without a GPU")


# ---------------------------------------------------------------- device objects

DEVICES = {
    "cpu": lambda m: m.device("cpu"),
    "cuda": lambda m: m.device("cuda"),
    "cuda:1": lambda m: m.device("cuda:1"),
    "cuda-index": lambda m: m.device("cuda", 1),
    "keywords": lambda m: m.device(type="cuda", index=3),
    "cpu:0": lambda m: m.device("cpu:0"),
    "from-device": lambda m: m.device(m.device("cuda:2")),
    "cuda:01": lambda m: m.device("cuda:01"),
    "cuda:-1": lambda m: m.device("cuda:-1"),
    "cuda: 1": lambda m: m.device("cuda: 1"),
    "cuda:x": lambda m: m.device("cuda:x"),
    "negative-index": lambda m: m.device("cuda", -1),
    "index-twice": lambda m: m.device("cuda:1", 1),
    "gpu": lambda m: m.device("gpu"),
    "CPU": lambda m: m.device("CPU"),
}


def _outcome(make):
    try:
        dev = make()
    except Exception as error:  # noqa: BLE001 - the error type is the outcome compared
        return type(error)
    return repr(dev), str(dev), dev.type, dev.index


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(DEVICES))
def test_device_matches_pytorch(case, torch):
    ours, theirs = _outcome(lambda: DEVICES[case](lg)), _outcome(lambda: DEVICES[case](torch))
    if isinstance(theirs, type):
        assert isinstance(ours, type) and issubclass(ours, RuntimeError), ours
    else:
        assert ours == theirs


@pytest.mark.torch
def test_device_equality_matches_pytorch(torch):
    pairs = [("cuda:0", "cuda:0"), ("cuda", "cuda:0"), ("cpu", "cpu:0"), ("cpu", "cpu"),
             ("cuda:1", "cuda:2")]
    for a, b in pairs:
        assert (lg.device(a) == lg.device(b)) == (torch.device(a) == torch.device(b)), (a, b)
        assert (lg.device(a) != lg.device(b)) == (torch.device(a) != torch.device(b)), (a, b)
    assert (lg.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")
    assert len({lg.device("cpu"), lg.device("cpu:0")}) == \
        len({torch.device("cpu"), torch.device("cpu:0")})


def test_device_objects():
    cpu, gpu = lg.device("cpu"), lg.device("cuda:1")
    assert repr(cpu) == "device(type='cpu')" and str(cpu) == "cpu"
    assert repr(gpu) == "device(type='cuda', index=1)" and str(gpu) == "cuda:1"
    assert gpu.type == "cuda" and gpu.index == 1 and cpu.index is None
    assert lg.device("cuda", 1) == gpu and lg.device("cuda") != lg.device("cuda:0")
    assert cpu != "cpu"  # as in PyTorch, a device never equals a string
    assert hash(lg.device("cuda:1")) == hash(gpu)
    assert pickle.loads(pickle.dumps(gpu)) == gpu
    assert lg.zeros(2).device == cpu
    for bad in ("gpu", "cuda:-1", "cuda:x", "cuda:01"):
        with pytest.raises(RuntimeError):
            lg.device(bad)
    with pytest.raises(RuntimeError):
        lg.device("cuda", -1)


@no_gpu
def test_an_int_device_needs_an_accelerator():
    with pytest.raises(RuntimeError, match="accelerator"):
        lg.device(0)


# ---------------------------------------------------------------- labgrad.cuda without a GPU

def test_queries_answer_without_raising():
    assert isinstance(lg.cuda.is_available(), bool)
    assert isinstance(lg.cuda.device_count(), int)
    assert lg.cuda.is_available() == (lg.cuda.device_count() > 0)
    lg.cuda.manual_seed(0)  # a no-op without a GPU, as in PyTorch
    lg.cuda.manual_seed_all(1)


@no_gpu
def test_without_a_gpu():
    assert lg.cuda.is_available() is False
    assert lg.cuda.device_count() == 0


@no_gpu
@pytest.mark.parametrize("make", [
    lambda: lg.ones(2).cuda(),
    lambda: lg.ones(2).cuda(1),
    lambda: lg.ones(2).to("cuda"),
    lambda: lg.ones(2).to("cuda:0", lg.float64),
    lambda: lg.ones(2).to(device=lg.device("cuda")),
    lambda: lg.zeros(2, device="cuda"),
    lambda: lg.tensor([1.0], device="cuda"),
    lambda: lg.arange(3, device="cuda"),
    lambda: lg.rand(2, device="cuda"),
    lambda: lg.Generator("cuda"),
    lambda: lg.cuda.current_device(),
    lambda: lg.cuda.synchronize(),
    lambda: lg.cuda.set_device(0),
    lambda: lg.ones(2).type("labgrad.cuda.FloatTensor"),
], ids=["cuda()", "cuda(1)", "to-cuda", "to-cuda-dtype", "to-device", "zeros", "tensor",
        "arange", "rand", "Generator", "current_device", "synchronize", "set_device",
        "type-name"])
def test_asking_for_a_gpu_without_one_is_a_clear_error(make):
    with pytest.raises(RuntimeError, match="CUDA|cuda") as error:
        make()
    assert "no CUDA GPU" in str(error.value) or "CuPy" in str(error.value)


def test_cuda_rejects_non_cuda_devices():
    with pytest.raises(ValueError):
        lg.ones(2).cuda("cpu")


# ---------------------------------------------------------------- on a GPU (CuPy)

@pytest.mark.cuda
def test_round_trip_to_the_gpu():
    t = lg.arange(6.0).reshape(2, 3)
    g = t.cuda()
    assert g.is_cuda and not g.is_cpu and g.device == lg.device("cuda:0")
    assert g.device.type == "cuda" and str(g.device) == "cuda:0"
    assert g.to("cuda") is g and g.cuda() is g
    back = g.cpu()
    assert back.is_cpu and back.tolist() == t.tolist()
    assert g.to("cpu", lg.float64).dtype is lg.float64
    assert g.double().device == g.device
    assert g.type() == "labgrad.cuda.FloatTensor"


@pytest.mark.cuda
def test_creation_on_the_gpu():
    for t in (lg.zeros(2, 3, device="cuda"), lg.ones(2, device="cuda:0"),
              lg.full((2,), 3.0, device="cuda"), lg.arange(5, device="cuda"),
              lg.linspace(0, 1, 5, device="cuda"), lg.eye(3, device="cuda"),
              lg.tensor([1.0, 2.0], device="cuda"), lg.rand(3, device="cuda"),
              lg.randn(3, device="cuda"), lg.randint(0, 5, (3,), device="cuda")):
        assert t.is_cuda and t.device == lg.device("cuda:0")
    assert lg.arange(5, device="cuda").tolist() == [0, 1, 2, 3, 4]
    assert lg.zeros_like(lg.ones(2, device="cuda")).is_cuda
    assert lg.tensor(lg.ones(2, device="cuda")).is_cuda


@pytest.mark.cuda
def test_gpu_tensor_conversions():
    g = lg.tensor([1.5, 2.5], device="cuda")
    assert g.tolist() == [1.5, 2.5]
    assert lg.tensor(3.5, device="cuda").item() == 3.5
    with pytest.raises(TypeError, match="cpu"):
        g.numpy()
    assert g.numpy(force=True).tolist() == [1.5, 2.5]
    assert repr(g) == "tensor([1.5000, 2.5000], device='cuda:0')"
    assert repr(lg.tensor([1], device="cuda")) == "tensor([1], device='cuda:0')"


@pytest.mark.cuda
def test_gpu_random_is_reproducible():
    lg.manual_seed(3)
    first = lg.rand(4, device="cuda").tolist()
    lg.manual_seed(3)
    assert lg.rand(4, device="cuda").tolist() == first
    values = lg.rand(1000, device="cuda").cpu().numpy()
    assert values.min() >= 0 and values.max() < 1


@pytest.mark.cuda
def test_gpu_dlpack_round_trip():
    import cupy
    array = cupy.arange(4.0)
    t = lg.from_dlpack(array)
    assert t.is_cuda
    array[0] = 7.0
    assert t[0].item() == 7.0
    back = cupy.from_dlpack(t)
    assert back.tolist() == [7.0, 1.0, 2.0, 3.0]


@pytest.mark.cuda
def test_gpu_queries():
    assert lg.cuda.is_available() and lg.cuda.device_count() >= 1
    assert lg.cuda.current_device() == 0
    assert isinstance(lg.cuda.get_device_name(), str)
    lg.cuda.synchronize()
    with pytest.raises(RuntimeError):
        lg.zeros(2, device=f"cuda:{lg.cuda.device_count()}")


@pytest.mark.cuda
@pytest.mark.torch
def test_gpu_repr_matches_pytorch(torch):
    if not torch.cuda.is_available():
        pytest.skip("this PyTorch has no CUDA")
    for make in (lambda m: m.tensor([1.5, -2.0], device="cuda"),
                 lambda m: m.arange(3, device="cuda"),
                 lambda m: m.tensor([1.0], device="cuda", dtype=m.float64, requires_grad=True)):
        assert repr(make(lg)) == repr(make(torch)).replace("torch.", "labgrad.")
    np.testing.assert_array_equal(lg.linspace(0, 1, 7, device="cuda").cpu().numpy(),
                                  lg.linspace(0, 1, 7).numpy())
