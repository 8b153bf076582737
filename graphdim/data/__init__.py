"""Datasets by name. Where data is read from and cached is decided in :mod:`.roots` alone."""
from .nodes import NODE_DATASETS, NodeDataset, karate_club, load_node_dataset, row_normalize
from .custom import from_networkx, prepare_graph, read_edge_list, read_graph_file
from .graphs import (OGB_DATASETS, TU_DATASETS, GraphDataset, degree_features,
                     load_graph_dataset)
from .synthetic import parse_synthetic_name, synthetic_graph
from .roots import (ENV_CACHE, ENV_ROOT, DatasetNotFoundError, cache_dir, load_with_pyg,
                    prepare_dataset_dir, resolve_root)

__all__ = ['NODE_DATASETS', 'NodeDataset', 'karate_club', 'load_node_dataset', 'row_normalize',
           'ENV_CACHE', 'ENV_ROOT', 'DatasetNotFoundError', 'cache_dir', 'load_with_pyg',
           'prepare_dataset_dir', 'resolve_root', 'synthetic_graph', 'parse_synthetic_name',
           'from_networkx', 'prepare_graph', 'read_edge_list', 'read_graph_file']
__all__ += ['GraphDataset', 'load_graph_dataset', 'TU_DATASETS', 'OGB_DATASETS', 'degree_features']
