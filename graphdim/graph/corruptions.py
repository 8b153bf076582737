"""Corruptions: build the negative view of a graph for node-level DIM.

Each corruption is called like an encoder, ``corruption(x, edge_index[, edge_weight])``, and
returns the corrupted arguments in the same order, as PyG's ``DeepGraphInfomax`` expects.
They draw from torch's global generator, so ``torch.manual_seed`` fixes them.
"""
from typing import Optional

import torch
from torch import Tensor

CORRUPTIONS = ('row_shuffle', 'edge_drop', 'feature_mask')


def _check_probability(p: float) -> float:
    if not 0.0 <= p < 1.0:
        raise ValueError(f"corruption probability must be in [0, 1); got {p}")
    return p


def _return(x, edge_index, edge_weight):
    return (x, edge_index) if edge_weight is None else (x, edge_index, edge_weight)


class RowShuffle(torch.nn.Module):
    """DGI's corruption: permute the rows of ``X`` (nodes swap features), keep the graph."""
    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None):
        return _return(x[self.permutation(x.size(0), x.device)], edge_index, edge_weight)

    @staticmethod
    def permutation(num_nodes: int, device) -> Tensor:
        """The random row order (the fast path applies it after the feature transform)."""
        return torch.randperm(num_nodes, device=device)


class EdgeDrop(torch.nn.Module):
    """Drop each edge independently with probability ``p`` (and its weight)."""
    def __init__(self, p: float = 0.2):
        super().__init__()
        self.p = _check_probability(p)

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None):
        keep = torch.rand(edge_index.size(1), device=edge_index.device) >= self.p
        return _return(x, edge_index[:, keep], None if edge_weight is None else edge_weight[keep])

    def extra_repr(self) -> str:
        return f'p={self.p}'


class FeatureMask(torch.nn.Module):
    """Zero feature columns, the same columns for every node: each with probability ``p``
    (GRACE), or with ``exact=True`` exactly ``int(p * F)`` of the ``F`` columns (GGD)."""
    def __init__(self, p: float = 0.2, exact: bool = False):
        super().__init__()
        self.p = _check_probability(p)
        self.exact = exact

    def keep(self, num_features: int, device=None) -> Tensor:
        """The random columns to keep, a bool ``[F]`` (the fast path folds it into the
        weights: :math:`(X \\operatorname{diag}(m)) W = X (\\operatorname{diag}(m) W)`)."""
        if not self.exact:
            return torch.rand(num_features, device=device) >= self.p
        keep = torch.ones(num_features, dtype=torch.bool, device=device)
        keep[torch.randperm(num_features, device=device)[:int(self.p * num_features)]] = False
        return keep

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None):
        keep = self.keep(x.size(1), x.device)
        return _return(x * keep.to(x.dtype), edge_index, edge_weight)

    def extra_repr(self) -> str:
        return f'p={self.p}' + (', exact=True' if self.exact else '')


def make_corruption(kind: str, p: float = 0.2) -> torch.nn.Module:
    """A corruption by name: ``'row_shuffle'`` (DGI), ``'edge_drop'`` or ``'feature_mask'``."""
    if kind == 'row_shuffle':
        return RowShuffle()
    if kind == 'edge_drop':
        return EdgeDrop(p)
    if kind == 'feature_mask':
        return FeatureMask(p)
    raise ValueError(f"unknown corruption {kind!r}; choose one of {', '.join(CORRUPTIONS)}")
