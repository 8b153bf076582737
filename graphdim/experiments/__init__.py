"""Experiments: a config in, a summary dictionary out (train, freeze, probe, over seeds).

The CLI prints these summaries; benchmarks collect them.
"""
from .node import NodeConfig, build_node_model, run_node_experiment
from .graph import GraphConfig, build_graph_model, run_graph_experiment
from .image import ImageConfig, build_image_model, run_image_experiment

# Run kind (as config.json records it) -> (config class, model builder, the saved input-size
# entries the builder takes besides the config); graphdim.runs.load_model reads it.
KIND_BUILDERS = {
    'node': (NodeConfig, build_node_model, ('in_channels', )),
    'graph': (GraphConfig, build_graph_model, ('in_channels', )),
    'image': (ImageConfig, build_image_model, ('image_size', 'channels')),
}

__all__ = ['NodeConfig', 'build_node_model', 'run_node_experiment',
           'GraphConfig', 'build_graph_model', 'run_graph_experiment',
           'ImageConfig', 'build_image_model', 'run_image_experiment', 'KIND_BUILDERS']
