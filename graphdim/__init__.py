"""graphdim: Deep InfoMax for graphs (and images) on PyTorch and PyTorch Geometric.

Every public name is imported on first use (PEP 562): ``import graphdim`` loads neither torch
nor PyG, so the command answers ``--help`` at once, and ``from graphdim import fit`` (or
``graphdim.fit``) loads what ``fit`` needs. Importing graphdim changes nothing of the process:
the ``graphdim`` command sets up its own (:mod:`graphdim._startup`).
"""
import importlib as _importlib

from ._version import __version__

# The submodule that defines each public name, in the order of the API reference.
_PUBLIC = {
    # Losses: the MI estimators and the critics they score.
    '.estimators': ('MEASURES', 'positive_expectation', 'negative_expectation', 'mi_loss',
                    'score_matrix_loss', 'local_global_loss', 'batch_pos_mask'),
    '.critics': ('EncodeAndDotCritic', ),
    '.prior': ('PriorMatching', ),
    # Graph building blocks, then the models (each registered in graphdim.registry).
    '.graph.checks': ('GraphInputError', 'check_graph'),
    '.graph.corruptions': ('RowShuffle', 'EdgeDrop', 'FeatureMask', 'make_corruption'),
    '.graph.encoders': ('GraphEncoder', ),
    '.graph.readouts': ('Readout', ),
    '.graph.diffusion': ('DiffusionView', 'diffusion_matrix'),
    '.graph.models.dgi': ('DeepGraphInfomax', ),
    '.graph.models.mvgrl': ('MVGRL', ),
    '.graph.models.infograph': ('InfoGraph', ),
    '.graph.models.mvgrl_graph': ('GraphMVGRL', ),
    '.graph.models.ggd': ('GGD', ),
    '.graph.models.graphacl': ('GraphACL', ),
    '.graph.reinforcement': ('reinforce', ),
    '.graph.minibatch': ('MiniBatchDGI', 'layerwise_embed'),
    '.registry': ('ModelEntry', 'register_model', 'option'),
    '.image.encoders': ('ConvEncoder', ),
    '.image.dim': ('ImageDIM', ),
    # Data, training, evaluation.
    '.data': ('DatasetNotFoundError', 'GraphDataset', 'NodeDataset', 'from_networkx',
              'load_graph_dataset', 'load_node_dataset', 'prepare_graph', 'read_edge_list',
              'read_graph_file'),
    '.data.images': ('ImageBatches', 'ImageDataset', 'load_image_dataset'),
    '.loaders': ('NeighborhoodLoader', 'node_loader'),
    '.train': ('FitResult', 'embed', 'fit'),
    '.eval': ('AdamSchedule', 'ProbeResult', 'Split', 'cross_validate', 'holdout_split',
              'image_features', 'linear_probe', 'mlp_probe', 'nested_cross_validate', 'ogb_probe',
              'public_split', 'random_split', 'raw_pixels', 'ReinforcedProbe', 'choose_hops'),
    # Runs: configs, experiments, run folders, presets, plots.
    '.experiments': ('GraphConfig', 'ImageConfig', 'NodeConfig', 'build_graph_model',
                     'build_node_model', 'load_model', 'run_graph_experiment',
                     'run_image_experiment', 'run_node_experiment'),
    '.runs': ('RunFolder', ),
    '.export': ('save_embeddings', ),
    '.runtime': ('seed_everything', 'tune_cpu_allocator'),
    '.presets': ('PRESETS', ),
    '.plots': ('plot_run', ),
}
_SOURCE = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = list(_SOURCE)


def __getattr__(name: str):
    """A public name, imported from its submodule on first use (and kept); a submodule
    (``graphdim.registry``) by its own name."""
    if name in _SOURCE:
        value = getattr(_importlib.import_module(_SOURCE[name], __name__), name)
        globals()[name] = value
        return value
    if not name.startswith('_'):
        try:
            return _importlib.import_module(f'{__name__}.{name}')
        except ModuleNotFoundError as error:
            if error.name != f'{__name__}.{name}':
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
