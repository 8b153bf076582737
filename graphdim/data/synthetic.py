"""Seeded synthetic graphs for scale measurements: power-law degrees and planted classes.

``synthetic_graph(num_nodes, avg_degree)`` draws a Chung-Lu style graph: node weights follow a
power law, each undirected edge picks its first end by weight and its second end by weight,
from the first end's class with probability ``homophily`` (else from any class). Features are
a class centroid times ``feature_signal`` plus unit Gaussian noise, so embeddings that
capture structure and features can be probed.

Two named families (:func:`parse_synthetic_name`, and ``load_node_dataset``):

* ``synthetic:NODES:AVG_DEGREE[:FEATURES]``: the defaults (``feature_signal=1``,
  ``homophily=0.8``); the features alone nearly give the class away, so it measures size
  (speed, memory), not learning.
* ``synthetic-weak:NODES:AVG_DEGREE[:FEATURES]``: weak features and weak homophily
  (``feature_signal=WEAK_FEATURE_SIGNAL``, ``homophily=WEAK_HOMOPHILY``). A linear probe on the
  raw 128-d features of 8 classes is far from perfect (about 40-45% with 20,000 labelled
  nodes, less with fewer), while averaging over neighbourhoods (``Â^k X``, a GNN) recovers
  much more: the class is in the structure as much as in the features, so the graph tests
  learning, not only size. ``tests/test_synthetic.py`` checks that property;
  ``benchmarks/scale.py`` measures on it.

Everything is vectorised (inverse-CDF sampling) and memory-light: the edges are deduplicated
as one int64 key per directed edge, sorted in place, and written once into the final
``edge_index``; the features are noise with the centroids added in place, in row chunks.
2.4 x 10^6 nodes with 6 x 10^7 directed edges (average degree 25, 128 features) take about
20 seconds on two cores at a peak of 2.6 GiB (PyG's ``coalesce`` on stacked copies: 33 s and
5.9 GiB for the same graph); ``benchmarks/results/scale.json`` records each size's.
The same arguments and seed give the same graph. Sizes whose estimated memory
(:func:`estimated_bytes`) exceeds what the machine has available are refused before anything
is allocated.
"""
import re
from typing import Optional

import numpy as np
import torch
from torch_geometric.data import Data

from ..runtime import available_memory_bytes

SYNTHETIC_PATTERN = re.compile(
    r'^synthetic(?P<variant>-weak)?:(?P<nodes>\d+):(?P<degree>\d+(?:\.\d+)?)'
    r'(?::(?P<features>\d+))?$')

# synthetic-weak: features that alone probe at about 40-45% (8 classes, 128 features, 20,000
# labelled nodes) and an edge homophily of 0.4 + 0.6 / 8 = 0.475.
WEAK_FEATURE_SIGNAL = 0.1
WEAK_HOMOPHILY = 0.4

# Row chunk for adding the class centroids to the noise (bounds the temporary's size).
_FEATURE_CHUNK = 1 << 16


def estimated_bytes(num_nodes: int, avg_degree: float, num_features: int) -> int:
    """An upper estimate of :func:`synthetic_graph`'s peak memory: the float32 features, the
    per-node arrays, and about 64 bytes per sampled undirected edge while the edges are drawn
    and deduplicated (the float64 draws, the int64 keys of both directions, the final
    ``edge_index``). Measured peaks are below it (``benchmarks/scale.py`` records both)."""
    num_pairs = num_nodes * avg_degree / 2
    return int(4 * num_nodes * num_features + 48 * num_nodes + 64 * num_pairs)


def check_synthetic_size(num_nodes: int, avg_degree: float, num_features: int,
                         available: Optional[int] = None) -> None:
    """Refuse, before allocating, a graph whose :func:`estimated_bytes` exceed the memory
    available (``available`` bytes, default :func:`available_memory_bytes`), naming both."""
    if num_nodes >= 3_000_000_000:  # node pairs are int64 keys source * N + target
        raise ValueError(f"synthetic_graph supports fewer than 3,000,000,000 nodes; got "
                         f"{num_nodes:,}")
    need = estimated_bytes(num_nodes, avg_degree, num_features)
    available = available_memory_bytes() if available is None else available
    if available is not None and need > available:
        raise ValueError(
            f"a synthetic graph of {num_nodes:,} nodes, average degree {avg_degree:g} and "
            f"{num_features} features needs about {need / 2**30:,.1f} GiB to generate, more "
            f"than the {available / 2**30:,.1f} GiB of memory available (MemAvailable); "
            f"choose fewer nodes, a lower degree or fewer features")


def _sample_by_weight(cumulative: torch.Tensor, low: torch.Tensor,
                      high: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Indices drawn in proportion to weight, each from its own range of the cumulative sum."""
    u = torch.rand(low.shape, generator=generator, dtype=cumulative.dtype)
    u.mul_(high - low).add_(low)  # low + (high - low) * u, without its temporaries
    return torch.searchsorted(cumulative, u, right=True).clamp_(max=cumulative.numel() - 1)


def _unique_edges(source: torch.Tensor, target: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Both directions of each pair, self-loops and duplicates removed, sorted by (row, col):
    ``coalesce``'s result, from one int64 key ``row * N + col`` per directed edge sorted in
    place (no index permutation, no second copy of ``edge_index``)."""
    num_pairs = source.numel()
    keys = torch.empty(2 * num_pairs, dtype=torch.long)
    torch.mul(source, num_nodes, out=keys[:num_pairs]).add_(target)
    torch.mul(target, num_nodes, out=keys[num_pairs:]).add_(source)
    loops = source == target
    keys[:num_pairs].masked_fill_(loops, -1)  # self-loops sort first and are dropped
    keys[num_pairs:].masked_fill_(loops, -1)
    del loops
    array = keys.numpy()
    array.sort()  # in place
    array = array[np.searchsorted(array, 0):]  # a view past the self-loops
    keep = np.empty(array.size, dtype=bool)
    if array.size:
        keep[0] = True
        np.not_equal(array[1:], array[:-1], out=keep[1:])
    unique = torch.from_numpy(array[keep])
    del keys, array, keep
    edge_index = torch.empty(2, unique.numel(), dtype=torch.long)
    torch.div(unique, num_nodes, rounding_mode='floor', out=edge_index[0])
    torch.remainder(unique, num_nodes, out=edge_index[1])
    return edge_index


def synthetic_graph(num_nodes: int, avg_degree: float = 10.0, num_features: int = 128,
                    num_classes: int = 8, homophily: float = 0.8, exponent: float = 2.5,
                    feature_signal: float = 1.0, seed: int = 0) -> Data:
    """A seeded random graph with ``num_nodes`` nodes and about ``num_nodes * avg_degree``
    directed edges (both directions of every undirected edge; self-loops and duplicates
    removed, so a few percent fewer), ``num_features`` float32 features (class centroid
    times ``feature_signal`` plus unit Gaussian noise) and ``num_classes`` planted classes in
    ``y``. Each edge joins two nodes of one class with probability ``homophily`` (plus the
    chance ``1 / num_classes`` of the rest); node weights, and so degrees, follow a power law
    with tail ``exponent``. See the module docstring for the named families (the
    weak-feature setting: ``feature_signal=0.1, homophily=0.4``). A size whose estimated
    memory exceeds the memory available is refused with a ValueError before allocating.
    """
    if num_nodes < 2 or avg_degree <= 0 or num_features < 1 or num_classes < 1:
        raise ValueError(f"synthetic_graph needs num_nodes >= 2, avg_degree > 0, "
                         f"num_features >= 1 and num_classes >= 1; got {num_nodes}, "
                         f"{avg_degree}, {num_features}, {num_classes}")
    if not 0.0 <= homophily <= 1.0 or exponent <= 1.0:
        raise ValueError(f"synthetic_graph needs 0 <= homophily <= 1 and exponent > 1; got "
                         f"homophily {homophily}, exponent {exponent}")
    check_synthetic_size(num_nodes, avg_degree, num_features)
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(num_classes, (num_nodes, ), generator=generator)
    # Power-law node weights (Pareto with tail exponent `exponent`): a few hubs, many leaves.
    weight = torch.rand(num_nodes, generator=generator, dtype=torch.float64)
    weight = (1.0 - weight).pow_(-1.0 / (exponent - 1.0))
    # Order nodes by class so each class is one contiguous range of the cumulative weights.
    order = torch.argsort(y, stable=True)
    cumulative = torch.cumsum(weight[order], dim=0)
    del weight
    counts = torch.bincount(y, minlength=num_classes)
    ends = torch.cumsum(counts, dim=0)
    class_high = cumulative[(ends - 1).clamp(min=0)]
    class_low = torch.cat([cumulative.new_zeros(1), class_high[:-1]])

    num_pairs = max(1, int(round(num_nodes * avg_degree / 2)))
    total = cumulative[-1].expand(num_pairs)
    zero = cumulative.new_zeros(1).expand(num_pairs)
    source = order[_sample_by_weight(cumulative, zero, total, generator)]
    same_class = torch.rand(num_pairs, generator=generator) < homophily
    source_class = y[source]
    low = torch.where(same_class, class_low[source_class], zero)
    high = torch.where(same_class, class_high[source_class], total)
    del same_class, source_class
    target = order[_sample_by_weight(cumulative, low, high, generator)]
    del low, high, order, cumulative
    edge_index = _unique_edges(source, target, num_nodes)
    del source, target

    centroids = torch.randn(num_classes, num_features, generator=generator)
    x = torch.randn(num_nodes, num_features, generator=generator)
    scaled = feature_signal * centroids
    for start in range(0, num_nodes, _FEATURE_CHUNK):  # x += signal * centroid[y], by rows
        x[start:start + _FEATURE_CHUNK].add_(scaled[y[start:start + _FEATURE_CHUNK]])
    return Data(x=x, edge_index=edge_index, y=y)


def parse_synthetic_name(name: str) -> Optional[dict]:
    """``'synthetic:NODES:AVG_DEGREE[:FEATURES]'`` or ``'synthetic-weak:...'`` (weak features
    and homophily, see the module docstring) -> keyword arguments of :func:`synthetic_graph`,
    else None."""
    match = SYNTHETIC_PATTERN.match(name.lower())
    if match is None:
        return None
    kwargs = {'num_nodes': int(match['nodes']), 'avg_degree': float(match['degree'])}
    if match['features']:
        kwargs['num_features'] = int(match['features'])
    if match['variant']:
        kwargs.update(feature_signal=WEAK_FEATURE_SIGNAL, homophily=WEAK_HOMOPHILY)
    return kwargs
