"""Graph encoders: stacks of PyG message-passing layers that give node (local) features."""
from typing import Optional

import torch
from torch import Tensor
from torch.nn import BatchNorm1d, Linear, ModuleList, Sequential

from torch_geometric.nn import GATConv, GCNConv, GINConv, SAGEConv

ENCODERS = ('gcn', 'sage', 'gin', 'gat')
ACTIVATIONS = ('prelu', 'relu', 'elu', 'identity')
# Only GCN's propagation takes a scalar weight per edge.
_USES_EDGE_WEIGHT = ('gcn',)


def _make_conv(kind: str, in_channels: int, out_channels: int, heads: int):
    if kind == 'gcn':
        return GCNConv(in_channels, out_channels)
    if kind == 'sage':
        return SAGEConv(in_channels, out_channels)
    if kind == 'gin':
        mlp = Sequential(Linear(in_channels, out_channels), torch.nn.ReLU(),
                         Linear(out_channels, out_channels))
        return GINConv(mlp)
    if out_channels % heads:
        raise ValueError(f"gat: hidden_channels ({out_channels}) must be divisible by "
                         f"heads ({heads})")
    return GATConv(in_channels, out_channels // heads, heads=heads)


def _make_activation(kind: str, channels: int) -> torch.nn.Module:
    if kind == 'prelu':
        return torch.nn.PReLU(channels)
    if kind == 'relu':
        return torch.nn.ReLU()
    if kind == 'elu':
        return torch.nn.ELU()
    return torch.nn.Identity()


class GraphEncoder(torch.nn.Module):
    r"""A stack of ``num_layers`` graph convolutions, each followed by an activation.

    The DGI default is one GCN layer of 512 units with PReLU:
    :math:`H = \mathrm{PReLU}(\hat D^{-1/2} \hat A \hat D^{-1/2} X W)`.

    Args:
        in_channels: input feature size.
        hidden_channels: width of every layer.
        num_layers: depth (any >= 1).
        conv: ``'gcn'``, ``'sage'`` (mean aggregation), ``'gin'`` (2-layer MLP) or ``'gat'``.
        activation: ``'prelu'`` (per channel), ``'relu'``, ``'elu'`` or ``'identity'``.
        heads: attention heads for ``'gat'`` (concatenated; ``hidden_channels`` divisible by it).
        batch_norm: batch normalisation after each activation (InfoGraph's GIN).
        concat_layers: return the concatenation of all layer outputs (InfoGraph), so the
            output has ``hidden_channels * num_layers`` channels.
    """
    def __init__(self, in_channels: int, hidden_channels: int = 512, num_layers: int = 1,
                 conv: str = 'gcn', activation: str = 'prelu', heads: int = 4,
                 batch_norm: bool = False, concat_layers: bool = False):
        super().__init__()
        if conv not in ENCODERS:
            raise ValueError(f"unknown encoder {conv!r}; choose one of {', '.join(ENCODERS)}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of "
                             f"{', '.join(ACTIVATIONS)}")
        if num_layers < 1 or hidden_channels < 1 or in_channels < 1:
            raise ValueError(f"in_channels, hidden_channels and num_layers must be >= 1; got "
                             f"{in_channels}, {hidden_channels}, {num_layers}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.conv = conv
        self.concat_layers = concat_layers
        self.out_channels = hidden_channels * (num_layers if concat_layers else 1)
        self.convs = ModuleList()
        self.activations = ModuleList()
        self.norms = ModuleList()
        for layer in range(num_layers):
            layer_in = in_channels if layer == 0 else hidden_channels
            self.convs.append(_make_conv(conv, layer_in, hidden_channels, heads))
            self.activations.append(_make_activation(activation, hidden_channels))
            if batch_norm:
                self.norms.append(BatchNorm1d(hidden_channels))
        self.reset_parameters()

    def reset_parameters(self):
        for module in [*self.convs, *self.activations, *self.norms]:
            if hasattr(module, 'reset_parameters'):
                module.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor] = None) -> Tensor:
        if edge_weight is not None and self.conv not in _USES_EDGE_WEIGHT:
            raise ValueError(f"encoder {self.conv!r} does not use edge weights; drop "
                             f"edge_weight or use the 'gcn' encoder")
        outputs = []
        for layer, (conv, act) in enumerate(zip(self.convs, self.activations)):
            if self.conv in _USES_EDGE_WEIGHT:
                x = conv(x, edge_index, edge_weight)
            else:
                x = conv(x, edge_index)
            x = act(x)
            if self.norms:
                x = self.norms[layer](x)
            outputs.append(x)
        return torch.cat(outputs, dim=-1) if self.concat_layers else x

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.conv}, {self.in_channels}, '
                f'{self.hidden_channels}, num_layers={self.num_layers})')
