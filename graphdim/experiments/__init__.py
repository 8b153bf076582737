"""Experiments: a config in, a summary dictionary out (train, freeze, probe, over seeds).

Every level runs the one skeleton (:mod:`graphdim.experiments.skeleton`); the CLI prints the
summaries, benchmarks collect them.
"""
from .node import NodeConfig, build_node_model, run_node_experiment
from .graph import GraphConfig, build_graph_model, run_graph_experiment
from .image import ImageConfig, build_image_model, run_image_experiment
from .reload import KIND_BUILDERS, load_model
from ..registry import declare_config_fields

# What a model's registry entry may list as the options it reads: its level's config fields.
declare_config_fields('node', NodeConfig.field_names())
declare_config_fields('graph', GraphConfig.field_names())

__all__ = ['NodeConfig', 'build_node_model', 'run_node_experiment',
           'GraphConfig', 'build_graph_model', 'run_graph_experiment',
           'ImageConfig', 'build_image_model', 'run_image_experiment', 'KIND_BUILDERS',
           'load_model']
