"""graphdim: Deep InfoMax for graphs (and images) on PyTorch and PyTorch Geometric."""
__version__ = '0.1.0'

import os as _os
import sys as _sys

# The `graphdim` command (also `python -m graphdim`) backs large CPU tensors with transparent
# huge pages (PyTorch's THP_MEM_ALLOC_ENABLE): on PubMed the CLI keeps its epoch time with a
# third less peak memory than without (benchmarks/cli_speed.py). PyTorch reads the variable at
# its first allocation, so it is set here, before anything imports torch, and only for the
# command: a script that imports graphdim is left as it is. A value the user set wins, and
# GRAPHDIM_CPU_ALLOCATOR=default turns it off with the rest of the CLI's memory tuning.
if (_os.path.splitext(_os.path.basename((_sys.argv or [''])[0]))[0] in ('graphdim', '-m')
        and _os.environ.get('GRAPHDIM_CPU_ALLOCATOR', '') != 'default'):
    _os.environ.setdefault('THP_MEM_ALLOC_ENABLE', '1')
del _os, _sys

from .estimators import (MEASURES, batch_pos_mask, local_global_loss, mi_loss,
                         negative_expectation, positive_expectation, score_matrix_loss)
from .graph.checks import GraphInputError, check_graph
from .graph.corruptions import EdgeDrop, FeatureMask, RowShuffle, make_corruption
from .graph.encoders import GraphEncoder
from .graph.node import DeepGraphInfomax
from .graph.readouts import Readout
from .data import (DatasetNotFoundError, NodeDataset, from_networkx, load_node_dataset,
                   prepare_graph, read_edge_list, read_graph_file)
from .eval import ProbeResult, Split, linear_probe, public_split, random_split
from .train import FitResult, embed, fit
from .experiments import NodeConfig, build_node_model, run_node_experiment
from .prior import PriorMatching
from .runtime import seed_everything, tune_cpu_allocator
from .runs import RunFolder, load_model, save_embeddings
from .presets import PRESETS
from .plots import plot_run
from .graph.graph_level import InfoGraph
from .data import GraphDataset, load_graph_dataset
from .eval import cross_validate, nested_cross_validate, ogb_probe
from .experiments import GraphConfig, build_graph_model, run_graph_experiment
from .critics import EncodeAndDotCritic
from .data.images import ImageBatches, ImageDataset, load_image_dataset
from .image.encoders import ConvEncoder
from .image.dim import ImageDIM
from .eval import holdout_split, image_features, mlp_probe, raw_pixels
from .experiments.image import ImageConfig, run_image_experiment
from .loaders import NeighborhoodLoader, node_loader
from .graph.minibatch import MiniBatchDGI, layerwise_embed
from .graph.diffusion import DiffusionView, diffusion_matrix
from .graph.multiview import MVGRL
from .graph.multiview_graph import GraphMVGRL

__all__ = [
    'MEASURES', 'positive_expectation', 'negative_expectation', 'mi_loss', 'score_matrix_loss',
    'local_global_loss', 'batch_pos_mask',
    'GraphEncoder', 'Readout', 'RowShuffle', 'EdgeDrop', 'FeatureMask', 'make_corruption',
    'DeepGraphInfomax', 'GraphInputError', 'check_graph',
    'DatasetNotFoundError', 'NodeDataset', 'load_node_dataset',
    'Split', 'ProbeResult', 'linear_probe', 'public_split', 'random_split',
    'FitResult', 'fit', 'embed', 'NodeConfig', 'build_node_model', 'run_node_experiment',
    'seed_everything', 'tune_cpu_allocator', 'PriorMatching',
    'from_networkx', 'read_edge_list', 'read_graph_file', 'prepare_graph', 'load_model',
    'save_embeddings', 'plot_run', 'PRESETS', 'RunFolder',
    'EncodeAndDotCritic', 'ImageBatches', 'ImageDataset', 'load_image_dataset', 'ConvEncoder',
    'ImageDIM', 'holdout_split', 'image_features', 'mlp_probe', 'raw_pixels', 'ImageConfig',
    'run_image_experiment',
    'NeighborhoodLoader', 'node_loader', 'MiniBatchDGI', 'layerwise_embed',
]
__all__ += ['InfoGraph', 'GraphDataset', 'load_graph_dataset', 'cross_validate', 'ogb_probe',
            'GraphConfig', 'build_graph_model', 'run_graph_experiment']
__all__ += ['nested_cross_validate', 'MVGRL', 'GraphMVGRL', 'DiffusionView', 'diffusion_matrix']
