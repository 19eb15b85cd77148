"""labgrad.datasets: MNIST / FashionMNIST / CIFAR10 from files the tests make (download via
file:// URLs, checksums, truncated files, unsafe archives), the digits, the synthetic datasets
and the transforms."""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import sys
import tarfile

import numpy as np
import pytest

import labgrad as lg
from labgrad import datasets as D
from labgrad.datasets import _download, transforms
from labgrad.utils import data as ld


# ---------------------------------------------------------------- file makers

def idx_bytes(array: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int32: 0x0C, np.float32: 0x0D}[array.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def mnist_arrays(n, seed):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n).astype(np.uint8))


def write_mnist(raw, n_train=6, n_test=4, gz=False):
    """The four IDX files in `raw`; returns {file name: bytes as written}."""
    os.makedirs(raw, exist_ok=True)
    written = {}
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = mnist_arrays(n, seed)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte"
            data = idx_bytes(array)
            if gz:
                name, data = name + ".gz", gzip.compress(data)
            with open(os.path.join(raw, name), "wb") as f:
                f.write(data)
            written[name] = data
    return written


def cifar_records(n, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    raw = np.concatenate([labels[:, None], images.reshape(n, -1)], axis=1)
    return images, labels, raw.tobytes()


def cifar_archive(path, members=None):
    """A cifar-10-binary.tar.gz with 3 records per batch file; returns its MD5."""
    if members is None:
        members = {f"cifar-10-batches-bin/data_batch_{i}.bin": cifar_records(3, i)[2]
                   for i in range(1, 6)}
        members["cifar-10-batches-bin/test_batch.bin"] = cifar_records(3, 9)[2]
        members["cifar-10-batches-bin/batches.meta.txt"] = "\n".join(
            D.CIFAR10.classes).encode() + b"\n\n"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def file_url(folder):
    return "file://" + os.path.abspath(folder) + "/"


# ---------------------------------------------------------------- MNIST

@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("cls", [D.MNIST, D.FashionMNIST])
def test_mnist_reads_idx_files(tmp_path, cls, gz):
    write_mnist(tmp_path / cls.__name__ / "raw", gz=gz)
    train, test = cls(tmp_path), cls(str(tmp_path), train=False)
    assert len(train) == 6 and len(test) == 4
    images, labels = mnist_arrays(6, 0)
    assert train.data.dtype == lg.uint8 and tuple(train.data.shape) == (6, 28, 28)
    assert train.targets.dtype == lg.int64
    image, target = train[2]
    assert image.dtype == lg.uint8 and tuple(image.shape) == (28, 28)
    assert np.array_equal(image.numpy(), images[2]) and target == int(labels[2])
    assert isinstance(target, int) and len(train.classes) == 10
    assert train.class_to_idx[train.classes[3]] == 3
    image[0, 0] = 0  # samples are copies: the dataset is unchanged
    assert np.array_equal(train[2][0].numpy(), images[2])
    assert "Number of datapoints: 6" in repr(train)


def test_mnist_transforms_and_loader(tmp_path):
    write_mnist(tmp_path / "MNIST" / "raw", n_train=10)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.25,))])
    ds = D.MNIST(tmp_path, transform=tf, target_transform=lambda t: t + 100)
    image, target = ds[0]
    raw = mnist_arrays(10, 0)[0][0]
    assert image.dtype == lg.float32 and tuple(image.shape) == (1, 28, 28)
    np.testing.assert_allclose(image.numpy()[0], (raw / 255 - 0.5) / 0.25, rtol=1e-5,
                               atol=1e-5)
    assert target >= 100
    plain = D.MNIST(tmp_path)
    for workers in (0, 2):
        batches = list(ld.DataLoader(plain, batch_size=4, num_workers=workers))
        assert [tuple(x.shape) for x, _ in batches] == [(4, 28, 28), (4, 28, 28), (2, 28, 28)]
        assert batches[0][1].dtype == lg.int64 and batches[0][0].dtype == lg.uint8


def test_mnist_missing_files_say_download(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found. Use download=True"):
        D.MNIST(tmp_path)


def test_mnist_truncated_files(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    written = write_mnist(raw)
    with open(raw / "train-images-idx3-ubyte", "wb") as f:
        f.write(written["train-images-idx3-ubyte"][:-100])
    with pytest.raises(RuntimeError, match=r"truncated or corrupted IDX file.*\(6, 28, 28\)"):
        D.MNIST(tmp_path)
    D.MNIST(tmp_path, train=False)  # the test split is intact
    os.remove(raw / "train-images-idx3-ubyte")
    data = gzip.compress(written["train-images-idx3-ubyte"])
    with open(raw / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(RuntimeError, match="corrupted or truncated gzip file"):
        D.MNIST(tmp_path)
    with open(raw / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"\x00\x00\x42\x01garbage")
    with pytest.raises(RuntimeError, match="is not an IDX file"):
        D.MNIST(tmp_path)


def test_mnist_download_from_mirror_with_md5(tmp_path, monkeypatch):
    server = tmp_path / "server"
    written = write_mnist(server, gz=True)
    resources = [(name, hashlib.md5(data).hexdigest()) for name, data in written.items()]
    monkeypatch.setattr(D.MNIST, "resources", resources)
    # the first mirror has nothing: the second one serves the files
    monkeypatch.setattr(D.MNIST, "mirrors", [file_url(tmp_path / "nowhere"), file_url(server)])
    root = tmp_path / "root"
    ds = D.MNIST(root, download=True)
    assert len(ds) == 6
    raw = root / "MNIST" / "raw"
    assert (raw / "train-images-idx3-ubyte").is_file()  # unpacked next to the .gz
    assert (raw / "t10k-labels-idx1-ubyte.gz").is_file()
    D.MNIST(root, download=True)  # already there: nothing to fetch


def test_download_checksum_mismatch_leaves_nothing(tmp_path, monkeypatch):
    server = tmp_path / "server"
    written = write_mnist(server, gz=True)
    resources = [(name, "0" * 32) for name in written]
    monkeypatch.setattr(D.FashionMNIST, "resources", resources)
    monkeypatch.setattr(D.FashionMNIST, "mirrors", [file_url(server)])
    root = tmp_path / "root"
    with pytest.raises(RuntimeError, match="MD5 checksum mismatch"):
        D.FashionMNIST(root, download=True)
    assert os.listdir(root / "FashionMNIST" / "raw") == []


def test_download_url_errors_list_every_mirror(tmp_path):
    target = tmp_path / "f.bin"
    with pytest.raises(RuntimeError, match=r"(?s)tried:.*a/f\.bin.*b/f\.bin"):
        _download.download_url([file_url(tmp_path / "a") + "f.bin",
                                file_url(tmp_path / "b") + "f.bin"], str(target))
    assert not target.exists()


def test_download_url_over_http(tmp_path):
    import functools
    import http.server
    import threading
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "x.bin").write_bytes(b"hello" * 1000)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(tmp_path / "srv"))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/x.bin"
        md5 = hashlib.md5(b"hello" * 1000).hexdigest()
        path = _download.download_url(url, str(tmp_path / "got.bin"), md5)
        assert open(path, "rb").read() == b"hello" * 1000
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- CIFAR10

def test_cifar10_download_extract_and_read(tmp_path, monkeypatch):
    archive = tmp_path / "server" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    md5 = cifar_archive(archive)
    monkeypatch.setattr(D.CIFAR10, "url", "file://" + str(archive))
    monkeypatch.setattr(D.CIFAR10, "tgz_md5", md5)
    root = tmp_path / "root"
    with pytest.raises(RuntimeError, match="Dataset not found. Use download=True"):
        D.CIFAR10(root)
    train = D.CIFAR10(root, download=True)
    test = D.CIFAR10(root, train=False)
    assert len(train) == 15 and len(test) == 3
    assert train.data.shape == (15, 32, 32, 3) and train.data.dtype == np.uint8
    images, labels, _ = cifar_records(3, 2)
    image, target = train[3]  # the first record of data_batch_2
    assert image.dtype == lg.uint8 and tuple(image.shape) == (3, 32, 32)
    assert np.array_equal(image.numpy(), images[0]) and target == int(labels[0])
    assert train.classes[0] == "airplane" and train.class_to_idx["truck"] == 9
    batch = next(iter(ld.DataLoader(train, batch_size=4, num_workers=0)))
    assert tuple(batch[0].shape) == (4, 3, 32, 32) and batch[1].dtype == lg.int64
    as_float = D.CIFAR10(root, transform=transforms.ToTensor())[0][0]
    assert as_float.dtype == lg.float32 and float(as_float.max()) <= 1.0


def test_cifar10_checksum_mismatch(tmp_path, monkeypatch):
    archive = tmp_path / "server" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    cifar_archive(archive)
    monkeypatch.setattr(D.CIFAR10, "url", "file://" + str(archive))
    monkeypatch.setattr(D.CIFAR10, "tgz_md5", "f" * 32)
    with pytest.raises(RuntimeError, match="MD5 checksum mismatch"):
        D.CIFAR10(tmp_path / "root", download=True)
    assert not (tmp_path / "root" / "cifar-10-binary.tar.gz").exists()


def test_cifar10_truncated_batch(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name in D.CIFAR10.train_list + D.CIFAR10.test_list:
        (folder / name).write_bytes(cifar_records(2, 0)[2])
    (folder / "data_batch_3.bin").write_bytes(cifar_records(2, 0)[2][:-10])
    with pytest.raises(RuntimeError, match=r"data_batch_3.bin: truncated or corrupted"):
        D.CIFAR10(tmp_path)
    assert len(D.CIFAR10(tmp_path, train=False)) == 2


def test_unsafe_archive_members_are_refused(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    cifar_archive(archive, {"../outside.txt": b"x"})
    with pytest.raises(RuntimeError, match="refusing unsafe archive member '../outside.txt'"):
        _download.extract_tar(str(archive), str(tmp_path / "out"))
    assert not (tmp_path / "outside.txt").exists()
    linked = tmp_path / "link.tar.gz"
    with tarfile.open(linked, "w:gz") as tar:
        info = tarfile.TarInfo("data/link")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(RuntimeError, match="refusing unsafe archive member 'data/link'"):
        _download.extract_tar(str(linked), str(tmp_path / "out"))


# ---------------------------------------------------------------- digits

def test_digits_split_and_dtypes():
    pytest.importorskip("sklearn")
    train, test = D.Digits(), D.Digits(train=False)
    assert len(train) + len(test) == 1797 and len(test) == 359
    image, target = train[0]
    assert image.dtype == lg.float32 and tuple(image.shape) == (1, 8, 8)
    assert target.dtype == lg.int64 and 0 <= int(target) < 10
    assert 0.0 <= float(train.data.min()) and float(train.data.max()) <= 1.0
    again = D.Digits()
    assert np.array_equal(again.targets.numpy(), train.targets.numpy())  # fixed split
    flat = D.Digits(flatten=True, transform=lambda x: x * 2)
    assert tuple(flat[0][0].shape) == (64,)
    features, targets = D.load_digits()
    assert tuple(features.shape) == (1797, 64) and targets.dtype == lg.int64


def test_digits_without_sklearn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        D.Digits()


# ---------------------------------------------------------------- synthetic

SYNTHETIC = [
    (D.Spirals, dict(num_samples=90, num_classes=3), ((2,), lg.float32), ((), lg.int64)),
    (D.Moons, dict(num_samples=50), ((2,), lg.float32), ((), lg.int64)),
    (D.SineRegression, dict(num_samples=40), ((1,), lg.float32), ((1,), lg.float32)),
    (D.MarkerTokens, dict(num_samples=60, vocab_size=12, seq_len=9, num_classes=3),
     ((9,), lg.int64), ((), lg.int64)),
]


@pytest.mark.parametrize("cls, kwargs, x_spec, y_spec", SYNTHETIC,
                         ids=[c[0].__name__ for c in SYNTHETIC])
def test_synthetic_shapes_dtypes_and_seeds(cls, kwargs, x_spec, y_spec):
    ds = cls(**kwargs, seed=4)
    assert len(ds) == kwargs["num_samples"]
    x, y = ds[0]
    assert (tuple(x.shape), x.dtype) == x_spec and (tuple(y.shape), y.dtype) == y_spec
    same, other = cls(**kwargs, seed=4), cls(**kwargs, seed=5)
    assert np.array_equal(same.tensors[0].numpy(), ds.tensors[0].numpy())
    assert not np.array_equal(other.tensors[0].numpy(), ds.tensors[0].numpy())
    xb, yb = next(iter(ld.DataLoader(ds, batch_size=8, shuffle=True)))
    assert tuple(xb.shape) == (8,) + x_spec[0] and tuple(yb.shape) == (8,) + y_spec[0]


@pytest.mark.parametrize("ds", [D.Spirals(num_samples=300), D.Moons(num_samples=200),
                                D.Spirals(num_samples=400, num_classes=4)],
                         ids=["spirals", "moons", "spirals4"])
def test_classification_sets_are_learnable_and_balanced(ds):
    x, y = (t.numpy() for t in ds.tensors)
    distances = ((x[:, None] - x[None]) ** 2).sum(-1)
    np.fill_diagonal(distances, np.inf)
    assert (y[distances.argmin(1)] == y).mean() > 0.9  # nearest neighbour gets it right
    counts = np.bincount(y)
    assert counts.max() - counts.min() <= 1


def test_marker_tokens_label_is_the_most_frequent_marker():
    ds = D.MarkerTokens(num_samples=300, vocab_size=20, seq_len=12, num_classes=4, seed=2)
    tokens, labels = (t.numpy() for t in ds.tensors)
    assert tokens.min() >= 0 and tokens.max() < 20
    for row, label in zip(tokens, labels):
        counts = np.bincount(row[row < 4], minlength=4)
        assert counts.argmax() == label and (counts == counts.max()).sum() == 1
    assert set(labels) == {0, 1, 2, 3}


def test_sine_regression_noise_level():
    x, y = (t.numpy() for t in D.SineRegression(num_samples=2000, noise=0.1).tensors)
    assert abs((y - np.sin(x)).std() - 0.1) < 0.01 and x.min() >= -np.pi


@pytest.mark.parametrize("make, match", [
    (lambda: D.MarkerTokens(vocab_size=4, num_classes=4), "vocab_size"),
    (lambda: D.Spirals(num_classes=1), "num_classes should be an integer >= 2"),
    (lambda: D.Moons(num_samples=0), "num_samples"),
    (lambda: D.SineRegression(low=1.0, high=0.0), "low < high"),
])
def test_synthetic_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------- transforms

def test_to_tensor_and_normalize():
    hwc = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    chw = transforms.ToTensor()(hwc)
    assert tuple(chw.shape) == (3, 2, 3) and chw.dtype == lg.float32
    np.testing.assert_allclose(chw.numpy(), hwc.transpose(2, 0, 1) / 255, rtol=1e-6)
    norm = transforms.Normalize([0.0, 1.0, 2.0], [1.0, 2.0, 4.0])(chw)
    expected = (hwc.transpose(2, 0, 1) / 255 - np.array([0, 1, 2])[:, None, None]) / \
        np.array([1, 2, 4])[:, None, None]
    np.testing.assert_allclose(norm.numpy(), expected, rtol=1e-5, atol=1e-6)
    gray = transforms.ToTensor()(lg.ones(4, 5))
    assert tuple(gray.shape) == (1, 4, 5) and float(gray.max()) == 1.0
    assert "ToTensor()" in repr(transforms.Compose([transforms.ToTensor()]))
    assert transforms.Lambda(lambda t: t + 1)(1) == 2


def test_transform_errors():
    with pytest.raises(TypeError, match="apply ToTensor"):
        transforms.Normalize((0.5,), (0.5,))(lg.zeros(1, 2, 2, dtype=lg.uint8))
    with pytest.raises(ValueError, match="division by zero"):
        transforms.Normalize((0.5,), (0.0,))(lg.zeros(1, 2, 2))
    with pytest.raises(TypeError, match="no PIL"):
        transforms.ToTensor()([[1, 2]])
    with pytest.raises(ValueError, match=r"\(H, W\) or \(C, H, W\)"):
        transforms.ToTensor()(lg.zeros(1, 1, 2, 2))
    with pytest.raises(TypeError, match="callable"):
        transforms.Lambda(3)
