"""Datasets by name. The one place that resolves dataset roots and caches.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch_geometric.data import Data

ENV_ROOT = 'GRAPHDIM_DATA'
ENV_CACHE = 'GRAPHDIM_CACHE'


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's raw files are neither under the given root nor downloadable."""


@dataclass
class NodeDataset:
    """One graph for node-level learning.

    ``public_split`` is True when ``data`` carries the dataset's public
    ``train_mask`` / ``val_mask`` / ``test_mask``; otherwise evaluation draws a seeded random
    split (see :func:`graphdim.evaluate.random_split`).
    """
    name: str
    data: Data
    num_classes: int
    public_split: bool


def cache_dir() -> Path:
    """Writable directory for downloads and processed files."""
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    checkout = Path(__file__).resolve().parent.parent / 'datasets'
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
    """
    loader_root, present = prepare_dataset_dir(family, folder, required, root, download)
    if present:
        return make(str(loader_root))
    try:
        return make(str(loader_root))
    except (OSError, ValueError, RuntimeError) as error:  # URLError is an OSError
        looked = [p for p in [resolve_root(root)] if p is not None]
        looked = [p / family / folder / required[0] for p in looked]
        looked.append(loader_root / folder / required[0])
        raise _not_found(folder, family, required, looked, error) from error


# ----------------------------------------------------------------------------- node datasets
def _planetoid(name: str) -> Tuple[str, str, List[str], Callable]:
    from torch_geometric.datasets import Planetoid
    files = [f'raw/ind.{name.lower()}.{part}'
             for part in ('x', 'tx', 'allx', 'y', 'ty', 'ally', 'graph', 'test.index')]
    return 'planetoid', name, files, lambda r: Planetoid(r, name, split='public')


def _amazon(name: str):
    from torch_geometric.datasets import Amazon
    files = [f'raw/amazon_electronics_{name.lower()}.npz']
    return 'gnn_benchmark', name, files, lambda r: Amazon(r, name)


def _coauthor(name: str):
    from torch_geometric.datasets import Coauthor
    files = [f'raw/ms_academic_{name[:3].lower()}.npz']
    return 'gnn_benchmark', name, files, lambda r: Coauthor(r, name)


NODE_DATASETS: Dict[str, Callable] = {
    'cora': lambda: _planetoid('Cora'),
    'citeseer': lambda: _planetoid('CiteSeer'),
    'pubmed': lambda: _planetoid('PubMed'),
    'amazon-photo': lambda: _amazon('Photo'),
    'amazon-computers': lambda: _amazon('Computers'),
    'coauthor-cs': lambda: _coauthor('CS'),
    'coauthor-physics': lambda: _coauthor('Physics'),
}
_ALIASES = {'photo': 'amazon-photo', 'computers': 'amazon-computers', 'cs': 'coauthor-cs',
            'physics': 'coauthor-physics'}


def karate_club() -> Data:
    """Zachary's karate club from networkx: 34 nodes, one-hot identity features, 2 clubs."""
    import networkx as nx
    graph = nx.karate_club_graph()
    edges = torch.tensor(list(graph.edges()), dtype=torch.long).t()
    edge_index = torch.cat([edges, edges.flip(0)], dim=1)
    clubs = sorted({graph.nodes[n]['club'] for n in graph.nodes})
    y = torch.tensor([clubs.index(graph.nodes[n]['club']) for n in graph.nodes])
    return Data(x=torch.eye(graph.number_of_nodes()), edge_index=edge_index, y=y)


def row_normalize(x: torch.Tensor) -> torch.Tensor:
    """Scale each row to sum to one (DGI's feature preprocessing); all-zero rows stay zero."""
    return x / x.sum(dim=1, keepdim=True).clamp(min=1e-12)


def load_node_dataset(name: str, root: Optional[str] = None, download: bool = True,
                      normalize_features: bool = True) -> NodeDataset:
    """Load a node-classification graph by name (case-insensitive).

    Names: ``karate``, ``cora``, ``citeseer``, ``pubmed``, ``amazon-photo``,
    ``amazon-computers``, ``coauthor-cs``, ``coauthor-physics``.
    ``normalize_features`` row-normalises the (non-negative, bag-of-words) features as DGI
    does; it keeps training stable on CiteSeer's raw binary features.
    """
    key = _ALIASES.get(name.lower(), name.lower())
    if key == 'karate':
        data, num_classes, public, canonical = karate_club(), 2, False, 'karate'
    elif key in NODE_DATASETS:
        family, folder, required, make = NODE_DATASETS[key]()
        dataset = load_with_pyg(family, folder, required, make, root, download)
        data, num_classes, canonical = dataset[0], dataset.num_classes, folder
        public = family == 'planetoid'
    else:
        known = ', '.join(['karate', *NODE_DATASETS])
        raise ValueError(f"unknown dataset {name!r}; choose one of {known}")
    if normalize_features:
        data.x = row_normalize(data.x)
    return NodeDataset(canonical, data, num_classes, public)
