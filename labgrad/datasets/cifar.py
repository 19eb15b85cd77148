"""CIFAR-10 from its binary version (cifar-10-binary.tar.gz): no pickle anywhere.

Each ``.bin`` file holds records of 1 label byte and 3072 image bytes (the red, green and
blue 32x32 planes). ``download=True`` fetches the archive into `root`, checks its MD5 and
extracts it (safely) to ``root/cifar-10-batches-bin``.
"""
from __future__ import annotations

import os

import numpy as np

from ..creation import from_numpy
from ..utils.data.dataset import Dataset
from ._download import check_integrity, download_url, extract_tar

__all__ = ["CIFAR10"]

_SIDE = 32
_RECORD = 1 + 3 * _SIDE * _SIDE


def read_cifar_bin(path: str, num_classes: int = 10):
    """Images (N, 32, 32, 3) uint8 and labels (N,) int64 from one CIFAR-10 .bin file."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % _RECORD:
        raise RuntimeError(f"{path}: truncated or corrupted CIFAR-10 batch file ({raw.size} "
                           f"bytes, not a whole number of {_RECORD}-byte records). Delete "
                           "the cifar-10-batches-bin folder and download it again "
                           "(download=True).")
    records = raw.reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= num_classes:
        raise RuntimeError(f"{path}: corrupted CIFAR-10 batch file (label {labels.max()} is "
                           f"not below {num_classes})")
    images = records[:, 1:].reshape(-1, 3, _SIDE, _SIDE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


class CIFAR10(Dataset):
    """CIFAR-10: 50,000 training and 10,000 test colour images of 32x32, ten classes.

    As in torchvision, ``data`` is a NumPy uint8 array (N, 32, 32, 3) and ``targets`` a list
    of ints. ``dataset[i]`` is ``(image, target)``: a uint8 tensor (3, 32, 32) (after
    `transform`, if given) and an int (after `target_transform`).
    """

    base_folder = "cifar-10-batches-bin"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
    filename = "cifar-10-binary.tar.gz"
    tgz_md5 = "c32a1d4ab5d03f1284b67883e8d87530"
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    meta_file = "batches.meta.txt"
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False) -> None:
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError(f"Dataset not found. Use download=True to download it (no "
                               f"{self.base_folder} folder with "
                               f"{', '.join(self._split_files())} in {self.root})")
        parts = [read_cifar_bin(os.path.join(self._folder, name))
                 for name in self._split_files()]
        self.data = np.concatenate([images for images, _ in parts])
        self.targets = np.concatenate([labels for _, labels in parts]).tolist()
        self._load_meta()

    @property
    def _folder(self) -> str:
        return os.path.join(self.root, self.base_folder)

    def _split_files(self) -> list:
        return self.train_list if self.train else self.test_list

    def _check_exists(self) -> bool:
        return all(os.path.isfile(os.path.join(self._folder, name))
                   for name in self.train_list + self.test_list)

    def _load_meta(self) -> None:
        """Class names from batches.meta.txt when it is there (one per line)."""
        path = os.path.join(self._folder, self.meta_file)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                names = [line.strip() for line in f if line.strip()]
            if names:
                self.classes = names
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def download(self) -> None:
        """Fetch the archive (MD5-checked) into root and extract it, unless already there."""
        if self._check_exists():
            return
        archive = os.path.join(self.root, self.filename)
        if not check_integrity(archive, self.tgz_md5):
            download_url(self.url, archive, self.tgz_md5)
        extract_tar(archive, self.root)

    def __getitem__(self, index: int):
        image = from_numpy(self.data[index].transpose(2, 0, 1).copy())
        target = self.targets[index]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return "\n".join([f"Dataset {type(self).__name__}",
                          f"    Number of datapoints: {len(self)}",
                          f"    Root location: {self.root}", f"    Split: {split}"])
