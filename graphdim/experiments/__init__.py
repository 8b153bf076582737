"""Experiments: a config in, a summary dictionary out (train, freeze, probe, over seeds).

The CLI prints these summaries; benchmarks collect them.
"""
from .node import NodeConfig, build_node_model, run_node_experiment
from .graph import GraphConfig, build_graph_model, run_graph_experiment
from .image import ImageConfig, build_image_model, run_image_experiment

__all__ = ['NodeConfig', 'build_node_model', 'run_node_experiment',
           'GraphConfig', 'build_graph_model', 'run_graph_experiment',
           'ImageConfig', 'build_image_model', 'run_image_experiment']
