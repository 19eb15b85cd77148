"""labgrad.save / labgrad.load: round trips, sharing, atomic writes, integrity checks,
map_location, and safetensors interop with PyTorch."""
from __future__ import annotations

import ast
import hashlib
import io
import json
import math
import os
import pathlib
import re
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labgrad as lg
from labgrad import serialization

safetensors = pytest.importorskip("safetensors")
import safetensors.numpy  # noqa: E402

SOURCE = pathlib.Path(serialization.__file__)


def roundtrip(obj, **load_kwargs):
    buffer = io.BytesIO()
    lg.save(obj, buffer)
    buffer.seek(0)
    return lg.load(buffer, **load_kwargs)


def assert_same(loaded, original, where="obj"):
    """Equal values AND equal types, all the way down (a tuple is no list, 1 is no 1.0)."""
    assert type(loaded) is type(original), f"{where}: {type(loaded)} != {type(original)}"
    if isinstance(original, lg.Tensor):
        assert loaded.dtype is original.dtype, where
        assert loaded.shape == original.shape, where
        assert loaded.requires_grad == original.requires_grad, where
        assert loaded.device == original.device, where
        expected = original.detach().numpy()
        assert loaded.detach().numpy().tobytes() == np.ascontiguousarray(expected).tobytes()
    elif isinstance(original, (list, tuple)):
        assert len(loaded) == len(original), where
        for i, (a, b) in enumerate(zip(loaded, original)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(original, dict):
        assert list(loaded) == list(original), where
        for key in original:
            assert type(next(k for k in loaded if k == key)) is type(key), where
            assert_same(loaded[key], original[key], f"{where}[{key!r}]")
    elif isinstance(original, float) and math.isnan(original):
        assert math.isnan(loaded), where
    elif isinstance(original, float):
        assert loaded == original and math.copysign(1, loaded) == math.copysign(1, original)
    else:
        assert loaded == original, where


# ---------------------------------------------------------------- round trips

VALUES = [
    None, True, False, 0, -7, 2 ** 70, 1.5, -0.0, 1e-300, math.inf, -math.inf, math.nan,
    "", "ünïcødé \u2603 \ud800", b"", b"\x00\xff", [], (), {}, OrderedDict(), (1,),
    [1, (2, [3.0, "x"])], {"b": 1, "a": 2, "c": 3}, {1: "int", "1": "str"},
    {(1, "a"): None, None: 1, 2.5: 3, math.inf: 4, b"k": 5}, {True: "bool"},
    OrderedDict([("z", 1), ("y", (2, 3))]), lg.float32, lg.int64, lg.bool, lg.device("cpu"),
    lg.device("cuda", 1), lg.Size([2, 3]), lg.Size([]),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_roundtrip_plain_values(value):
    assert_same(roundtrip(value), value)


def test_numpy_scalars_come_back_as_python_numbers():
    loaded = roundtrip([np.float32(1.5), np.int64(3), np.bool_(True)])
    assert_same(loaded, [1.5, 3, True])


DTYPES = list(lg.dtypes.ALL)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("shape", [(), (0,), (2, 0, 3), (3, 4)], ids=str)
def test_roundtrip_dtypes_and_shapes(dtype, shape):
    values = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) - 3
    t = lg.tensor(values).to(dtype)
    loaded = roundtrip(t)
    assert_same(loaded, t)
    assert loaded.is_contiguous()
    loaded.zero_()  # the loaded memory is the tensor's own, and writable
    assert not loaded.numpy().any()


def test_requires_grad_and_parameters_come_back():
    w = lg.nn.Parameter(lg.randn(2, 3))
    frozen = lg.nn.Parameter(lg.randn(2), requires_grad=False)
    x = lg.randn(3, requires_grad=True)
    loaded = roundtrip({"w": w, "frozen": frozen, "x": x, "y": x * 2})
    assert type(loaded["w"]) is lg.nn.Parameter and loaded["w"].requires_grad
    assert type(loaded["frozen"]) is lg.nn.Parameter and not loaded["frozen"].requires_grad
    assert type(loaded["x"]) is lg.Tensor and loaded["x"].requires_grad
    # a computed tensor comes back as a leaf that requires grad, as in PyTorch
    assert loaded["y"].is_leaf and loaded["y"].requires_grad
    np.testing.assert_array_equal(loaded["y"].detach().numpy(), (x * 2).detach().numpy())


def test_non_contiguous_views_are_saved_contiguous():
    base = lg.arange(24.0).reshape(4, 6)
    views = {"t": base.t(), "step": base[::2, 1::3], "expand": lg.ones(3, 1).expand(3, 4)}
    loaded = roundtrip(views)
    for key, view in views.items():
        np.testing.assert_array_equal(loaded[key].numpy(), view.numpy())
        assert loaded[key].is_contiguous()


def test_same_tensor_object_is_stored_once_and_comes_back_shared():
    t = lg.randn(5)
    view = t[1:3]
    buffer = io.BytesIO()
    lg.save({"a": t, "b": [t, view], "c": (t,)}, buffer)
    names = list(safetensors.numpy.load(buffer.getvalue()))
    assert sorted(names) == ["a", "b/1"]  # t once, the view as its own tensor
    buffer.seek(0)
    loaded = lg.load(buffer)
    assert loaded["a"] is loaded["b"][0] is loaded["c"][0]
    loaded["a"].zero_()  # views come back independent (documented)
    np.testing.assert_array_equal(loaded["b"][1].numpy(), view.numpy())


def test_tensor_keys_follow_the_paths():
    t = lg.ones(1)
    obj = {"fc.weight": t * 1, "opt": {"state": {0: {"m": t * 2}}, "list": [t * 3]},
           1: t * 4, "1": t * 5, "__metadata__": t * 6}
    buffer = io.BytesIO()
    lg.save(obj, buffer)
    names = set(safetensors.numpy.load(buffer.getvalue()))
    assert names == {"fc.weight", "opt/state/0/m", "opt/list/0", "1", "1#2", "__metadata__#2"}
    buffer.seek(0)
    assert_same(lg.load(buffer), obj)
    buffer = io.BytesIO()
    lg.save(lg.ones(2), buffer)  # a tensor saved alone
    assert list(safetensors.numpy.load(buffer.getvalue())) == ["tensor"]


def test_state_dict_metadata_is_kept():
    state = OrderedDict([("0.weight", lg.ones(2)), ("1.running_mean", lg.zeros(2))])
    state._metadata = OrderedDict([("", {"version": 1}), ("1", {"version": 2})])
    loaded = roundtrip({"model": state})["model"]
    assert_same(loaded, state)
    assert_same(loaded._metadata, state._metadata)
    assert not hasattr(roundtrip(OrderedDict(a=1)), "_metadata")


@pytest.mark.skipif(not hasattr(lg.nn, "BatchNorm1d") or not hasattr(lg.optim, "AdamW"),
                    reason="labgrad.nn.BatchNorm1d / labgrad.optim.AdamW are not written yet")
def test_model_and_optimizer_checkpoint(tmp_path):
    def make():
        model = lg.nn.Sequential(lg.nn.Linear(3, 4), lg.nn.BatchNorm1d(4))
        return model, lg.optim.AdamW(model.parameters(), lr=0.01)

    model, optimizer = make()
    model(lg.randn(5, 3)).square().sum().backward()
    optimizer.step()
    path = tmp_path / "checkpoint.pt"
    lg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 1},
            path)
    checkpoint = lg.load(path)
    fresh, fresh_optimizer = make()
    fresh.load_state_dict(checkpoint["model"])
    fresh_optimizer.load_state_dict(checkpoint["optimizer"])
    assert_same(fresh.state_dict(), model.state_dict())
    assert_same(fresh_optimizer.state_dict(), optimizer.state_dict())


def test_optimizer_state_dict_roundtrip():
    state = {"state": {0: {"step": lg.tensor(10.0), "exp_avg": lg.randn(3),
                           "exp_avg_sq": lg.rand(3)},
                       1: {"step": lg.tensor(10.0), "momentum_buffer": None}},
             "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8,
                               "weight_decay": 0, "amsgrad": False, "foreach": None,
                               "maximize": False, "params": [0, 1]}]}
    assert_same(roundtrip(state), state)


def _tensors(draw_shape=st.lists(st.integers(0, 3), max_size=2)):
    return st.builds(lambda shape, dtype: lg.ones(tuple(shape), dtype=dtype) * 3,
                     draw_shape, st.sampled_from([lg.float32, lg.int64, lg.float64]))


_leaves = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
           | st.binary(max_size=4) | _tensors())
_keys = st.text(max_size=4) | st.integers(-3, 3)
_nested = st.recursive(
    _leaves,
    lambda inner: (st.lists(inner, max_size=3) | st.lists(inner, max_size=3).map(tuple)
                   | st.dictionaries(_keys, inner, max_size=3)
                   | st.dictionaries(_keys, inner, max_size=3).map(OrderedDict)),
    max_leaves=12)


@settings(max_examples=40, deadline=None)
@given(_nested)
def test_roundtrip_nested_structures(obj):
    assert_same(roundtrip(obj), obj)


@pytest.mark.parametrize("kind", ["str", "pathlib", "file"])
def test_paths_and_open_files(tmp_path, kind):
    path = tmp_path / "ckpt.safetensors"
    obj = {"w": lg.randn(2, 2), "step": 3}
    if kind == "file":
        with open(path, "wb") as f:
            lg.save(obj, f)
        with open(path, "rb") as f:
            loaded = lg.load(f)
    else:
        target = str(path) if kind == "str" else path
        lg.save(obj, target)
        loaded = lg.load(target)
    assert_same(loaded, obj)
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


class ReadOnlyStream:
    """A file object with read() alone (no readinto, no seek), like a pipe."""

    def __init__(self, data):
        self._buffer = io.BytesIO(data)

    def read(self, size=-1):
        return self._buffer.read(min(size, 7) if size > 0 else size)  # short reads too


def test_stream_without_readinto():
    obj = {"w": lg.randn(5, 3), "n": 1}
    buffer = io.BytesIO()
    lg.save(obj, buffer)
    assert_same(lg.load(ReadOnlyStream(buffer.getvalue())), obj)


def test_large_tensor_is_hashed_in_chunks(monkeypatch):
    big = lg.arange(float(2 * 2 ** 22 + 5))  # a little over two 16 MiB chunks of float32
    buffer = io.BytesIO()
    lg.save({"big": big}, buffer)
    blob = buffer.getvalue()
    loaded = lg.load(io.BytesIO(blob))["big"]
    np.testing.assert_array_equal(loaded.numpy(), big.numpy())
    monkeypatch.setattr(serialization.os, "cpu_count", lambda: 1)  # one thread: same digest
    assert lg.load(io.BytesIO(blob))["big"].shape == big.shape
    damaged = bytearray(blob)
    damaged[len(blob) - 2 ** 24 - 3] ^= 0x10  # in the middle chunk
    with pytest.raises(RuntimeError, match="tensor data does not match"):
        lg.load(io.BytesIO(bytes(damaged)))


def test_pytorch_keywords_are_accepted():
    buffer = io.BytesIO()
    lg.save([1], buffer, pickle_protocol=4, _use_new_zipfile_serialization=True)
    buffer.seek(0)
    assert lg.load(buffer, weights_only=False, mmap=False, encoding="latin1") == [1]
    with pytest.raises(TypeError, match="unexpected keyword"):
        lg.load(io.BytesIO(), bogus=1)


# ---------------------------------------------------------------- errors on save

class Net:
    def state_dict(self):
        return {}


@pytest.mark.parametrize("bad, where, hint", [
    ({"model": Net()}, r"obj\['model'\] of type Net", r"state_dict\(\) instead"),
    ({"a": [0, {"b": lambda x: x}]}, r"obj\['a'\]\[1\]\['b'\] of type function", "never pickles"),
    ([object()], r"obj\[0\] of type object", "stores tensors"),
    ({"s": {1, 2}}, r"obj\['s'\] of type set", "stores tensors"),
    ({"arr": np.zeros(2)}, r"obj\['arr'\] of type ndarray", "from_numpy"),
    ({lg.ones(1): 1}, "dict key", "keys must be"),
])
def test_unsupported_objects_raise_type_error_naming_the_path(bad, where, hint):
    with pytest.raises(TypeError, match=where) as info:
        lg.save(bad, io.BytesIO())
    assert re.search(hint, str(info.value))


def test_reference_cycle_is_refused():
    cycle = [1]
    cycle.append({"back": cycle})
    with pytest.raises(ValueError, match=r"obj\[1\]\['back'\] contains itself"):
        lg.save(cycle, io.BytesIO())
    shared = [1]
    assert roundtrip([shared, shared]) == [[1], [1]]  # shared but not cyclic is fine


def test_bad_f_arguments():
    with pytest.raises(TypeError, match="path .* or a binary file"):
        lg.save(1, 42)
    with pytest.raises(TypeError, match="path .* or a binary file"):
        lg.load(42)
    with pytest.raises(RuntimeError, match="parent directory .* does not exist"):
        lg.save(1, "/nonexistent-dir-labgrad/x.safetensors")
    with pytest.raises(FileNotFoundError):
        lg.load("/nonexistent-dir-labgrad/x.safetensors")


def test_text_mode_file_is_refused(tmp_path):
    path = tmp_path / "c.safetensors"
    lg.save(1, path)
    with open(path, encoding="latin1") as f, pytest.raises(TypeError, match="'rb'"):
        lg.load(f)


# ---------------------------------------------------------------- atomic writes

def _setup_old_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    lg.save({"old": lg.arange(4.0)}, path)
    return path, path.read_bytes()


def test_failed_save_leaves_old_file_intact(tmp_path):
    path, old = _setup_old_file(tmp_path)
    with pytest.raises(TypeError, match=r"obj\['deep'\]\[0\]\['x'\]"):
        lg.save({"new": lg.ones(3), "deep": [{"x": object()}]}, path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_failure_while_writing_removes_the_temp_file(tmp_path, monkeypatch, failing):
    path, old = _setup_old_file(tmp_path)
    seen = []

    def boom(*args):
        seen.append(os.listdir(tmp_path))  # the temp file exists at this point
        raise OSError("disk on fire")

    monkeypatch.setattr(serialization.os, failing, boom)
    with pytest.raises(OSError, match="disk on fire"):
        lg.save({"new": lg.ones(1000)}, path)
    monkeypatch.undo()
    assert len(seen[0]) == 2  # the old file and the temp file beside it
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == [path.name]
    assert_same(lg.load(path), {"old": lg.arange(4.0)})


def test_interrupted_save_leaves_old_file_intact(tmp_path, monkeypatch):
    path, old = _setup_old_file(tmp_path)
    monkeypatch.setattr(serialization.os, "replace", lambda *a: (_ for _ in ()).throw(
        KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        lg.save([1], path)
    monkeypatch.undo()
    assert path.read_bytes() == old and os.listdir(tmp_path) == [path.name]


def test_save_through_a_symlink_replaces_its_target(tmp_path):
    target = tmp_path / "real.safetensors"
    lg.save(1, target)
    link = tmp_path / "link.safetensors"
    link.symlink_to(target)
    lg.save(2, link)
    assert link.is_symlink() and lg.load(target) == 2
    assert sorted(os.listdir(tmp_path)) == ["link.safetensors", "real.safetensors"]


def test_saved_file_has_ordinary_permissions(tmp_path):
    path = tmp_path / "p.safetensors"
    lg.save(1, path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------- integrity

def _small_file():
    buffer = io.BytesIO()
    lg.save({"w": lg.arange(6.0).reshape(2, 3), "cfg": {"lr": 0.1, 3: (1, "a")},
             "ids": lg.tensor([1, 2, 3])}, buffer)
    return buffer.getvalue()


def test_every_flipped_byte_is_detected():
    blob = _small_file()
    for i in range(len(blob)):
        damaged = bytearray(blob)
        damaged[i] ^= 0x01
        with pytest.raises(RuntimeError, match="labgrad.load: cannot load .*Nothing was loaded"):
            lg.load(io.BytesIO(bytes(damaged)))


@pytest.mark.parametrize("keep", [0, 4, 7, 9, 100, -13, -1])
def test_truncated_file_is_detected(tmp_path, keep):
    blob = _small_file()
    path = tmp_path / "cut.safetensors"
    path.write_bytes(blob[:keep])
    with pytest.raises(RuntimeError, match=r"cannot load '.*cut.safetensors'") as info:
        lg.load(path)
    assert any(word in str(info.value) for word in ("truncated", "empty", "too short"))


def test_huge_claimed_tensor_is_refused_before_allocating():
    blob = _small_file()
    size = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + size])
    header["w"]["shape"] = [2 ** 40, 2 ** 8]  # a terabyte, in a file of a few hundred bytes
    header["w"]["data_offsets"] = [0, 2 ** 50]
    header["ids"]["data_offsets"] = [2 ** 50, 2 ** 50 + 24]
    text = json.dumps(header).encode()
    with pytest.raises(RuntimeError, match="truncated: its header describes"):
        lg.load(io.BytesIO(len(text).to_bytes(8, "little") + text + blob[8 + size:]))


def test_appended_garbage_is_detected():
    with pytest.raises(RuntimeError, match="goes on after its last tensor"):
        lg.load(io.BytesIO(_small_file() + b"extra"))


def test_header_size_that_starts_like_a_pickle_loads():
    """A 640-byte header's size starts with the bytes of pickle's protocol-2 mark."""
    for n in range(400):
        obj = {"pad": "x" * n, "t": lg.ones(2)}
        buffer = io.BytesIO()
        lg.save(obj, buffer)
        if buffer.getvalue()[:2] == b"\x80\x02":
            break
    else:
        pytest.fail("no header of 640 bytes was made")
    buffer.seek(0)
    assert_same(lg.load(buffer), obj)


def test_flipped_data_byte_names_the_digest(tmp_path):
    blob = bytearray(_small_file())
    blob[-1] ^= 0x80
    path = tmp_path / "bad.safetensors"
    path.write_bytes(bytes(blob))
    with pytest.raises(RuntimeError, match="bad.safetensors.*tensor data does not match its "
                                           "SHA-256"):
        lg.load(path)


def test_not_a_safetensors_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some text that is long enough")
    with pytest.raises(RuntimeError, match="notes.txt.*not a safetensors file"):
        lg.load(path)


@pytest.mark.torch
@pytest.mark.parametrize("zipfile", [True, False])
def test_torch_pickle_file_gets_a_clear_error(tmp_path, torch, zipfile):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=zipfile)
    with pytest.raises(RuntimeError, match=r"model.pt.*saved by torch.save \(pickle\).*"
                                           r"safetensors.torch.save_file"):
        lg.load(path)


def _rewrite(blob, change):
    """A labgrad file whose structure went through change(document), with digests recomputed
    (a file as a newer or a hostile writer could make it)."""
    header_size = int.from_bytes(blob[:8], "little")
    metadata = json.loads(blob[8:8 + header_size])["__metadata__"]
    arrays = safetensors.numpy.load(blob)
    document = json.loads(metadata["labgrad"])
    change(document)
    text = json.dumps(document)
    metadata["labgrad"] = text
    metadata["labgrad.structure_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    return safetensors.numpy.save(arrays, metadata=metadata)


@pytest.mark.parametrize("tag", ["pickle", "os.system", "builtins.eval", None, 3])
def test_unknown_tag_is_an_error_not_an_import(tag):
    def change(document):
        document["root"] = {"$": "dict", "items": [["x", {"$": tag, "args": ["echo hi"]}]]}
    blob = _rewrite(_small_file(), change)
    with pytest.raises(RuntimeError, match=f"unknown tag {tag!r}"):
        lg.load(io.BytesIO(blob))


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(version=2), "newer labgrad .* upgrade labgrad"),
    (lambda d: d.update(version="1"), "malformed"),
    (lambda d: d["tensors"][0].update(dtype="int32"), "malformed.*float32"),
    (lambda d: d["tensors"][0].update(shape=[6]), "malformed"),
    (lambda d: d["tensors"][0].pop("device"), "malformed"),
    (lambda d: d["tensors"].pop(), "malformed|holds 2 tensors"),
    (lambda d: d.update(root={"$": "tensor", "id": 9}), "malformed"),
    (lambda d: d.update(root={"$": "dict", "items": [[[1], 2]]}), "malformed"),
    (lambda d: d.update(root={"$": "float", "v": "1e5"}), "malformed"),
    (lambda d: d.update(root={"$": "dtype", "name": "complex128"}), "malformed"),
    (lambda d: d.update(root={"$": "device", "name": "tpu:0"}), "malformed"),
    (lambda d: d["tensors"][1].update(requires_grad=True), "malformed.*floating point"),
    (lambda d: d["tensors"][1].update(device="tpu:0"), "malformed.*tpu"),
    (lambda d: d["tensors"][1].update(device=1), "malformed"),
])
def test_malformed_structure_is_reported(change, message):
    with pytest.raises(RuntimeError, match=message):
        lg.load(io.BytesIO(_rewrite(_small_file(), change)))


def test_missing_digest_is_reported():
    blob = _small_file()
    header_size = int.from_bytes(blob[:8], "little")
    metadata = json.loads(blob[8:8 + header_size])["__metadata__"]
    del metadata["labgrad.data_sha256"]
    damaged = safetensors.numpy.save(safetensors.numpy.load(blob), metadata=metadata)
    with pytest.raises(RuntimeError, match="labgrad metadata is damaged.*data_sha256"):
        lg.load(io.BytesIO(damaged))


def test_loading_never_imports_pickle_or_runs_code():
    tree = ast.parse(SOURCE.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("eval", "exec", "compile", "__import__"), node.func.id
    assert not imported & {"pickle", "dill", "cloudpickle", "marshal", "shelve", "importlib",
                           "joblib", "copyreg"}


def test_import_labgrad_does_not_import_safetensors():
    code = "import sys, labgrad; assert 'safetensors' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=SOURCE.parent.parent)


def test_missing_safetensors_gives_install_hint_on_save(monkeypatch):
    blob = _small_file()
    monkeypatch.setitem(sys.modules, "safetensors", None)  # makes `import safetensors` fail
    with pytest.raises(ImportError, match=r'labgrad.save needs .*pip install "labgrad\[io\]"'):
        lg.save(1, io.BytesIO())
    assert lg.load(io.BytesIO(blob))["cfg"] == {"lr": 0.1, 3: (1, "a")}  # loading needs none


# ---------------------------------------------------------------- map_location

def _cuda_file():
    """A file whose tensors were saved on cuda:0 (made by rewriting the recorded devices)."""
    def change(document):
        for record in document["tensors"]:
            record["device"] = "cuda:0"
    return _rewrite(_small_file(), change)


@pytest.mark.skipif(lg.cuda.is_available(), reason="checks the error on a machine without GPU")
def test_cuda_file_without_gpu_suggests_map_location():
    with pytest.raises(RuntimeError, match=r"saved on cuda:0.*map_location='cpu'"):
        lg.load(io.BytesIO(_cuda_file()))
    with pytest.raises(RuntimeError, match=r"map_location sends .* cuda.*map_location='cpu'"):
        lg.load(io.BytesIO(_small_file()), map_location="cuda")
    with pytest.raises(RuntimeError, match="saved on cuda:0"):  # a dict leaves cuda:0 alone
        lg.load(io.BytesIO(_cuda_file()), map_location={"cuda:1": "cpu"})
    with pytest.raises(RuntimeError, match="saved on cuda:0"):  # None keeps the location
        lg.load(io.BytesIO(_cuda_file()), map_location=lambda t, loc: None)


@pytest.mark.parametrize("map_location", [
    "cpu", lg.device("cpu"), {"cuda:0": "cpu"}, {lg.device("cuda:0"): lg.device("cpu")},
    lambda storage, location: storage,
], ids=["str", "device", "dict", "dict-of-devices", "callable"])
def test_map_location_to_cpu(map_location):
    loaded = lg.load(io.BytesIO(_cuda_file()), map_location=map_location)
    assert loaded["w"].device == lg.device("cpu")
    np.testing.assert_array_equal(loaded["w"].numpy(), np.arange(6.0).reshape(2, 3))
    assert loaded["cfg"] == {"lr": 0.1, 3: (1, "a")}


def test_map_location_callable_sees_tensor_and_location():
    seen = []

    def where(tensor, location):
        seen.append((type(tensor), tuple(tensor.shape), location))
        return tensor * 2

    loaded = lg.load(io.BytesIO(_cuda_file()), map_location=where)
    assert seen == [(lg.Tensor, (2, 3), "cuda:0"), (lg.Tensor, (3,), "cuda:0")]
    np.testing.assert_array_equal(loaded["ids"].numpy(), [2, 4, 6])
    with pytest.raises(TypeError, match="map_location returned str"):
        lg.load(io.BytesIO(_small_file()), map_location=lambda t, loc: "cpu")
    with pytest.raises(TypeError, match="map_location must be"):
        lg.load(io.BytesIO(_small_file()), map_location=1.5)


@pytest.mark.cuda
def test_cuda_tensors_roundtrip():
    t = lg.randn(3, device="cuda")
    loaded = roundtrip({"t": t})
    assert loaded["t"].device == t.device
    on_cpu = roundtrip({"t": t}, map_location="cpu")["t"]
    np.testing.assert_array_equal(on_cpu.numpy(), t.cpu().numpy())
    assert roundtrip({"t": t.cpu()}, map_location="cuda:0")["t"].is_cuda


# ---------------------------------------------------------------- interop

def test_plain_safetensors_file_loads_as_a_flat_dict(tmp_path):
    path = tmp_path / "plain.safetensors"
    arrays = {"b": np.arange(3, dtype=np.int32), "a": np.ones((2, 2), np.float64)}
    safetensors.numpy.save_file(arrays, path, metadata={"format": "np"})
    loaded = lg.load(path)
    assert list(loaded) == ["a", "b"] and type(loaded) is dict
    assert loaded["b"].dtype is lg.int32 and not loaded["a"].requires_grad
    np.testing.assert_array_equal(loaded["a"].numpy(), arrays["a"])


@pytest.mark.torch
def test_torch_safetensors_file_loads_in_labgrad(tmp_path, torch):
    from safetensors.torch import load_file, save_file
    state = {"layer.weight": torch.randn(3, 4), "layer.bias": torch.randn(3),
             "emb": torch.randn(2, 2).bfloat16(), "count": torch.tensor(5),
             "mask": torch.tensor([True, False]), "half": torch.randn(2).half()}
    path = tmp_path / "torch.safetensors"
    save_file(state, path)
    loaded = lg.load(path)
    assert list(loaded) == list(load_file(path))
    for key, value in state.items():
        assert loaded[key].dtype.name == str(value.dtype).replace("torch.", "")
        np.testing.assert_array_equal(loaded[key].float().numpy(), value.float().numpy())


@pytest.mark.torch
def test_labgrad_state_dict_loads_in_torch(tmp_path, torch):
    from safetensors.torch import load_file
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    ours = OrderedDict((key, lg.randn(*value.shape)) for key, value in
                       model.state_dict().items())
    path = tmp_path / "lg.safetensors"
    lg.save(ours, path)
    model.load_state_dict(load_file(path))  # strict: every key, every shape
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), ours[key].numpy())


@pytest.mark.torch
def test_unsupported_safetensors_dtype_is_named(tmp_path, torch):
    from safetensors.torch import save_file
    path = tmp_path / "f8.safetensors"
    save_file({"x": torch.zeros(2, dtype=torch.float8_e4m3fn)}, path)
    with pytest.raises(RuntimeError, match="F8_E4M3.*no dtype"):
        lg.load(path)


@pytest.mark.torch
@pytest.mark.skipif(not all(hasattr(lg.nn, name) for name in ("Linear", "Identity",
                                                               "Sequential")),
                    reason="labgrad.nn.Linear / Identity / Sequential are not written yet")
def test_models_exchange_state_dicts_with_torch(tmp_path, torch):
    from safetensors.torch import load_file, save_file
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Identity(), torch.nn.Linear(3, 2))
    ours = lg.nn.Sequential(lg.nn.Linear(4, 3), lg.nn.Identity(), lg.nn.Linear(3, 2))
    save_file(theirs.state_dict(), tmp_path / "t.safetensors")
    ours.load_state_dict(lg.load(tmp_path / "t.safetensors"))
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    expected = theirs(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(lg.tensor(x)).detach().numpy(), expected, rtol=1e-5,
                               atol=1e-6)
    theirs_again = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Identity(),
                                       torch.nn.Linear(3, 2))
    lg.save(ours.state_dict(), tmp_path / "l.safetensors")
    theirs_again.load_state_dict(load_file(tmp_path / "l.safetensors"))
    np.testing.assert_allclose(theirs_again(torch.from_numpy(x)).detach().numpy(), expected,
                               rtol=1e-6)
