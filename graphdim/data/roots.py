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
import hashlib
import os
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from .safe_load import load_processed, safe_pyg_loading

ENV_ROOT = 'GRAPHDIM_DATA'
ENV_CACHE = 'GRAPHDIM_CACHE'


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's raw files are neither under the given root nor downloadable."""


def cache_dir() -> Path:
    """Writable directory for downloads and processed files."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    checkout = Path(__file__).resolve().parents[2] / 'datasets'
    if checkout.is_dir() and os.access(checkout, os.W_OK):
        return checkout
    return Path.home() / '.cache' / 'graphdim'


def resolve_root(root: Optional[str] = None) -> Optional[Path]:
    """The local data root: ``root`` if given, else ``$GRAPHDIM_DATA``, else None."""
    root = root or os.environ.get(ENV_ROOT)
    return Path(root).expanduser() if root else None


def _mirror(source: Path, target: Path) -> None:
    """Link every entry of ``source`` (a dataset folder) into ``target``, except processed ones."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        link = target / entry.name
        if entry.name.startswith('processed') or link.exists() or link.is_symlink():
            continue
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
    files change or the cache does not load (:mod:`.safe_load`).
    """
    loader_root, present = prepare_dataset_dir(family, folder, required, root, download)
    build = lambda: make(str(loader_root))  # noqa: E731
    if present:
        return load_processed(build, loader_root / folder, required)
    try:
        with safe_pyg_loading():
            return build()
    except (OSError, ValueError, RuntimeError) as error:  # URLError is an OSError
        looked = [p for p in [resolve_root(root)] if p is not None]
        looked = [p / family / folder / required[0] for p in looked]
        looked.append(loader_root / folder / required[0])
        raise _not_found(folder, family, required, looked, error) from error
