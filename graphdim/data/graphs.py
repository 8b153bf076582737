"""Graph-classification datasets by name: TU datasets and OGB molecule datasets.

Every loader returns a :class:`GraphDataset`: a list of PyG ``Data`` graphs with float node
features ``x`` and a label ``y``, ready for a PyG ``DataLoader``.

* TU datasets (``MUTAG``, ``PTC_MR``, ``PROTEINS``, ``IMDB-BINARY``, ``IMDB-MULTI``, ... any
  name in the TU layout ``TUDataset/<NAME>/raw/<NAME>_A.txt``): node labels one-hot as PyG
  gives them; graphs without node features (the IMDB social graphs) get one-hot degree
  features capped at ``max_degree``, as in GIN and InfoGraph. Evaluated by 10-fold CV.
* OGB molecule datasets (``ogbg-molbace``, ``ogbg-molbbbp``, ...): the 9 categorical atom
  features one-hot encoded (174 columns; a linear layer on them equals OGB's ``AtomEncoder``),
  bond features unused, and the official scaffold split. Evaluated with OGB's ROC-AUC.

Where files are read and caches written is decided by :mod:`.roots` alone.
"""
import contextlib
import re
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional

import torch
from torch_geometric.data import Data

from .custom import MAX_DEGREE_FEATURE, degree_features
from ..runtime import check_memory
from ..graph.checks import shown
from .roots import load_with_pyg
from .safe_load import allow_pyg_classes

TU_DATASETS = ('MUTAG', 'PTC_MR', 'PROTEINS', 'IMDB-BINARY', 'IMDB-MULTI')
OGB_DATASETS = ('ogbg-molbace', 'ogbg-molbbbp')
_TU_ALIASES = {'imdb-b': 'IMDB-BINARY', 'imdb-m': 'IMDB-MULTI', 'ptc': 'PTC_MR',
               'ptc-mr': 'PTC_MR'}


@dataclass
class GraphDataset:
    """Graphs for graph-level learning.

    ``split`` is None for TU datasets (evaluated by cross-validation) and, for OGB ones, the
    official split as ``{'train': LongTensor, 'valid': ..., 'test': ...}`` of graph indices.
    ``task`` is ``'multiclass'`` (accuracy) or ``'binary-roc-auc'`` (OGB's metric).
    """
    name: str
    graphs: List[Data]
    num_features: int
    num_classes: int
    labels: torch.Tensor
    split: Optional[Dict[str, torch.Tensor]] = None
    task: str = 'multiclass'

    def __len__(self) -> int:
        return len(self.graphs)


# A dataset name is one folder name: letters, digits, '_', '-' and '.', not starting with '.'
# (no path separators, no '..': a name never reaches outside the data root or cache).
_NAME = re.compile(r'[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}')


def check_dataset_name(name) -> str:
    """``name`` if it is a plain dataset name, else a :class:`ValueError` saying what a name
    may hold (it becomes a folder under the data root and cache, and part of a download
    address)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"dataset must be a name such as MUTAG or ogbg-molbace (letters, "
                         f"digits, '_', '-', '.'; no paths); got {shown(name)}")
    return name


def _tu_name(name: str) -> str:
    key = name.lower()
    if key in _TU_ALIASES:
        return _TU_ALIASES[key]
    for known in TU_DATASETS:
        if known.lower() == key:
            return known
    return name  # any other TU name is looked up as written


def load_tu_dataset(name: str, root: Optional[str] = None, download: bool = True,
                    max_degree: int = MAX_DEGREE_FEATURE) -> GraphDataset:
    """A TU graph-classification dataset; featureless graphs get capped one-hot degrees."""
    from torch_geometric.datasets import TUDataset
    folder = _tu_name(check_dataset_name(name))
    required = [f'raw/{folder}_{part}.txt' for part in ('A', 'graph_indicator', 'graph_labels')]
    dataset = load_with_pyg('TUDataset', folder, required,
                            lambda r: TUDataset(r, folder), root, download)
    featureless = sum(int(d.num_nodes) for d in dataset if d.x is None or d.x.size(1) == 0)
    check_memory(4.0 * featureless * (max_degree + 1), f"one-hot degree features of "
                 f"{featureless:,} nodes x {max_degree + 1:,} columns (--max-degree "
                 f"{max_degree})", "lower --max-degree (the degrees above it share the last "
                 "column)")
    graphs = []
    for data in dataset:
        graph = Data(edge_index=data.edge_index, y=data.y.view(-1), num_nodes=data.num_nodes)
        graph.x = data.x.float() if data.x is not None and data.x.size(1) > 0 \
            else degree_features(data.edge_index, data.num_nodes, max_degree)
        graphs.append(graph)
    labels = torch.cat([g.y for g in graphs])
    return GraphDataset(folder, graphs, graphs[0].x.size(1), int(labels.max()) + 1, labels)


def _one_hot_atoms(x: torch.Tensor, dims: List[int]) -> torch.Tensor:
    offsets = torch.tensor([0, *dims[:-1]]).cumsum(0)
    out = torch.zeros(x.size(0), sum(dims))
    out.scatter_(1, x.long() + offsets, 1.0)
    return out


def load_ogb_graph_dataset(name: str, root: Optional[str] = None,
                           download: bool = True) -> GraphDataset:
    """An OGB graph-property dataset (single binary task) with its official split."""
    try:
        from ogb.graphproppred import PygGraphPropPredDataset
        from ogb.utils.features import get_atom_feature_dims
    except ImportError as error:
        raise ValueError(f"{name} needs the ogb package: pip install 'graphdim[ogb]'") from error
    allow_pyg_classes()
    folder = name.replace('-', '_')
    required = ['RELEASE_v1.txt', 'raw/edge.csv.gz', 'raw/node-feat.csv.gz',
                'raw/graph-label.csv.gz', 'split/scaffold/train.csv.gz']
    with contextlib.redirect_stdout(sys.stderr):  # ogb prints progress on stdout
        dataset = load_with_pyg('ogb', folder, required,
                                lambda r: PygGraphPropPredDataset(name=name, root=r), root,
                                download)
    if dataset.num_tasks != 1:
        raise ValueError(f"{name} has {dataset.num_tasks} tasks; only single-task OGB datasets "
                         f"are supported")
    dims = get_atom_feature_dims()
    graphs = [Data(x=_one_hot_atoms(d.x, dims), edge_index=d.edge_index, y=d.y.view(-1),
                   num_nodes=d.num_nodes) for d in dataset]
    labels = torch.cat([g.y for g in graphs])
    split = {k: torch.as_tensor(v) for k, v in dataset.get_idx_split().items()}
    return GraphDataset(name, graphs, sum(dims), 2, labels, split, 'binary-roc-auc')


def load_graph_dataset(name: str, root: Optional[str] = None, download: bool = True,
                       max_degree: int = MAX_DEGREE_FEATURE) -> GraphDataset:
    """Load a graph-classification dataset by name (case-insensitive).

    ``ogbg-*`` names load through ``ogb``; everything else is a TU dataset (``MUTAG``,
    ``PTC_MR``, ``PROTEINS``, ``IMDB-BINARY``, ``IMDB-MULTI``, ...). A dataset found neither
    under the root nor online raises :class:`~.roots.DatasetNotFoundError`.
    """
    check_dataset_name(name)
    if not isinstance(max_degree, int) or isinstance(max_degree, bool) or max_degree < 1:
        raise ValueError(f"max_degree must be an integer >= 1; got {max_degree!r}")
    if name.lower().startswith('ogbg-'):
        return load_ogb_graph_dataset(name.lower(), root, download)
    return load_tu_dataset(name, root, download, max_degree)
