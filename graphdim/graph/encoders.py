"""Graph encoders: stacks of graph convolutions that give node (local) features.

:class:`GraphEncoder` holds the one layer loop (conv, activation, batch norm, concatenation)
that full-batch training, mini-batches, layer-wise inference and InfoGraph all run, called
like any PyG module, ``encoder(x, edge_index[, edge_weight])``. Its GCN layers are
:class:`~graphdim.graph.propagation.CachedGCNConv` (PyG's ``GCNConv`` with graphdim's fast
path inside), so the encoder takes whatever they take: corrupted features
(:mod:`graphdim.graph.corruptions`), a :class:`~graphdim.graph.propagation.PropagationMatrix`
in place of ``edge_index``.
"""
import numbers
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn import BatchNorm1d, Linear, ModuleList, Sequential

from torch_geometric.nn import GATConv, GINConv, SAGEConv

from ..runtime import available_memory_bytes
from .checks import shown
from .propagation import CachedGCNConv, GraphCache, PropagationMatrix, check_edge_weight


class _PReLU(torch.autograd.Function):
    """``prelu(h, weight)`` with a hand-written backward (slope 1 where h > 0, else weight),
    one fused ``addcmul`` forward keeping only ``h``. Measured on Cora's DGI step (512
    units, one thread, CPU time, medians of 40): torch's prelu 13.8 ms forward and 33.9 ms
    backward, this one 16.0 ms and 27.9 ms: 4 ms (8%) less per step."""
    @staticmethod
    def forward(ctx, h: Tensor, weight: Tensor) -> Tensor:
        ctx.save_for_backward(h, weight)
        return torch.addcmul(h, h.clamp(max=0), weight - 1)

    @staticmethod
    def backward(ctx, grad: Tensor):
        h, weight = ctx.saved_tensors
        grad_weight = h.clamp(max=0).mul_(grad).sum(dim=0)
        if weight.numel() == 1:
            grad_weight = grad_weight.sum().reshape(weight.shape)
        # (torch.where is 4x slower here than building the slope on a fresh float tensor)
        slope = (h > 0).to(grad.dtype).mul_(1 - weight).add_(weight)
        return slope.mul_(grad), grad_weight


class PReLU(torch.nn.PReLU):
    """torch's ``PReLU`` (the same parameter and function) with the faster backward above:
    the activation after each GCN layer of graphdim's encoders."""
    def forward(self, h: Tensor) -> Tensor:
        return _PReLU.apply(h, self.weight)


ENCODERS = ('gcn', 'sage', 'gin', 'gat')
ACTIVATIONS = ('prelu', 'relu', 'elu', 'identity')


def _make_conv(kind: str, in_channels: int, out_channels: int, heads: int,
               cache: GraphCache):
    if kind == 'gcn':
        return CachedGCNConv(in_channels, out_channels, cache=cache)
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
        return PReLU(channels)
    if kind == 'relu':
        return torch.nn.ReLU()
    if kind == 'elu':
        return torch.nn.ELU()
    return torch.nn.Identity()


def _checked_sizes(in_channels, hidden_channels, num_layers, heads) -> Tuple[int, ...]:
    """The encoder's sizes as ints, or a ValueError naming the argument: integers >= 1
    (8.5 is no width), and weights that fit in the memory available (2**40 channels would
    fail inside the allocator)."""
    sizes = {'in_channels': in_channels, 'hidden_channels': hidden_channels,
             'num_layers': num_layers, 'heads': heads}
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1; got {shown(value)}")
    in_channels, hidden, layers = int(in_channels), int(hidden_channels), int(num_layers)
    weight_bytes = 4.0 * hidden * (in_channels + (layers - 1) * hidden)  # float32
    available = available_memory_bytes()
    if available is not None and weight_bytes > available:
        raise ValueError(f"hidden_channels={hidden} (with in_channels={in_channels}, "
                         f"num_layers={layers}) needs {weight_bytes / 2 ** 30:,.1f} GiB of "
                         f"weights, more than the {available / 2 ** 30:,.1f} GiB of memory "
                         f"available; lower hidden_channels")
    return in_channels, hidden, layers, int(heads)


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
        last_activation: ``False``: no activation after the last layer, ``activation``
            between layers only (GraphACL's authors' GCN).
    """
    def __init__(self, in_channels: int, hidden_channels: int = 512, num_layers: int = 1,
                 conv: str = 'gcn', activation: str = 'prelu', heads: int = 4,
                 batch_norm: bool = False, concat_layers: bool = False,
                 last_activation: bool = True):
        super().__init__()
        if conv not in ENCODERS:
            raise ValueError(f"unknown encoder {conv!r}; choose one of {', '.join(ENCODERS)}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of "
                             f"{', '.join(ACTIVATIONS)}")
        in_channels, hidden_channels, num_layers, heads = _checked_sizes(
            in_channels, hidden_channels, num_layers, heads)
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.conv = conv
        self.concat_layers = concat_layers
        self.out_channels = hidden_channels * (num_layers if concat_layers else 1)
        self.convs = ModuleList()
        self.activations = ModuleList()
        self.norms = ModuleList()
        cache = GraphCache()  # the layers propagate over the same graph: one matrix each
        for layer in range(num_layers):
            layer_in = in_channels if layer == 0 else hidden_channels
            self.convs.append(_make_conv(conv, layer_in, hidden_channels, heads, cache))
            last = layer == num_layers - 1
            self.activations.append(_make_activation(
                activation if last_activation or not last else 'identity', hidden_channels))
            if batch_norm:
                self.norms.append(BatchNorm1d(hidden_channels))
        self.reset_parameters()

    def reset_parameters(self):
        for module in [*self.convs, *self.activations, *self.norms]:
            if hasattr(module, 'reset_parameters'):
                module.reset_parameters()

    def forward(self, x: Tensor, edge_index, edge_weight: Optional[Tensor] = None) -> Tensor:
        """Node features ``[N, out_channels]`` of the graph ``edge_index`` (``[2, E]``, or a
        :class:`~graphdim.graph.propagation.PropagationMatrix` for GCN layers)."""
        outputs = []
        for index in range(self.num_layers):
            x = self.layer(index, x, edge_index, edge_weight)
            outputs.append(x)
        return torch.cat(outputs, dim=-1) if self.concat_layers else x

    def layer(self, index: int, h: Tensor, edge_index,
              edge_weight: Optional[Tensor] = None) -> Tensor:
        """Layer ``index``: conv, activation, batch norm."""
        conv = self.convs[index]
        if isinstance(edge_index, PropagationMatrix) and not isinstance(conv, CachedGCNConv):
            edge_index, edge_weight = edge_index.edge_index, edge_index.edge_weight
        check_edge_weight(conv, edge_weight)
        h = conv(h, edge_index) if edge_weight is None else conv(h, edge_index, edge_weight)
        h = self.activations[index](h)
        return self.norms[index](h) if self.norms else h

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.conv}, {self.in_channels}, '
                f'{self.hidden_channels}, num_layers={self.num_layers})')
