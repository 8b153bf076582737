r"""Graph-level multi-view DIM (MVGRL): InfoGraph's batch form over two structural views."""
from dataclasses import replace
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Module, ModuleList

from ...critics import ProjectionHead
from ...estimators import batch_pos_mask, check_measure, local_global_loss
from ..encoders import GraphEncoder
from .infograph import _batch_vector
from .mvgrl import DiffusionOptions
from ..propagation import PropagationMatrix
from ..diffusion import DiffusionView
from ..readouts import Readout
from ...registry import ModelEntry, register_model

Pair = Tuple[Tensor, Tensor]


class GraphMVGRL(Module):
    r"""Multi-view DIM at graph level (Hassani & Khasahmadi, ICML 2020, "MVGRL").

    Every graph comes with two views: its edges and its diffusion (the weighted edges
    ``diffusion_index`` / ``diffusion_weight`` that :class:`graphdim.DiffusionView` adds;
    PPR with :math:`\alpha = 0.2` by default). Each view has its own encoder of
    ``num_layers`` GCN layers (PReLU; the adjacency view normalises
    :math:`\hat D^{-1/2}(A + I)\hat D^{-1/2}`, the diffusion view propagates with the
    diffusion weights as they are, as the paper's code does). A node's local feature is the
    concatenation of its layer outputs, a graph's global feature their sum over its nodes
    (InfoGraph's form). Shared projection heads :math:`\phi` (local) and :math:`\psi`
    (global) precede a dot-product critic, and each view's nodes are scored against the
    *other* view's graphs of the batch, both ways: positives are a node's own graph, the
    other graphs of the batch negatives (:func:`~graphdim.estimators.local_global_loss`,
    JSD by default):

    .. math::
        \mathcal{L} = \ell\big(\phi(h^a), \psi(H^d)\big) + \ell\big(\phi(h^d), \psi(H^a)\big).

    The graph embedding is :math:`\psi(H^a) + \psi(H^d)`.

    Args:
        in_channels: node feature size.
        hidden_channels: width of each layer; local and global features have
            ``hidden * num_layers``.
        num_layers: GCN layers per view (DGL's example: 4 on MUTAG, 2 on IMDB).
        estimator: MI measure (``'jsd'``).
    """
    def __init__(self, in_channels: int, hidden_channels: int = 32, num_layers: int = 4,
                 estimator: str = 'jsd'):
        super().__init__()
        self.encoders = ModuleList([
            GraphEncoder(in_channels, hidden_channels, num_layers, 'gcn', 'prelu',
                         concat_layers=True) for _ in ('adjacency', 'diffusion')])
        self.embedding_dim = self.encoders[0].out_channels
        self.readout = Readout('sum')
        self.local_head = ProjectionHead(self.embedding_dim)
        self.global_head = ProjectionHead(self.embedding_dim)
        self.estimator = check_measure(estimator)
        self.reset_parameters()

    def reset_parameters(self):
        for module in (*self.encoders, self.local_head, self.global_head):
            module.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, diffusion_index: Tensor,
                diffusion_weight: Tensor, batch: Optional[Tensor] = None
                ) -> Tuple[Pair, Pair]:
        """Local (node) features ``([N, D], [N, D])`` and global (graph) features
        ``([G, D], [G, D])`` of the two views (adjacency, diffusion), before the heads."""
        if batch is None:
            batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
        views = (edge_index, PropagationMatrix(diffusion_index, diffusion_weight, x.size(0),
                                               'diffusion'))
        local = tuple(encoder(x, view) for encoder, view in zip(self.encoders, views))
        return local, tuple(self.readout(h, batch=batch) for h in local)

    def loss(self, local: Pair, global_: Pair, batch: Tensor) -> Tensor:
        """Minus the cross-view local-global MI bounds of the batch, summed over both ways."""
        graphs = global_[0].size(0)
        if graphs < 2:
            raise ValueError("graph-level MVGRL needs at least 2 graphs per batch: the other "
                             "graphs of the batch are the negatives")
        pos_mask = batch_pos_mask(batch, graphs)
        local = [self.local_head(h) for h in local]
        global_ = [self.global_head(g) for g in global_]
        return (local_global_loss(local[0], global_[1], pos_mask, self.estimator)
                + local_global_loss(local[1], global_[0], pos_mask, self.estimator))

    # The training loop's interface: a loss and frozen embeddings for one batch of graphs.
    def training_loss(self, data) -> Tensor:
        batch = _batch_vector(data)
        return self.loss(*self(*_inputs(data), batch), batch)

    def embed(self, data) -> Tensor:
        _, global_ = self(*_inputs(data), _batch_vector(data))
        return self.global_head(global_[0]) + self.global_head(global_[1])

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.encoders[0]}, estimator={self.estimator!r})'


def _inputs(data):
    if getattr(data, 'diffusion_index', None) is None:
        raise ValueError("graph-level MVGRL needs each graph's diffusion: apply "
                         "graphdim.DiffusionView() to the graphs first (it adds "
                         "diffusion_index and diffusion_weight)")
    return data.x, data.edge_index, data.diffusion_index, data.diffusion_weight


def _build(options: DiffusionOptions, in_channels: int, **shared) -> GraphMVGRL:
    return GraphMVGRL(in_channels, **shared)


def _with_diffusion(options: DiffusionOptions, dataset):
    """Every graph with its diffusion view (computed once, not per seed)."""
    view = DiffusionView(options.diffusion, options.alpha, options.diffusion_time)
    return replace(dataset, graphs=[view(graph) for graph in dataset.graphs])


def _recipe(c) -> str:
    view = 'heat' if c['diffusion'] == 'heat' else f"ppr alpha {c['alpha']:g}"
    return (f"gcn x{c['num_layers']} {c['hidden_channels']} concatenated per view (edges; "
            f"{view}), heads")


register_model(ModelEntry(
    'mvgrl', 'graph', 'multi-view DIM: edges and diffusion views', _build,
    options=DiffusionOptions, recipe=_recipe,
    prepare=_with_diffusion))
