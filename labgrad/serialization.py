"""labgrad.save / labgrad.load: checkpoints in one safetensors file, never pickle.

A checkpoint is a standard safetensors file. Every tensor is stored once under a path-like
key: a top-level state_dict keeps its own keys ("fc.weight"), deeper values are named by their
path ("optimizer/state/0/exp_avg"). The safetensors metadata holds

    "format": "labgrad"
    "labgrad": the structure as JSON (below)
    "labgrad.structure_sha256": the SHA-256 of that JSON text
    "labgrad.data_sha256": the SHA-256 of the SHA-256s of the tensor bytes in 16 MiB chunks

The structure is ``{"version": 1, "tensors": [record, ...], "root": value}``. A record
describes one stored tensor (key, dtype, shape, device, requires_grad, parameter). A value is
JSON null, a bool, an int, a finite float, a string, a list (a Python list), or an object
tagged by "$" for what plain JSON would lose: tensors ({"$": "tensor", "id": i}), tuples,
dicts and OrderedDicts (as [key, value] pairs, so int keys stay ints; an OrderedDict keeps
the `_metadata` of a state_dict), non-finite floats,
bytes, dtypes, devices and Sizes. Loading only looks tags up in a fixed table: an unknown tag
is an error, never an import, and no code from the file ever runs.

Sharing: a tensor object that occurs twice is stored once and comes back as one tensor object
in both places. Distinct tensor objects are stored separately, each as a contiguous copy, even
when one is a view of the other: views come back as independent tensors (every path stays a
real key, so PyTorch reads a saved state_dict as it is).
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import secrets
from collections import OrderedDict

import numpy as np

from . import backend
from . import dtypes as _dt
from .device import as_device, device as _device
from .nn.parameter import Parameter
from .tensor import Size, Tensor

__all__ = ["save", "load"]

FORMAT_VERSION = 1
_STRUCTURE = "labgrad"
_STRUCTURE_SHA = "labgrad.structure_sha256"
_DATA_SHA = "labgrad.data_sha256"

# safetensors' dtype codes for the labgrad dtypes it can hold
_DTYPE_OF_CODE = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "I32": "int32",
                  "I64": "int64", "U16": "uint16", "U32": "uint32", "U64": "uint64",
                  "F16": "float16", "BF16": "bfloat16", "F32": "float32", "F64": "float64"}
_RESERVED_KEY = "__metadata__"  # safetensors keeps its metadata under this name
_CHUNK = 1 << 24  # bytes hashed as one piece of the data digest
_MAX_HEADER = 100_000_000  # bytes; safetensors refuses larger headers too
_NON_FINITE = ("inf", "-inf", "nan")
_PICKLE_STARTS = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")  # protocols 2-5
_PICKLE_LOAD_ARGS = {"encoding", "errors", "fix_imports", "buffers"}
_TORCH_HINT = ("this looks like a file saved by torch.save (pickle); labgrad only loads "
               "safetensors files: in PyTorch, save with "
               "safetensors.torch.save_file(model.state_dict(), path)")
_SUPPORTED = ("labgrad.save stores tensors, None, bools, ints, floats, strings, bytes, dtypes, "
              "devices, and lists, tuples and dicts of these")


def _safetensors(op):
    """The safetensors package, imported on first use (``import labgrad`` needs only NumPy;
    loading reads the format itself, so only saving needs the package)."""
    try:
        import safetensors
    except ImportError:
        raise ImportError(f"{op} needs the safetensors package: pip install \"labgrad[io]\" "
                          "(or pip install safetensors)") from None
    return safetensors


def _raw(array):
    """The bytes of a C-contiguous array, without copying."""
    return memoryview(array.reshape(-1).view(np.uint8))


def _data_digest(arrays):
    """The SHA-256 of the SHA-256 digests of the arrays' bytes cut in 16 MiB chunks, in
    order. Chunks let a large checkpoint be hashed by several threads at once (hashlib
    releases the GIL); the digest is the same however many threads compute it."""
    chunks = [raw[start:start + _CHUNK] for raw in map(_raw, arrays)
              for start in range(0, len(raw), _CHUNK)]
    threads = min(os.cpu_count() or 1, len(chunks))
    if threads > 1 and sum(map(len, chunks)) >= 2 * _CHUNK:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(threads) as pool:
            digests = list(pool.map(_sha256, chunks))
    else:
        digests = [_sha256(chunk) for chunk in chunks]
    return hashlib.sha256(b"".join(digests)).hexdigest()


def _sha256(chunk):
    return hashlib.sha256(chunk).digest()


# ---------------------------------------------------------------- save

def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save `obj` (a tensor, a state_dict, an optimizer state_dict, or nested dicts, lists and
    tuples of tensors, numbers and strings) to `f`, a path or a binary file object.

    A path is written atomically: to a temporary file in the same folder, flushed and
    fsync'ed, then renamed over `f`, so an error leaves an existing file as it was. The
    pickle keywords are accepted for PyTorch compatibility and ignored: nothing is pickled.
    """
    st = _safetensors("labgrad.save")
    encoder = _Encoder()
    root = encoder.encode(obj, ())
    structure = json.dumps({"version": FORMAT_VERSION, "tensors": encoder.records,
                            "root": root}, separators=(",", ":"), allow_nan=False)
    specs = {}
    for key, array in encoder.arrays.items():
        specs[key] = st.TensorSpec(dtype=array.dtype.name, shape=array.shape,
                                   data_ptr=array.ctypes.data, data_len=array.nbytes)
    metadata = {"format": "labgrad", _STRUCTURE: structure,
                _STRUCTURE_SHA: hashlib.sha256(structure.encode()).hexdigest(),
                _DATA_SHA: _data_digest(encoder.arrays.values())}
    # `encoder.arrays` keeps the data alive while safetensors reads it through the pointers
    if isinstance(f, (str, bytes, os.PathLike)):
        _write_atomic(os.fsdecode(os.fspath(f)),
                      lambda temp: st.serialize_file(specs, temp, metadata=metadata))
    elif hasattr(f, "write"):
        f.write(st.serialize(specs, metadata=metadata))
        if hasattr(f, "flush"):
            f.flush()
    else:
        raise TypeError(f"labgrad.save: f must be a path (str or os.PathLike) or a binary file "
                        f"object with write(), got {type(f).__name__}")


class _Encoder:
    """Turns a Python object into the JSON-able structure, collecting its tensors."""

    def __init__(self):
        self.arrays = {}  # safetensors key -> contiguous host array
        self.records = []  # one per distinct tensor object, in first-seen order
        self._index = {}  # id(tensor) -> its position in records (obj keeps them alive)
        self._open = set()  # ids of the containers being encoded, to find cycles

    def encode(self, value, path):
        kind = type(value)
        if value is None or kind is bool or kind is int or kind is str:
            return value
        if kind is float:
            return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
        if isinstance(value, Tensor):
            return {"$": "tensor", "id": self._tensor(value, path)}
        if kind is list:
            return self._items(value, path)
        if kind is tuple:
            return {"$": "tuple", "items": self._items(value, path)}
        if kind is dict or kind is OrderedDict:
            return self._dict(value, path)
        if kind is Size:
            return {"$": "size", "items": list(value)}
        if kind is _dt.dtype:
            return {"$": "dtype", "name": value.name}
        if kind is _device:
            return {"$": "device", "name": str(value)}
        if kind is bytes:
            return {"$": "bytes", "base64": base64.b64encode(value).decode("ascii")}
        if isinstance(value, (np.bool_, np.integer, np.floating)):  # NumPy scalars: as numbers
            return self.encode(value.item(), path)
        raise _unsupported(value, path)

    def _enter(self, container, path):
        if id(container) in self._open:
            raise ValueError(f"labgrad.save: {_where(path)} contains itself (a reference "
                             "cycle), which cannot be saved")
        self._open.add(id(container))

    def _items(self, sequence, path):
        self._enter(sequence, path)
        encoded = [self.encode(item, path + (i,)) for i, item in enumerate(sequence)]
        self._open.discard(id(sequence))
        return encoded

    def _dict(self, mapping, path):
        self._enter(mapping, path)
        items = [[self._key(key, path), self.encode(value, path + (key,))]
                 for key, value in mapping.items()]
        self._open.discard(id(mapping))
        if type(mapping) is dict:
            return {"$": "dict", "items": items}
        encoded = {"$": "odict", "items": items}
        # a state_dict's layer versions, which load_state_dict reads (pickle keeps them too)
        versions = vars(mapping).get("_metadata")
        if versions is not None:
            encoded["metadata"] = self.encode(versions, path + ("_metadata",))
        return encoded

    def _key(self, key, path):
        kind = type(key)
        if kind is tuple:
            return {"$": "tuple", "items": [self._key(k, path) for k in key]}
        if key is None or kind in (bool, int, str, float, bytes, _dt.dtype, _device):
            return self.encode(key, path)
        raise TypeError(f"labgrad.save: cannot save the dict key {key!r} of type "
                        f"{kind.__name__} in {_where(path)}: keys must be strings, numbers, "
                        "None, bytes, dtypes, devices or tuples of these")

    def _tensor(self, t, path):
        index = self._index.get(id(t))
        if index is not None:
            return index
        array = t.numpy(force=True)  # host memory (a copy of a GPU tensor)
        if not array.flags.c_contiguous:
            array = array.copy(order="C")
        key = self._name(path)
        self.arrays[key] = array
        self._index[id(t)] = len(self.records)
        self.records.append({"key": key, "dtype": t.dtype.name, "shape": list(array.shape),
                             "device": str(t.device), "requires_grad": t.requires_grad,
                             "parameter": isinstance(t, Parameter)})
        return len(self.records) - 1

    def _name(self, path):
        """A unique safetensors key from the path ('tensor' for a tensor saved alone)."""
        name = "/".join(map(str, path)) or "tensor"
        unique, n = name, 1
        while unique in self.arrays or unique == _RESERVED_KEY:
            n += 1
            unique = f"{name}#{n}"
        return unique


def _where(path):
    """The path inside the saved object, as Python would index it: obj['model'][0]."""
    return "obj" + "".join(f"[{part!r}]" for part in path)


def _unsupported(value, path):
    kind = type(value).__name__
    if callable(getattr(value, "state_dict", None)):
        hint = ("save its state_dict() instead, e.g. labgrad.save(model.state_dict(), f) "
                "(labgrad.save never pickles)")
    elif isinstance(value, np.ndarray):
        hint = f"wrap it as a tensor first (labgrad.from_numpy(array)); {_SUPPORTED}"
    else:
        hint = f"{_SUPPORTED} (it never pickles objects or code)"
    return TypeError(f"labgrad.save: cannot save {_where(path)} of type {kind}: {hint}")


def _write_atomic(path, write):
    """Call write(temp) on a temporary file beside `path`, make it durable and rename it over
    `path`, so that `path` holds the old content or the new one, never a part."""
    path = os.path.realpath(path)  # a symlink keeps pointing at the (new) file
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise RuntimeError(f"labgrad.save: parent directory {folder} does not exist.")
    temp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    binary = getattr(os, "O_BINARY", 0)
    # created here, exclusively, with 0o666 as open() would, so the umask gives the mode
    # a new file gets; `write` may replace the file, so the mode is set again afterwards
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | binary, 0o666))
    try:
        mode = os.stat(temp).st_mode & 0o777
        write(temp)
        os.chmod(temp, mode)
        fd = os.open(temp, os.O_RDWR | binary)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder):
    """Make the rename durable too (POSIX; elsewhere folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------- load

def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         **pickle_load_args):
    """Load what labgrad.save wrote to `f` (a path or a binary file object); a plain
    safetensors file (e.g. from safetensors.torch.save_file) gives a dict of its tensors, in
    the order of their data in the file.

    map_location moves the tensors: None (where they were saved), a device or a string like
    'cpu' or 'cuda:0' (all there), a dict mapping saved locations to new ones ({'cuda:1':
    'cuda:0'}), or a callable ``fn(tensor, location)`` given each tensor on the cpu and its
    saved location, returning the tensor to use (or None for the saved location).

    Loading never runs code from the file, and every check (layout, digests, structure) runs
    before anything is returned. weights_only, mmap, pickle_module and the pickle keywords
    are accepted for PyTorch compatibility: the file holds data only, read into memory.
    """
    unknown = set(pickle_load_args) - _PICKLE_LOAD_ARGS
    if unknown:
        raise TypeError(f"labgrad.load() got unexpected keyword arguments {sorted(unknown)}")
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(os.fspath(f))
        name = repr(path)
        with open(path, "rb") as handle:
            header, arrays = _read_safetensors(name, handle)
    elif hasattr(f, "read"):
        name = getattr(f, "name", None)
        name = repr(name) if isinstance(name, str) else f"the {type(f).__name__} object"
        header, arrays = _read_safetensors(name, f)
    else:
        raise TypeError(f"labgrad.load: f must be a path (str or os.PathLike) or a binary file "
                        f"object with read(), got {type(f).__name__}")
    metadata = header.get(_RESERVED_KEY) or {}
    if not _is_labgrad(metadata):  # a plain safetensors file: its tensors in file order
        records = [{"key": key, "device": "cpu", "requires_grad": False, "parameter": False}
                   for key in arrays]
        return dict(zip(arrays, _materialize(name, records, arrays, map_location)))
    records, root = _verify(name, metadata, arrays)
    tensors = _materialize(name, records, arrays, map_location)
    return _Decoder(name, tensors).decode_root(root)


def _read_safetensors(name, handle):
    """(header, {key: array} in file order) of the safetensors file open in `handle`.

    The safetensors package copies every tensor out of a bytes object holding the whole
    file; reading each tensor straight into its own array instead copies the data once and
    needs no second copy of the file in memory. The layout is checked as strictly as
    safetensors checks it, and against the file's size before anything is allocated.
    """
    prefix = _read_bytes(name, handle, 8)
    # what torch.save writes (a zip, or a bare pickle) could pass for a header size: it is
    # named only once the bytes fail to read as safetensors
    torch_file = prefix[:4] == b"PK\x03\x04" or prefix[:2] in _PICKLE_STARTS

    def refuse(what):
        return _corrupt(name, _TORCH_HINT if torch_file else what)

    if not prefix:
        raise _corrupt(name, "the file is empty")
    if len(prefix) < 8:
        raise refuse(f"it is {len(prefix)} bytes long, too short for a safetensors file")
    size, remaining = int.from_bytes(prefix, "little"), _remaining(handle)
    if size > _MAX_HEADER:
        raise refuse(f"its first 8 bytes announce a {size}-byte header: it is not a "
                     "safetensors file, or it is damaged")
    raw = _read_bytes(name, handle, size if remaining is None else min(size, remaining))
    if len(raw) < size:
        raise refuse(f"it is truncated: its header should be {size} bytes long, but the file "
                     f"ends after {len(raw)}")
    try:
        header = json.loads(raw)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        header = None
    if not isinstance(header, dict):
        raise refuse("its header is not valid safetensors JSON: the file is damaged, or not a "
                     "safetensors file")
    metadata = header.get(_RESERVED_KEY) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _corrupt(name, "its header's __metadata__ is not a map of strings")
    layout = _layout(name, header)
    expected = sum(item[3] for item in layout)
    if remaining is not None and remaining - size < expected:
        raise _corrupt(name, f"it is truncated: its header describes {expected} bytes of "
                             f"tensor data, but only {remaining - size} follow")
    arrays = {}
    for key, dtype, shape, nbytes in layout:
        array = np.empty(shape, dtype.np)
        if _read_into(name, handle, _raw(array)) < nbytes:
            raise _corrupt(name, f"it is truncated: its data ends inside the tensor {key!r}")
        arrays[key] = array
    if _read_bytes(name, handle, 1):
        raise _corrupt(name, "it goes on after its last tensor: it is damaged, or more than "
                             "one file")
    return header, arrays


def _layout(name, header):
    """[(key, dtype, shape, nbytes)] of the header's tensors in the order of their data,
    after checking that the data is one contiguous run, each tensor exactly its size."""
    layout = []
    for key, info in header.items():
        if key == _RESERVED_KEY:
            continue
        try:
            code, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
            if type(code) is not str or type(shape) is not list or \
                    not all(type(n) is int and n >= 0 for n in (*shape, begin, end)):
                raise ValueError
        except (KeyError, TypeError, ValueError):
            raise _corrupt(name, f"its header entry for the tensor {key!r} is malformed: "
                                 f"{info!r}") from None
        if code not in _DTYPE_OF_CODE:
            raise _corrupt(name, f"the tensor {key!r} has the safetensors dtype {code}, which "
                                 f"labgrad has no dtype for (it has: {', '.join(_DTYPE_OF_CODE)})")
        dtype = _dt.bfloat16 if code == "BF16" else _dt.to_dtype(_DTYPE_OF_CODE[code])
        if dtype is None:
            raise _corrupt(name, "it holds bfloat16 tensors, which need the ml_dtypes package: "
                                 "pip install \"labgrad[bfloat16]\"")
        nbytes = math.prod(shape) * dtype.itemsize
        if nbytes != end - begin:
            raise _corrupt(name, f"its header gives the tensor {key!r} ({code} {shape}) "
                                 f"{end - begin} bytes instead of {nbytes}: it is damaged")
        layout.append((begin, end, key, dtype, shape))
    layout.sort(key=lambda item: item[:3])
    position = 0
    for begin, end, key, _, _ in layout:
        if begin != position:
            raise _corrupt(name, f"its header's data offsets leave a gap or an overlap before "
                                 f"the tensor {key!r}: it is damaged")
        position = end
    return [(key, dtype, shape, end - begin) for begin, end, key, dtype, shape in layout]


def _remaining(handle):
    """How many bytes the file holds after the current position (None for a stream)."""
    try:
        here = handle.tell()
        end = handle.seek(0, os.SEEK_END)
        handle.seek(here)
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return None
    return end - here


def _read_bytes(name, handle, size):
    """Up to `size` bytes from the file (fewer only at its end)."""
    buffer = bytearray(size)
    return bytes(buffer[:_read_into(name, handle, memoryview(buffer))])


def _read_into(name, handle, view):
    """Fill the memoryview from the file, however short its reads; the number of bytes read
    (less than asked only at the end of the file)."""
    readinto = getattr(handle, "readinto", None)
    done = 0
    while done < len(view):
        if readinto is not None:
            count = readinto(view[done:])
        else:
            chunk = handle.read(len(view) - done)
            if isinstance(chunk, str):
                raise TypeError(f"labgrad.load: {name} is open in text mode; open it with 'rb'")
            count = len(chunk)
            view[done:done + count] = chunk
        if not count:
            break
        done += count
    return done


def _is_labgrad(metadata):
    """Whether a file was written by labgrad.save. Any one of its marks suffices, so a
    damaged mark is reported as damage rather than read as a plain file."""
    return metadata.get("format") == "labgrad" or any(
        k in metadata for k in (_STRUCTURE, _STRUCTURE_SHA, _DATA_SHA))


def _verify(name, metadata, arrays):
    """The tensor records and the root value of a labgrad file, after checking its digests
    and that its tensors match the structure."""
    missing = [k for k in ("format", _STRUCTURE, _STRUCTURE_SHA, _DATA_SHA) if k not in metadata]
    if missing or metadata["format"] != "labgrad":
        raise _corrupt(name, f"its labgrad metadata is damaged (missing or wrong: "
                             f"{', '.join(missing) or 'format'})")
    text = metadata[_STRUCTURE]
    if hashlib.sha256(text.encode()).hexdigest() != metadata[_STRUCTURE_SHA]:
        raise _corrupt(name, "its structure does not match its SHA-256 digest: the header was "
                             "modified or damaged")
    try:
        document = json.loads(text)
        version = document["version"]
        if type(version) is int and version > FORMAT_VERSION:
            raise _corrupt(name, f"it was saved by a newer labgrad (format version {version}; "
                                 f"this labgrad reads version {FORMAT_VERSION}): upgrade labgrad")
        if version != FORMAT_VERSION:
            raise ValueError(f"format version {version!r}")
        records, root = document["tensors"], document["root"]
        for record in records:
            _check_record(record, arrays)
    except (KeyError, TypeError, ValueError) as error:
        raise _corrupt(name, f"its structure is malformed ({type(error).__name__}: "
                             f"{error})") from None
    keys = {record["key"] for record in records}
    if len(keys) != len(records) or len(records) != len(arrays):
        raise _corrupt(name, f"it holds {len(arrays)} tensors but its structure describes "
                             f"{len(records)}, under {len(keys)} keys")
    if _data_digest(arrays[record["key"]] for record in records) != metadata[_DATA_SHA]:
        raise _corrupt(name, "its tensor data does not match its SHA-256 digest: the file was "
                             "modified or damaged")
    return records, root


def _check_record(record, arrays):
    """Raise ValueError unless `record` is well formed and matches its tensor in the file."""
    fields = ("key", "dtype", "shape", "device", "requires_grad", "parameter")
    if type(record) is not dict or sorted(record) != sorted(fields):
        raise ValueError(f"tensor record {record!r}")
    array = arrays.get(record["key"])
    if array is None:
        raise ValueError(f"tensor {record['key']!r} is missing from the file")
    found = _dt.from_numpy_dtype(array.dtype).name
    if found != record["dtype"] or list(array.shape) != record["shape"]:
        raise ValueError(f"tensor {record['key']!r} is {found} {list(array.shape)} in the file "
                         f"but {record['dtype']} {record['shape']} in the structure")
    if type(record["requires_grad"]) is not bool or type(record["parameter"]) is not bool or \
            type(record["device"]) is not str:
        raise ValueError(f"tensor record {record!r}")
    if record["requires_grad"] and not _dt.to_dtype(found).is_floating_point:
        raise ValueError(f"tensor {record['key']!r} of dtype {found} cannot require grad (only "
                         "floating point tensors can)")
    try:
        _device(record["device"])
    except RuntimeError as error:  # a malformed device string
        raise ValueError(str(error)) from None


def _materialize(name, records, arrays, map_location):
    """The tensors of `records`, placed as map_location says; every check that can fail
    runs before any data moves to a device."""
    ordered = [arrays[record["key"]] for record in records]
    if callable(map_location):
        datas = [_call_map_location(name, map_location, array, record["device"])
                 for array, record in zip(ordered, records)]
    else:
        targets = [_target(map_location, record["device"]) for record in records]
        for target, saved in {(t, as_device(r["device"])) for t, r in zip(targets, records)}:
            _check_target(name, target, saved)
        datas = [array if target.type == "cpu" else backend.to_device(array, target)
                 for array, target in zip(ordered, targets)]
    tensors = []
    for data, record in zip(datas, records):
        t = Tensor._wrap(data)
        if record["parameter"]:
            t = Parameter(t, requires_grad=record["requires_grad"])
        elif record["requires_grad"]:
            t.requires_grad_(True)
        tensors.append(t)
    return tensors


def _target(map_location, location):
    """The device a tensor saved at `location` goes to (map_location not callable)."""
    if map_location is None:
        return as_device(location)
    if isinstance(map_location, dict):
        mapping = {str(k): v for k, v in map_location.items()}
        return as_device(mapping.get(location, location))
    if isinstance(map_location, (str, _device)):
        return as_device(map_location)
    raise TypeError(f"labgrad.load: map_location must be None, a device, a string like 'cpu', "
                    f"a dict or a callable, got {type(map_location).__name__}")


def _check_target(name, target, saved):
    """A clear error, before anything is loaded, where a CUDA target cannot be used."""
    if target.type != "cuda":
        return
    from . import cuda
    try:
        cuda.check_device(target, "labgrad.load")
    except RuntimeError as error:
        why = str(error).replace("labgrad.load: ", "", 1)
        if target == saved:
            raise RuntimeError(f"labgrad.load: {name} holds tensors saved on {target}, which "
                               f"cannot be used here: {why} On a machine without a GPU, pass "
                               "map_location='cpu' to load them on the cpu") from None
        raise RuntimeError(f"labgrad.load: map_location sends tensors of {name} to {target}, "
                           f"which cannot be used here: {why} Use map_location='cpu'") from None


def _call_map_location(name, map_location, array, location):
    """PyTorch's callable form: fn(tensor on the cpu, saved location) -> tensor or None."""
    result = map_location(Tensor._wrap(array), location)
    if result is None:
        target = as_device(location)
        _check_target(name, target, target)
        return array if target.type == "cpu" else backend.to_device(array, target)
    if not isinstance(result, Tensor):
        raise TypeError(f"labgrad.load: map_location returned {type(result).__name__}; it must "
                        "return a tensor (or None to keep the saved location)")
    return result._data


def _corrupt(name, what):
    return RuntimeError(f"labgrad.load: cannot load {name}: {what}. Nothing was loaded.")


class _Decoder:
    """Rebuilds the saved object from its structure; only the tags below are known."""

    def __init__(self, name, tensors):
        self.name = name
        self.tensors = tensors

    def decode_root(self, root):
        try:
            return self.decode(root)
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise _corrupt(self.name, f"its structure is malformed ({type(error).__name__}: "
                                      f"{error})") from None

    def decode(self, value):
        kind = type(value)
        if value is None or kind in (bool, int, float, str):
            return value
        if kind is list:
            return [self.decode(item) for item in value]
        if kind is dict:
            tag = value.get("$")
            handler = self._TAGS.get(tag) if type(tag) is str else None
            if handler is None:
                raise _corrupt(self.name, f"its structure has the unknown tag {tag!r} (saved by "
                                          "a newer labgrad, or damaged)")
            return handler(self, value)
        raise TypeError(f"unexpected JSON value {value!r}")

    def _tensor(self, value):
        index = value["id"]
        if type(index) is not int or not 0 <= index < len(self.tensors):
            raise ValueError(f"tensor id {index!r}")
        return self.tensors[index]

    def _tuple(self, value):
        return tuple(self._list(value["items"]))

    def _dict(self, value):
        return dict(self._pairs(value["items"]))

    def _odict(self, value):
        mapping = OrderedDict(self._pairs(value["items"]))
        if "metadata" in value:
            mapping._metadata = self.decode(value["metadata"])
        return mapping

    def _pairs(self, items):
        for pair in self._list(items, raw=True):
            if type(pair) is not list or len(pair) != 2:
                raise ValueError(f"dict item {pair!r}")
            yield self.decode(pair[0]), self.decode(pair[1])

    def _list(self, items, raw=False):
        if type(items) is not list:
            raise TypeError(f"expected a list of items, got {items!r}")
        return items if raw else [self.decode(item) for item in items]

    def _float(self, value):
        if value["v"] not in _NON_FINITE:
            raise ValueError(f"float {value['v']!r}")
        return float(value["v"])

    def _bytes(self, value):
        return base64.b64decode(value["base64"], validate=True)

    def _dtype(self, value):
        found = next((d for d in _dt.ALL if d.name == value["name"]), None)
        if found is None:
            raise ValueError(f"dtype {value['name']!r} (not a dtype of this labgrad)")
        return found

    def _device(self, value):
        try:
            return _device(value["name"])
        except RuntimeError as error:  # a malformed device string
            raise ValueError(str(error)) from None

    def _size(self, value):
        items = self._list(value["items"], raw=True)
        if not all(type(n) is int for n in items):
            raise ValueError(f"size {items!r}")
        return Size(items)

    _TAGS = {"tensor": _tensor, "tuple": _tuple, "dict": _dict, "odict": _odict,
             "float": _float, "bytes": _bytes, "dtype": _dtype, "device": _device,
             "size": _size}
