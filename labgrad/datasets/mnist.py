"""MNIST and FashionMNIST from their IDX files, with torchvision's constructor and layout.

The four files (gzipped or not) live in ``root/MNIST/raw`` (``root/FashionMNIST/raw``);
``download=True`` fetches them from the mirrors torchvision uses, checks their MD5 and unpacks
them there. labgrad has no PIL: a sample is ``(image, target)`` with the image a uint8 tensor
of shape (28, 28) and the target an int; ``transform`` receives that tensor (see
labgrad.datasets.transforms for ToTensor and Normalize).
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

from ..creation import from_numpy
from ..tensor import Tensor
from ..utils.data.dataset import Dataset
from ._download import download_url, gunzip

__all__ = ["MNIST", "FashionMNIST", "read_idx"]

# IDX type codes -> big-endian NumPy dtypes
_IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str) -> np.ndarray:
    """The array in an IDX file (gzipped or not), in native byte order.

    Raises a RuntimeError naming the file when it is not IDX, or truncated or corrupted.
    """
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == b"\x1f\x8b"
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as f:
            raw = f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise RuntimeError(f"{path}: corrupted or truncated gzip file ({error}). Delete it and "
                           "download it again (download=True).") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise RuntimeError(f"{path} is not an IDX file (its first bytes {raw[:4].hex()} are not "
                           "an IDX magic number)")
    dtype, ndim = _IDX_TYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise RuntimeError(f"{path}: truncated IDX file (the header ends early)")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) - header != expected:
        raise RuntimeError(f"{path}: truncated or corrupted IDX file: its header says shape "
                           f"{shape} ({expected} bytes of data) but it holds "
                           f"{len(raw) - header} bytes. Delete it and download it again "
                           "(download=True).")
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable copy in native order


class MNIST(Dataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 uint8.

    ``data`` is a uint8 tensor (N, 28, 28) and ``targets`` an int64 tensor (N,), as in
    torchvision. ``dataset[i]`` is ``(image, target)``: a uint8 tensor (28, 28) (after
    `transform`, if given) and an int (after `target_transform`).
    """

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
               "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False) -> None:
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        missing = [name for name in self._split_files() if self._find(name) is None]
        if missing:
            raise RuntimeError(f"Dataset not found. Use download=True to download it (no "
                               f"{' or '.join(missing)} in {self.raw_folder}, gzipped or not)")
        images = read_idx(self._find(self._split_files()[0]))
        labels = read_idx(self._find(self._split_files()[1]))
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise RuntimeError(f"{type(self).__name__}: expected images (N, H, W) and labels "
                               f"(N,), got shapes {images.shape} and {labels.shape} in "
                               f"{self.raw_folder}")
        self.data = from_numpy(images.astype(np.uint8, copy=False))
        self.targets = from_numpy(labels.astype(np.int64))

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self) -> dict:
        return {name: i for i, name in enumerate(self.classes)}

    def _split_files(self) -> list:
        """The (uncompressed) names of this split's image and label files."""
        prefix = "train" if self.train else "t10k"
        return [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]

    def _find(self, name: str):
        """The path of raw file `name`, uncompressed or .gz, or None."""
        for candidate in (name, name + ".gz"):
            path = os.path.join(self.raw_folder, candidate)
            if os.path.isfile(path):
                return path
        return None

    def _check_exists(self) -> bool:
        return all(self._find(name[:-3]) is not None for name, _ in self.resources)

    def download(self) -> None:
        """Fetch the four files (MD5-checked) into raw_folder and unpack them, unless there."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            path = os.path.join(self.raw_folder, filename)
            download_url([mirror + filename for mirror in self.mirrors], path, md5)
            gunzip(path, path[:-3])

    def __getitem__(self, index: int):
        image = Tensor._wrap(self.data._data[index].copy())
        target = int(self.targets._data[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}", f"    Split: {split}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format and sizes, ten kinds of clothing."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
