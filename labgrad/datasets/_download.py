"""Downloading and unpacking dataset files: urllib only, MD5-checked, written atomically, and
tar archives extracted without letting a member escape the target folder."""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request

__all__ = ["download_url", "md5_of", "check_integrity", "extract_tar", "gunzip"]

_CHUNK = 1 << 20
_USER_AGENT = "labgrad (https://github.com/labgrad)"


def md5_of(path: str) -> str:
    """The MD5 hex digest of a file."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_integrity(path: str, md5: str | None = None) -> bool:
    """True when `path` exists and (if given) has this MD5."""
    if not os.path.isfile(path):
        return False
    return md5 is None or md5_of(path) == md5


def download_url(urls, path: str, md5: str | None = None, timeout: float = 60.0) -> str:
    """Download the first of `urls` (one URL or a list of mirrors) that works to `path`.

    The file is written to a temporary name and renamed only when complete and, if `md5` is
    given, when its checksum matches; so a failed or interrupted download leaves nothing
    behind. A file already at `path` with the right checksum is kept. Returns `path`.
    """
    if md5 is not None and check_integrity(path, md5):
        return path
    urls = [urls] if isinstance(urls, str) else list(urls)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    failures = []
    for url in urls:
        try:
            _fetch(url, path, md5, timeout)
            return path
        except (urllib.error.URLError, OSError, ValueError) as error:
            failures.append(f"  {url}: {error}")
    raise RuntimeError(f"Error downloading {os.path.basename(path)}; tried:\n" +
                       "\n".join(failures) + "\nCheck the network connection, or put the file "
                       f"there yourself: {path}")


def _fetch(url: str, path: str, md5: str | None, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    digest = hashlib.md5(usedforsecurity=False)
    folder = os.path.dirname(os.path.abspath(path))
    handle, partial = tempfile.mkstemp(prefix=".download-", dir=folder)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, \
                os.fdopen(handle, "wb") as out:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        if md5 is not None and digest.hexdigest() != md5:
            raise ValueError(f"MD5 checksum mismatch: expected {md5}, got "
                             f"{digest.hexdigest()} (a corrupted or changed file)")
        os.replace(partial, path)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def gunzip(source: str, target: str) -> str:
    """Decompress a .gz file to `target` (atomically); returns `target`."""
    folder = os.path.dirname(os.path.abspath(target))
    handle, partial = tempfile.mkstemp(prefix=".gunzip-", dir=folder)
    try:
        with gzip.open(source, "rb") as src, os.fdopen(handle, "wb") as out:
            shutil.copyfileobj(src, out, _CHUNK)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return target


def extract_tar(archive: str, folder: str) -> None:
    """Extract a (gzipped) tar archive into `folder`, refusing absolute paths, '..', links
    and device files: every member must be a plain file or folder inside `folder`."""
    root = os.path.realpath(folder)
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for member in members:
            target = os.path.realpath(os.path.join(root, member.name))
            inside = target == root or target.startswith(root + os.sep)
            if not inside or os.path.isabs(member.name) or not (member.isfile() or
                                                               member.isdir()):
                raise RuntimeError(f"extract_tar: refusing unsafe archive member "
                                   f"{member.name!r} in {archive} (it would write outside "
                                   f"{folder}, or is a link or device)")
        if hasattr(tarfile, "data_filter"):
            tar.extractall(root, members=members, filter="data")
        else:  # Python without extraction filters: the checks above did the work
            tar.extractall(root, members=members)
