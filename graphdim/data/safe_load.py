"""Reading dataset files without running code, and processed caches keyed by their raw files.

What graphdim trusts: nothing it reads from a data root or a cache may run code.

* Planetoid's raw files (``ind.<name>.x``, ``.graph``, ...) are Python pickles, which can call
  any function while loading. Inside :func:`safe_pyg_loading` PyG reads them through
  :class:`RestrictedUnpickler`, which builds numpy arrays, scipy sparse matrices and plain
  containers, and refuses every other global with :class:`UnsafeFileError`.
* PyG and OGB read processed files with ``torch.load``; PyG falls back to
  full, unrestricted unpickling when the safe load fails. Inside
  :func:`safe_pyg_loading` processed files load with ``weights_only=True`` only, with PyG's
  plain tensor containers allow-listed (:func:`allow_pyg_classes`).
* TU datasets are text, Amazon / Coauthor ``.npz`` files are read with ``allow_pickle=False``
  by PyG, and OGB's raw files are CSV: none of them unpickles.

A processed cache belongs to the raw files it was built from: :func:`raw_files_key` (each
raw file's size and modification time) is written beside it, and a cache whose key differs,
or that fails to load, is deleted and rebuilt (:func:`load_processed`). A ``processed`` entry
that is a link (to a folder graphdim never checked) is removed, the link only, and rebuilt.
"""
import contextlib
import errno
import hashlib
import io
import pickle
import shutil
import zipfile
import zlib
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

import torch

from ..runtime import disk_full

_ALLOWED_GLOBALS = {
    ('builtins', 'list'), ('builtins', 'dict'), ('builtins', 'set'), ('builtins', 'tuple'),
    ('__builtin__', 'list'), ('__builtin__', 'dict'), ('__builtin__', 'set'),
    ('__builtin__', 'tuple'), ('collections', 'defaultdict'), ('collections', 'OrderedDict'),
    ('numpy', 'dtype'), ('numpy', 'ndarray'),
    ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
}
_SPARSE_MATRICES = {'csr_matrix', 'csc_matrix', 'coo_matrix', 'lil_matrix', 'dok_matrix'}
STAMP = '.graphdim-raw-key'


class UnsafeFileError(ValueError):
    """A data file asks to run code (or to build an object outside the allow-list)."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that builds only numpy arrays, scipy sparse matrices and containers."""
    def find_class(self, module: str, name: str):
        sparse = module.split('.')[:2] == ['scipy', 'sparse'] and name in _SPARSE_MATRICES
        if (module, name) in _ALLOWED_GLOBALS or sparse:
            return super().find_class(module, name)
        source = getattr(self, 'source', 'a pickle')
        raise UnsafeFileError(
            f"{source} asks to load {module}.{name}, which is not a numpy array, scipy sparse "
            f"matrix or plain container; graphdim does not run code from data files. Replace "
            f"the file with the dataset's original")


def restricted_load(file, **kwargs):
    """``pickle.load`` through :class:`RestrictedUnpickler` (same keyword arguments)."""
    unpickler = RestrictedUnpickler(file, **kwargs)
    unpickler.source = getattr(file, 'name', None) or getattr(file, 'path', None) or 'a pickle'
    return unpickler.load()


def allow_pyg_classes() -> None:
    """Allow PyG's storage classes (plain containers of tensors) in ``weights_only`` loads:
    ogb 1.3.6 and older PyG caches pickle them."""
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import GlobalStorage
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals([DataEdgeAttr, DataTensorAttr, GlobalStorage])


def _weights_only_torch_load(path, map_location=None):
    import fsspec
    with fsspec.open(path, 'rb') as f:
        return torch.load(f, map_location, weights_only=True)


class _RestrictedPickleModule:
    """Stands in for the ``pickle`` module inside PyG's Planetoid reader."""
    load = staticmethod(restricted_load)
    loads = staticmethod(lambda data, **kwargs: restricted_load(io.BytesIO(data), **kwargs))
    UnpicklingError = pickle.UnpicklingError


@contextlib.contextmanager
def safe_pyg_loading():
    """Within the block, PyG's readers unpickle raw files through :class:`RestrictedUnpickler`
    and load processed files with ``weights_only=True`` and no fallback."""
    import torch_geometric.io.fs as fs
    import torch_geometric.io.planetoid as planetoid
    allow_pyg_classes()
    saved = planetoid.pickle, fs.torch_load
    planetoid.pickle, fs.torch_load = _RestrictedPickleModule, _weights_only_torch_load
    try:
        yield
    finally:
        planetoid.pickle, fs.torch_load = saved


def raw_files_key(dataset_dir: Path, required: List[str]) -> str:
    """A key of the raw files a cache is built from: their names, sizes and mtimes."""
    digest = hashlib.sha1()
    for name in sorted(required):
        stat = (dataset_dir / name).stat()  # follows the links of a mirrored root
        digest.update(f'{name}:{stat.st_size}:{stat.st_mtime_ns};'.encode())
    return digest.hexdigest()


def _processed_dirs(dataset_dir: Path) -> List[Path]:
    if not dataset_dir.is_dir():
        return []
    return [p for p in dataset_dir.iterdir() if p.name.startswith('processed') and p.is_dir()
            and not p.is_symlink()]


def _clear_processed(dataset_dir: Path) -> None:
    for path in _processed_dirs(dataset_dir):
        shutil.rmtree(path, ignore_errors=True)


def _unlink_processed_links(dataset_dir: Path) -> None:
    """Remove links named ``processed*`` from the cache folder (the links only, never what
    they point at): graphdim builds its caches there itself, so a link is not one of them,
    and what it points at was never checked against the raw files."""
    if dataset_dir.is_dir():
        for path in dataset_dir.iterdir():
            if path.name.startswith('processed') and path.is_symlink():
                path.unlink()


# What a truncated, foreign or crafted dataset file (raw or processed) raises while loading:
# an index past the end (Planetoid's test.index), a truncated .npz (BadZipFile, zlib.error),
# a missing array (KeyError), arrays of mismatched sizes (IndexError, ValueError, ...).
CORRUPT_FILE_ERRORS = (pickle.UnpicklingError, EOFError, RuntimeError, LookupError,
                       AttributeError, TypeError, ValueError, OSError, ArithmeticError,
                       AssertionError, zipfile.BadZipFile, zlib.error)


class CorruptDatasetError(ValueError):
    """A dataset file cannot be read as what it should hold; the message names the file (or
    the dataset folder and its raw files) and the fix."""


def _reason(error: BaseException) -> str:
    text = ' '.join(str(error).split()) or type(error).__name__
    return f"{type(error).__name__}: {text[:200]}"


def full_cache_disk_error(folder: Path, error: BaseException):
    """An ``OSError(ENOSPC)`` saying that the disk of the dataset cache ``folder`` is full
    where ``error`` came from a full disk or quota (:func:`graphdim.runtime.disk_full`),
    else None."""
    if not disk_full(error, folder):
        return None
    return OSError(errno.ENOSPC, f"the disk of the dataset cache {folder} is full "
                                 f"({_reason(error)}); free space there, or point "
                                 f"GRAPHDIM_CACHE at a folder on another disk")


def corrupt_dataset_error(files: Union[Path, Sequence[Path]], error: BaseException,
                          fix: str = "replace {them} with the dataset's original {files}",
                          cache: Optional[Path] = None) -> Exception:
    """The one error for a dataset that does not read: a :class:`CorruptDatasetError` (one
    line) naming ``files`` (one file, or a dataset's raw files) and the fix, or, where the
    failure came from a full disk or quota while the ``cache`` folder was written, an
    ``OSError(ENOSPC)`` saying so (not bad raw files)."""
    files = [Path(files)] if isinstance(files, (str, Path)) else [Path(f) for f in files]
    files = [f.resolve() for f in files]  # a mirrored root's file, not the cache's link to it
    folder = files[0].parent
    full = full_cache_disk_error(cache, error) if cache is not None else None
    if full is not None:
        return full
    if len(files) == 1:
        what, them, noun = str(files[0]), 'it', 'file'
    else:
        what = (f"the raw files of the dataset in {folder} "
                f"({', '.join(sorted(f.name for f in files))})")
        them, noun = 'them', 'files'
    return CorruptDatasetError(f"could not read {what} ({_reason(error)}); "
                               f"{fix.format(them=them, files=noun)}")


def load_processed(make: Callable, dataset_dir: Path, required: List[str]):
    """``make()`` under :func:`safe_pyg_loading`, with ``dataset_dir``'s processed cache kept
    only while it matches the raw files and rebuilt once when it fails to load."""
    key = raw_files_key(dataset_dir, required)
    _unlink_processed_links(dataset_dir)
    stamps = [p / STAMP for p in _processed_dirs(dataset_dir)]
    if any(not s.is_file() or s.read_text() != key for s in stamps):
        _clear_processed(dataset_dir)  # built from other raw files, or by an older graphdim
    with safe_pyg_loading():
        try:
            dataset = make()
        except UnsafeFileError:
            raise
        except CORRUPT_FILE_ERRORS as error:
            raw = [dataset_dir / name for name in required]
            if not stamps:  # built from the raw files just now: they are what is broken
                raise corrupt_dataset_error(raw, error, cache=dataset_dir) from error
            _clear_processed(dataset_dir)  # a corrupt or crafted cache: rebuild it from raw
            try:
                dataset = make()
            except CORRUPT_FILE_ERRORS as again:  # the raw files fail too
                raise corrupt_dataset_error(raw, again, cache=dataset_dir) from again
    for path in _processed_dirs(dataset_dir):
        (path / STAMP).write_text(key)
    return dataset
