"""graphdim: Deep InfoMax for graphs (and images) on PyTorch and PyTorch Geometric."""
from ._version import __version__

import os as _os
import sys as _sys

# As the command, Ctrl-C while the libraries below load exits with one line (exit 130), not
# an import traceback; the command takes Ctrl-C over once it runs (graphdim._startup).
if _os.path.splitext(_os.path.basename((_sys.argv or [''])[0]))[0] in ('graphdim', '-m'):
    from ._startup import install as _install_startup_interrupt
    _install_startup_interrupt()
    del _install_startup_interrupt
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

# Losses: the MI estimators and the critics they score.
from .estimators import (MEASURES, batch_pos_mask, local_global_loss, mi_loss,
                         negative_expectation, positive_expectation, score_matrix_loss)
from .critics import EncodeAndDotCritic
from .prior import PriorMatching
# Graph building blocks, then the models (each registered in graphdim.registry).
from .graph.checks import GraphInputError, check_graph
from .graph.corruptions import EdgeDrop, FeatureMask, RowShuffle, make_corruption
from .graph.encoders import GraphEncoder
from .graph.readouts import Readout
from .graph.diffusion import DiffusionView, diffusion_matrix
from .graph.models.dgi import DeepGraphInfomax
from .graph.models.mvgrl import MVGRL
from .graph.models.infograph import InfoGraph
from .graph.models.mvgrl_graph import GraphMVGRL
from .graph.models.ggd import GGD
from .graph.reinforcement import reinforce
from .graph.minibatch import MiniBatchDGI, layerwise_embed
from .registry import ModelEntry, register_model
from .image.encoders import ConvEncoder
from .image.dim import ImageDIM
# Data, training, evaluation.
from .data import (DatasetNotFoundError, GraphDataset, NodeDataset, from_networkx,
                   load_graph_dataset, load_node_dataset, prepare_graph, read_edge_list,
                   read_graph_file)
from .data.images import ImageBatches, ImageDataset, load_image_dataset
from .loaders import NeighborhoodLoader, node_loader
from .train import FitResult, embed, fit
from .eval import (ProbeResult, Split, cross_validate, holdout_split, image_features,
                   linear_probe, mlp_probe, nested_cross_validate, ogb_probe, public_split,
                   random_split, raw_pixels)
from .eval import ReinforcedProbe, choose_hops
# Runs: configs, experiments, run folders, presets, plots.
from .experiments import (GraphConfig, ImageConfig, NodeConfig, build_graph_model,
                          build_node_model, load_model, run_graph_experiment,
                          run_image_experiment, run_node_experiment)
from .runs import RunFolder
from .export import save_embeddings
from .runtime import seed_everything, tune_cpu_allocator
from .presets import PRESETS
from .plots import plot_run

__all__ = [
    'MEASURES', 'positive_expectation', 'negative_expectation', 'mi_loss', 'score_matrix_loss',
    'local_global_loss', 'batch_pos_mask', 'EncodeAndDotCritic', 'PriorMatching',
    'GraphInputError', 'check_graph', 'RowShuffle', 'EdgeDrop', 'FeatureMask',
    'make_corruption', 'GraphEncoder', 'Readout', 'DiffusionView', 'diffusion_matrix',
    'DeepGraphInfomax', 'MVGRL', 'InfoGraph', 'GraphMVGRL', 'MiniBatchDGI', 'layerwise_embed',
    'ModelEntry', 'register_model', 'ConvEncoder', 'ImageDIM',
    'DatasetNotFoundError', 'GraphDataset', 'NodeDataset', 'from_networkx',
    'load_graph_dataset', 'load_node_dataset', 'prepare_graph', 'read_edge_list',
    'read_graph_file', 'ImageBatches', 'ImageDataset', 'load_image_dataset',
    'NeighborhoodLoader', 'node_loader', 'FitResult', 'embed', 'fit',
    'ProbeResult', 'Split', 'cross_validate', 'holdout_split', 'image_features',
    'linear_probe', 'mlp_probe', 'nested_cross_validate', 'ogb_probe', 'public_split',
    'random_split', 'raw_pixels',
    'GraphConfig', 'ImageConfig', 'NodeConfig', 'build_graph_model', 'build_node_model',
    'load_model', 'run_graph_experiment', 'run_image_experiment', 'run_node_experiment',
    'RunFolder', 'save_embeddings', 'seed_everything', 'tune_cpu_allocator', 'PRESETS',
    'plot_run',
]
__all__ += ['GGD', 'reinforce', 'choose_hops', 'ReinforcedProbe']
