"""Graph encoders: stacks of graph convolutions that give node (local) features.

:class:`GraphEncoder` holds the one layer loop (:meth:`~GraphEncoder.encode`: conv over a
propagation, activation, batch norm, concatenation) that full-batch DGI, mini-batch training,
layer-wise inference and InfoGraph all run; the propagation (:mod:`graphdim.graph.propagation`)
says how each conv mixes neighbours.
"""
import numbers
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn import BatchNorm1d, Linear, ModuleList, Sequential

from torch_geometric.nn import GATConv, GCNConv, GINConv, SAGEConv

from ..runtime import available_memory_bytes
from .checks import shown
from .propagation import MessagePassing, Propagation

ENCODERS = ('gcn', 'sage', 'gin', 'gat')
ACTIVATIONS = ('prelu', 'relu', 'elu', 'identity')


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


class _PReLU(torch.autograd.Function):
    """``prelu(h, weight)`` with a hand-written backward (slope 1 where h > 0, else weight).

    Only ``h`` is kept for backward (``min(h, 0)`` is recomputed there), and the forward is one
    fused ``addcmul``: on PubMed's ``[19717, 512]`` views that is two fewer tensors of that
    size alive between forward and backward."""
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


def _activate(activation: torch.nn.Module, h: Tensor) -> Tensor:
    if isinstance(activation, torch.nn.PReLU):
        return _PReLU.apply(h, activation.weight)
    return activation(h)


class _PermuteRows(torch.autograd.Function):
    """``x[permutation]`` whose backward gathers with the inverse permutation."""
    @staticmethod
    def forward(ctx, x: Tensor, permutation: Tensor) -> Tensor:
        inverse = torch.empty_like(permutation)
        inverse[permutation] = torch.arange(permutation.numel(), device=permutation.device)
        ctx.inverse = inverse
        return x[permutation]

    @staticmethod
    def backward(ctx, grad: Tensor):
        return grad[ctx.inverse], None


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
        """PyG's call: every layer's own message passing over ``edge_index``."""
        return self.encode(x, MessagePassing(edge_index, edge_weight))

    def encode(self, x: Tensor, propagation: Propagation, transformed: bool = False) -> Tensor:
        """The layer loop over ``propagation`` (a :mod:`~graphdim.graph.propagation` backend).

        ``transformed``: ``x`` already is the first layer's :math:`XW` (see
        :meth:`encode_views`).
        """
        outputs = []
        for index in range(self.num_layers):
            x = self.layer(index, x, propagation, transformed and index == 0)
            outputs.append(x)
        return torch.cat(outputs, dim=-1) if self.concat_layers else x

    def layer(self, index: int, h: Tensor, propagation: Propagation,
              transformed: bool = False) -> Tensor:
        """Layer ``index``: conv (transform, propagate, bias), activation, batch norm."""
        h = propagation.convolve(self.convs[index], h, transformed)
        h = _activate(self.activations[index], h)
        return self.norms[index](h) if self.norms else h

    def encode_views(self, x: Tensor, propagation: Propagation,
                     permutation: Optional[Tensor] = None, column_mask: Optional[Tensor] = None,
                     mask_clean: bool = False) -> Tuple[Tensor, Optional[Tensor]]:
        """``encode(x)`` and, given ``permutation``, ``encode(x[permutation])`` (DGI's
        row-shuffled view). Where the propagation's first layer is linear-then-propagate
        (``propagation.shares_first_transform``), :math:`(PX)W = P(XW)`: the two views share
        one product :math:`XW`.

        ``column_mask`` :math:`m` (``[F]``) zeroes feature columns of the shuffled view,
        ``encode((x * m)[permutation])`` (GGD), and of the clean one too with ``mask_clean``;
        on a shared transform it is folded into the weights,
        :math:`X \\operatorname{diag}(m) W`."""
        if not propagation.shares_first_transform:
            masked = x if column_mask is None else x * column_mask.to(x.dtype)
            clean = self.encode(masked if mask_clean else x, propagation)
            return clean, None if permutation is None else self.encode(masked[permutation],
                                                                        propagation)
        masked = None if column_mask is None \
            else propagation.transform(self.convs[0], x, column_mask)
        first = masked if mask_clean and masked is not None \
            else propagation.transform(self.convs[0], x)
        clean = self.encode(first, propagation, transformed=True)
        if permutation is None:
            return clean, None
        return clean, self.encode(_PermuteRows.apply(first if masked is None else masked,
                                                     permutation), propagation,
                                  transformed=True)

    def sparse_blocker(self) -> Optional[str]:
        """Why a :class:`~graphdim.graph.propagation.SparseOperator` holding the graph's
        :math:`\\hat A` would not compute this encoder's function, or None where it would."""
        if self.conv != 'gcn':
            return f"encoder {self.conv!r} has no linear-then-propagate form"
        for conv in self.convs:
            if conv.improved or conv.add_self_loops is False or not conv.normalize \
                    or conv.flow != 'source_to_target':
                return ("a GCNConv with improved=True, add_self_loops=False, normalize=False "
                        "or flow='target_to_source' propagates with another matrix than "
                        "the cached one")
        return None

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.conv}, {self.in_channels}, '
                f'{self.hidden_channels}, num_layers={self.num_layers})')


def encoder_sparse_blocker(encoder: torch.nn.Module, fast_path: bool = True) -> Optional[str]:
    """Why a model's ``encoder`` cannot run over the cached sparse operator (``fast_path``
    off, not a :class:`GraphEncoder`, or :meth:`GraphEncoder.sparse_blocker`), or None."""
    if not fast_path:
        return 'fast_path=False'
    if not isinstance(encoder, GraphEncoder):
        return f"encoder {type(encoder).__name__} is not a graphdim GraphEncoder"
    return encoder.sparse_blocker()
