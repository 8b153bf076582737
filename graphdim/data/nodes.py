"""Node-classification graphs by name: Planetoid, Amazon, Coauthor, and the built-in karate club."""
import warnings
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

import torch
from torch_geometric.data import Data

from ..graph.checks import shown
from .roots import load_with_pyg
from .ogb_nodes import load_ogb_node_dataset
from .synthetic import parse_synthetic_name, synthetic_graph


@dataclass
class NodeDataset:
    """One graph for node-level learning.

    ``public_split`` is True when ``data`` carries the dataset's public
    ``train_mask`` / ``val_mask`` / ``test_mask``; otherwise evaluation draws a seeded random
    split (see :func:`graphdim.eval.random_split`). ``features_row_normalized`` says
    whether the features were row-normalised (asked for and non-negative).
    """
    name: str
    data: Data
    num_classes: int
    public_split: bool
    features_row_normalized: bool = False


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


def can_row_normalize(x: torch.Tensor) -> bool:
    """Whether row normalisation applies: only non-negative (bag-of-words) features."""
    return bool((x >= 0).all())


def maybe_row_normalize(x: torch.Tensor) -> torch.Tensor:
    """Row-normalise non-negative (bag-of-words) features; leave any others as they are, with
    a warning (the caller records :func:`can_row_normalize` beside its results)."""
    if can_row_normalize(x):
        return row_normalize(x)
    warnings.warn("normalize_features: the features have negative entries, so they were left "
                  "as they are (row normalisation is for non-negative counts); pass "
                  "--no-normalize-features (normalize_features=False) to silence this",
                  UserWarning, stacklevel=2)
    return x


def load_node_dataset(name: str, root: Optional[str] = None, download: bool = True,
                      normalize_features: bool = True) -> NodeDataset:
    """Load a node-classification graph by name (case-insensitive).

    Names: ``karate``, ``cora``, ``citeseer``, ``pubmed``, ``amazon-photo``,
    ``amazon-computers``, ``coauthor-cs``, ``coauthor-physics``, ``ogbn-arxiv``,
    ``ogbn-products``, ``ogbn-papers100M`` (:mod:`graphdim.data.ogb_nodes`, official splits), and
    ``synthetic:NODES:AVG_DEGREE[:FEATURES]`` (see :func:`graphdim.data.synthetic.synthetic_graph`).
    ``normalize_features`` row-normalises non-negative (bag-of-words) features as DGI does;
    it keeps training stable on CiteSeer's raw binary features. Features with negative
    entries are left as they are.
    """
    if not isinstance(name, str):
        raise ValueError(f"name must be a dataset name such as 'cora' or "
                         f"'synthetic:1000:10'; got {shown(name)} ({type(name).__name__})")
    key = _ALIASES.get(name.lower(), name.lower())
    if key.startswith('synthetic'):
        kwargs = parse_synthetic_name(key)
        if kwargs is None:
            raise ValueError(f"synthetic datasets are named synthetic:NODES:AVG_DEGREE"
                             f"[:FEATURES], e.g. synthetic:100000:10; got {shown(name)}")
        data, num_classes, public = synthetic_graph(**kwargs), 8, False
        canonical = key
    elif key.startswith('ogbn-'):
        data, num_classes, canonical = load_ogb_node_dataset(key, root, download)
        public = True  # OGB's official split, as masks
    elif key == 'karate':
        data, num_classes, public, canonical = karate_club(), 2, False, 'karate'
    elif key in NODE_DATASETS:
        family, folder, required, make = NODE_DATASETS[key]()
        dataset = load_with_pyg(family, folder, required, make, root, download)
        data, num_classes, canonical = dataset[0], dataset.num_classes, folder
        public = family == 'planetoid'
    else:
        known = ', '.join(['karate', *NODE_DATASETS, 'synthetic:NODES:AVG_DEGREE',
                           'ogbn-arxiv', 'ogbn-products'])
        raise ValueError(f"unknown dataset {shown(name)}; choose one of {known}")
    normalized = normalize_features and can_row_normalize(data.x)
    if normalize_features:
        data.x = maybe_row_normalize(data.x)
    return NodeDataset(canonical, data, num_classes, public, normalized)
