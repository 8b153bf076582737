"""Readouts: summarise node features into one global vector per graph."""
from typing import Optional

import torch
from torch import Tensor

from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

READOUTS = ('sigmoid_mean', 'mean', 'sum', 'max')
_POOL = {'sigmoid_mean': global_mean_pool, 'mean': global_mean_pool, 'sum': global_add_pool,
         'max': global_max_pool}


class Readout(torch.nn.Module):
    r"""Summary :math:`s = \mathcal{R}(H)` of node features ``z``.

    ``'sigmoid_mean'`` is DGI's :math:`\sigma(\frac{1}{N}\sum_i h_i)`; ``'mean'``, ``'sum'`` and
    ``'max'`` pool without a sigmoid (``'sum'`` is InfoGraph's). Without ``batch`` the whole
    input is one graph and the result is a vector ``[D]``; with a PyG ``batch`` vector it is one
    row per graph, ``[G, D]``. Extra positional and keyword arguments are accepted and ignored,
    so a ``Readout`` can stand wherever PyG's ``DeepGraphInfomax`` expects ``summary``.
    """
    def __init__(self, kind: str = 'sigmoid_mean'):
        super().__init__()
        if kind not in READOUTS:
            raise ValueError(f"unknown readout {kind!r}; choose one of {', '.join(READOUTS)}")
        self.kind = kind

    def forward(self, z: Tensor, *args, batch: Optional[Tensor] = None, **kwargs) -> Tensor:
        if batch is None:
            if self.kind == 'sum':
                summary = z.sum(dim=0)
            elif self.kind == 'max':
                summary = z.max(dim=0).values
            else:
                summary = z.mean(dim=0)
        else:
            summary = _POOL[self.kind](z, batch)
        return torch.sigmoid(summary) if self.kind == 'sigmoid_mean' else summary

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.kind!r})'
