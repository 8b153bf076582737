"""Experiments: a config in, a summary dictionary out (train, freeze, probe, over seeds).

The CLI prints these summaries; benchmarks collect them.
"""
from .node import NodeConfig, build_node_model, run_node_experiment
from .graph import GraphConfig, build_graph_model, run_graph_experiment

__all__ = ['NodeConfig', 'build_node_model', 'run_node_experiment']
__all__ += ['GraphConfig', 'build_graph_model', 'run_graph_experiment']
