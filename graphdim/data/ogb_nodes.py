"""OGB node-property datasets (ogbn-arxiv, ogbn-products, ogbn-papers100M) via the ``ogb`` package.

Read from ``<root>/ogb/ogbn_<name>/`` in OGB's own layout (``RELEASE_v1.txt``, ``raw/edge.csv.gz``,
``raw/node-feat.csv.gz``, ``raw/node-label.csv.gz``, ``raw/num-node-list.csv.gz``,
``raw/num-edge-list.csv.gz``, ``split/<split>/{train,valid,test}.csv.gz``), with the same
offline / read-only rules as every other dataset (:mod:`.roots`). The official split becomes
``train_mask`` / ``val_mask`` / ``test_mask``; the official :class:`ogb.nodeproppred.Evaluator`
scores the probe (:func:`ogb_accuracy`). Directed citation graphs (arxiv, papers100M) are made
undirected, as in OGB's own GNN baselines. Multi-label (ogbn-proteins, ROC-AUC) and
heterogeneous (ogbn-mag) datasets are not node-classification graphs the probe handles.
"""
import contextlib
import sys
from typing import List, Tuple

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected

from .roots import load_with_pyg
from .safe_load import allow_pyg_classes

OGB_NODE_DATASETS = ('ogbn-arxiv', 'ogbn-products', 'ogbn-papers100M')
_UNSUPPORTED = {'ogbn-proteins': 'it is multi-label (112 binary tasks, ROC-AUC)',
                'ogbn-mag': 'it is a heterogeneous graph'}


def _meta(name: str):
    import pandas as pd
    import ogb.nodeproppred
    from pathlib import Path
    master = pd.read_csv(Path(ogb.nodeproppred.__file__).parent / 'master.csv', index_col=0,
                         keep_default_na=False)
    return master[name]


def ogb_required_files(name: str) -> List[str]:
    """The files OGB's loader reads for ``name`` (relative to the dataset folder)."""
    meta = _meta(name)
    if meta['binary'] == 'True':
        raw = ['raw/data.npz', 'raw/node-label.npz']
    else:
        raw = ['raw/edge.csv.gz', 'raw/num-node-list.csv.gz', 'raw/num-edge-list.csv.gz',
               'raw/node-label.csv.gz']
        if meta['has_node_attr'] == 'True':
            raw.append('raw/node-feat.csv.gz')
        if meta['additional node files'] != 'None':
            raw += [f'raw/{f}.csv.gz' for f in meta['additional node files'].split(',')]
    split = [f"split/{meta['split']}/{part}.csv.gz" for part in ('train', 'valid', 'test')]
    return raw + [f"RELEASE_v{meta['version']}.txt"] + split


def _check_name(name: str) -> str:
    canonical = {n.lower(): n for n in (*OGB_NODE_DATASETS, *_UNSUPPORTED)}.get(name.lower())
    if canonical in _UNSUPPORTED:
        raise ValueError(f"{canonical} is not supported: {_UNSUPPORTED[canonical]}; choose one "
                         f"of {', '.join(OGB_NODE_DATASETS)}")
    if canonical is None:
        raise ValueError(f"unknown OGB node dataset {name!r}; choose one of "
                         f"{', '.join(OGB_NODE_DATASETS)}")
    return canonical


def load_ogb_node_dataset(name: str, root=None, download: bool = True) -> Tuple[Data, int, str]:
    """``(data, num_classes, name)`` for an OGB node dataset, split masks attached."""
    try:
        from ogb.nodeproppred import PygNodePropPredDataset
    except ImportError:
        raise ValueError("OGB datasets need the ogb package: pip install 'graphdim[ogb]' "
                         "(or pip install ogb)") from None
    name = _check_name(name)
    folder = name.replace('-', '_')
    allow_pyg_classes()
    with contextlib.redirect_stdout(sys.stderr):  # ogb reports progress on stdout
        dataset = load_with_pyg('ogb', folder, ogb_required_files(name),
                                lambda r: PygNodePropPredDataset(name=name, root=r), root,
                                download)
    data = dataset[0]
    split = dataset.get_idx_split()
    graph = Data(x=data.x.float(), edge_index=data.edge_index, y=data.y.view(-1).long(),
                 num_nodes=data.num_nodes)
    if name != 'ogbn-products':
        graph.edge_index = to_undirected(graph.edge_index, num_nodes=data.num_nodes)
    for mask_name, part in (('train_mask', 'train'), ('val_mask', 'valid'),
                            ('test_mask', 'test')):
        mask = torch.zeros(data.num_nodes, dtype=torch.bool)
        mask[split[part]] = True
        graph[mask_name] = mask
    return graph, dataset.num_classes, name


def ogb_accuracy(name: str, y_true: Tensor, y_pred: Tensor) -> float:
    """Accuracy by OGB's official ``Evaluator`` (labels and predicted classes, 1-D)."""
    from ogb.nodeproppred import Evaluator
    result = Evaluator(_check_name(name)).eval({'y_true': y_true.view(-1, 1).cpu(),
                                                'y_pred': y_pred.view(-1, 1).cpu()})
    return float(result['acc'])
