"""Seeded synthetic graphs for scale measurements: power-law degrees and planted classes.

``synthetic_graph(num_nodes, avg_degree)`` draws a Chung-Lu style graph: node weights follow a
power law, each undirected edge picks its first end by weight and its second end by weight,
from the first end's class with probability ``homophily`` (else from any class). Features are
a class centroid plus Gaussian noise, so embeddings that capture structure and features can
be probed. Everything is vectorised (inverse-CDF sampling), so 10^6 nodes and 10^7 edges take
seconds; the same arguments and seed give the same graph.
"""
import re
from typing import Optional

import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, remove_self_loops

SYNTHETIC_PATTERN = re.compile(r'^synthetic:(\d+):(\d+(?:\.\d+)?)(?::(\d+))?$')


def _sample_by_weight(cumulative: torch.Tensor, low: torch.Tensor,
                      high: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Indices drawn in proportion to weight, each from its own range of the cumulative sum."""
    u = low + (high - low) * torch.rand(low.shape, generator=generator, dtype=cumulative.dtype)
    return torch.searchsorted(cumulative, u, right=True).clamp_(max=cumulative.numel() - 1)


def synthetic_graph(num_nodes: int, avg_degree: float = 10.0, num_features: int = 128,
                    num_classes: int = 8, homophily: float = 0.8, exponent: float = 2.5,
                    feature_signal: float = 1.0, seed: int = 0) -> Data:
    """A seeded random graph with ``num_nodes`` nodes and about ``num_nodes * avg_degree``
    directed edges (both directions of every undirected edge; self-loops and duplicates
    removed), ``num_features`` float features and ``num_classes`` planted classes in ``y``.
    """
    if num_nodes < 2 or avg_degree <= 0 or num_features < 1 or num_classes < 1:
        raise ValueError(f"synthetic_graph needs num_nodes >= 2, avg_degree > 0, "
                         f"num_features >= 1 and num_classes >= 1; got {num_nodes}, "
                         f"{avg_degree}, {num_features}, {num_classes}")
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(num_classes, (num_nodes, ), generator=generator)
    # Power-law node weights (Pareto with tail exponent `exponent`): a few hubs, many leaves.
    weight = torch.rand(num_nodes, generator=generator, dtype=torch.float64)
    weight = (1.0 - weight).pow(-1.0 / (exponent - 1.0))
    # Order nodes by class so each class is one contiguous range of the cumulative weights.
    order = torch.argsort(y, stable=True)
    cumulative = torch.cumsum(weight[order], dim=0)
    counts = torch.bincount(y, minlength=num_classes)
    ends = torch.cumsum(counts, dim=0)
    class_high = cumulative[(ends - 1).clamp(min=0)]
    class_low = torch.cat([cumulative.new_zeros(1), class_high[:-1]])

    num_pairs = max(1, int(round(num_nodes * avg_degree / 2)))
    total = cumulative[-1].expand(num_pairs)
    zero = torch.zeros(num_pairs, dtype=torch.float64)
    source = order[_sample_by_weight(cumulative, zero, total, generator)]
    same_class = torch.rand(num_pairs, generator=generator) < homophily
    low = torch.where(same_class, class_low[y[source]], zero)
    high = torch.where(same_class, class_high[y[source]], total)
    target = order[_sample_by_weight(cumulative, low, high, generator)]

    edge_index = torch.stack([torch.cat([source, target]), torch.cat([target, source])])
    edge_index, _ = remove_self_loops(edge_index)
    edge_index = coalesce(edge_index, num_nodes=num_nodes)

    centroids = torch.randn(num_classes, num_features, generator=generator)
    x = feature_signal * centroids[y] + torch.randn(num_nodes, num_features,
                                                    generator=generator)
    return Data(x=x, edge_index=edge_index, y=y)


def parse_synthetic_name(name: str) -> Optional[dict]:
    """``'synthetic:NODES:AVG_DEGREE[:FEATURES]'`` -> keyword arguments, else None."""
    match = SYNTHETIC_PATTERN.match(name.lower())
    if match is None:
        return None
    nodes, degree, features = match.groups()
    kwargs = {'num_nodes': int(nodes), 'avg_degree': float(degree)}
    if features:
        kwargs['num_features'] = int(features)
    return kwargs
