"""Dataset roots and caches: the one place that decides where data is read and written.

Where data comes from, in order:

1. a local root, ``root=`` (CLI ``--root``) or else the ``GRAPHDIM_DATA`` environment variable,
   laid out like the loaders' raw folders (``planetoid/Cora/raw/ind.cora.x``,
   ``gnn_benchmark/Photo/raw/amazon_electronics_photo.npz``, ``TUDataset/MUTAG/raw/...``,
   ``ogb/ogbg_molbace/...``). It is only read, never written: it may be read-only.
2. the cache directory (``GRAPHDIM_CACHE``, else ``datasets/`` beside the package in a source
   checkout, else ``~/.cache/graphdim``), where downloads land on a connected machine.

Processed files always go to the cache (raw folders from a root are linked there), so a
shared read-only root works as is. A dataset found nowhere raises
:class:`DatasetNotFoundError` naming the file looked for, where, and both ways to provide it.
``karate`` (Zachary's karate club, shipped inside networkx) needs no file at all.
"""
import contextlib
import hashlib
import os
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple

from filelock import FileLock

from .safe_load import full_cache_disk_error, load_processed, safe_pyg_loading

ENV_ROOT = 'GRAPHDIM_DATA'
ENV_CACHE = 'GRAPHDIM_CACHE'


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's raw files are neither under the given root nor downloadable."""


def cache_dir() -> Path:
    """Writable directory for downloads and processed files."""
    if os.environ.get(ENV_CACHE):
        return expand_user(os.environ[ENV_CACHE], ENV_CACHE)
    checkout = Path(__file__).resolve().parents[2] / 'datasets'
    if checkout.is_dir() and os.access(checkout, os.W_OK):
        return checkout
    return expand_user('~/.cache/graphdim', f'the default cache (or set {ENV_CACHE})')


def expand_user(path: str, what: str) -> Path:
    """``path`` with a leading ``~`` / ``~user`` expanded; a user (or home) that does not
    exist is a ValueError naming ``what`` (``--root``), not a RuntimeError."""
    try:
        return Path(path).expanduser()
    except RuntimeError:  # "Could not determine home directory": no such user, no $HOME
        head = str(path).split('/', 1)[0]
        raise ValueError(f"{what} {path}: cannot expand {head!r} (no such user, or no home "
                         f"directory); give the full path") from None


def resolve_root(root: Optional[str] = None) -> Optional[Path]:
    """The local data root: ``root`` if given, else ``$GRAPHDIM_DATA``, else None."""
    what = '--root' if root else ENV_ROOT
    root = root or os.environ.get(ENV_ROOT)
    return expand_user(root, what) if root else None


@contextlib.contextmanager
def cache_lock(family: str, folder: str) -> Iterator[None]:
    """Hold an exclusive lock (:class:`filelock.FileLock`) on
    ``<cache>/.locks/<family>-<folder>.lock`` while a dataset's cache is checked, built or
    read, so concurrent first loads of one dataset wait for each other instead of deleting
    each other's half-built files. Where the cache is not writable it locks nothing; a lock
    file that is a link is refused (OSError), never opened through."""
    path = cache_dir() / '.locks' / f'{family}-{folder}.lock'
    lock: Optional[FileLock] = FileLock(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except OSError:
        if path.is_symlink():  # filelock opens it with O_NOFOLLOW (ELOOP)
            raise OSError(f"{path} is a link; graphdim never opens a lock file through a "
                          f"link: remove it") from None
        lock = None  # a cache that is not writable: nothing to lock
    try:
        yield
    finally:
        if lock is not None:
            lock.release()


def _mirror(source: Path, target: Path) -> None:
    """Link every entry of ``source`` (a dataset folder) into ``target``, except processed ones."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        link = target / entry.name
        if entry.name.startswith('processed') or link.exists() or link.is_symlink():
            continue
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            link.symlink_to(entry.resolve(), target_is_directory=entry.is_dir())


def prepare_dataset_dir(family: str, folder: str, required: List[str],
                        root: Optional[str] = None, download: bool = True) -> Tuple[Path, bool]:
    """Make ``<cache>/.../<family>/<folder>`` hold the raw files a PyG loader needs.

    ``required`` lists paths relative to the dataset folder. Returns the directory to give
    the loader as its root (the one containing ``folder``) and whether the raw files are
    already present (False means the loader will try to download them).
    """
    local_root = resolve_root(root)
    looked = []
    if local_root is not None:
        source = local_root / family / folder
        missing = [f for f in required if not (source / f).exists()]
        if not missing:
            digest = hashlib.sha1(str(source.resolve()).encode()).hexdigest()[:10]
            loader_root = cache_dir() / 'mirrors' / digest / family
            _mirror(source, loader_root / folder)
            return loader_root, True
        looked.append(source / missing[0])
    loader_root = cache_dir() / family
    missing = [f for f in required if not (loader_root / folder / f).exists()]
    if not missing:
        return loader_root, True
    looked.append(loader_root / folder / missing[0])
    if not download:
        raise _not_found(folder, family, required, looked, None)
    return loader_root, False


def _not_found(name: str, family: str, required: List[str], looked: List[Path],
               reason: Optional[BaseException]) -> DatasetNotFoundError:
    where = '\n'.join(f'  - {path} (missing)' for path in looked)
    why = f"\nThe download failed: {reason}" if reason is not None else ''
    return DatasetNotFoundError(
        f"dataset {name!r} not found. Looked for:\n{where}{why}\n"
        f"Provide it in one of two ways:\n"
        f"  1. point --root DIR (or the {ENV_ROOT} environment variable) at a folder holding "
        f"{family}/{name}/{required[0]} (and the other files of its loader's raw layout), or\n"
        f"  2. run once on a machine with internet access: it downloads into {cache_dir()}.")


def load_with_pyg(family: str, folder: str, required: List[str], make: Callable,
                  root: Optional[str] = None, download: bool = True):
    """Resolve the folder, then build the PyG dataset with ``make(loader_root)``.

    A failed download becomes a :class:`DatasetNotFoundError` with the usual explanation.
    Files are read without running code, and the processed cache is rebuilt when the raw
    files change or the cache does not load (:mod:`.safe_load`); raw files that do not read
    and a full cache disk are each one error saying so. Concurrent loads of one dataset take
    turns (:func:`cache_lock`).
    """
    with cache_lock(family, folder):  # concurrent first loads: one builds, the others wait
        return _load_with_pyg(family, folder, required, make, root, download)


def _load_with_pyg(family: str, folder: str, required: List[str], make: Callable,
                   root: Optional[str], download: bool):
    loader_root, present = prepare_dataset_dir(family, folder, required, root, download)
    build = lambda: make(str(loader_root))  # noqa: E731
    if present:
        return load_processed(build, loader_root / folder, required)
    try:
        with safe_pyg_loading():
            return build()
    except (OSError, ValueError, RuntimeError) as error:  # URLError is an OSError
        full = full_cache_disk_error(loader_root / folder, error)
        if full is not None:
            raise full from error
        looked = [p for p in [resolve_root(root)] if p is not None]
        looked = [p / family / folder / required[0] for p in looked]
        looked.append(loader_root / folder / required[0])
        raise _not_found(folder, family, required, looked, error) from error
