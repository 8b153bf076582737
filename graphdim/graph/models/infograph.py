"""Graph-level DIM: InfoGraph, one embedding per graph from node-graph mutual information."""
from dataclasses import dataclass
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Module

from torch_geometric.nn.inits import reset

from ...critics import ProjectionHead
from ...estimators import batch_pos_mask, check_measure, local_global_loss
from ...prior import PriorMatching
from ..encoders import GraphEncoder
from ..readouts import Readout
from ...registry import ModelEntry, option, register_model


class InfoGraph(Module):
    r"""InfoGraph (Sun, Hoffmann, Verma, Tang, ICLR 2020): DIM between nodes and whole graphs.

    A GIN encoder with :math:`L` layers gives each node :math:`u` of graph :math:`G` the
    concatenation of its layer outputs, :math:`h_u = [h_u^{(1)}; \dots; h_u^{(L)}]` (the local
    features, "patches" of several radii); a sum readout gives each graph its summary
    :math:`H(G) = \sum_{u \in G} h_u` (the global feature, also the graph embedding). Within a
    batch of graphs, every node is scored against every graph's summary with a dot-product
    critic :math:`T(h_u, H(G')) = \phi(h_u)^\top \psi(H(G'))` (:math:`\phi, \psi` the optional
    projection heads, identity otherwise): pairs with :math:`G' = G` are positives, pairs with
    the other graphs of the batch are negatives. With the Jensen-Shannon estimator (default)

    .. math::
        \mathcal{L} = \frac{1}{|P|}\sum_{(u, G) \in P} \operatorname{sp}(-T(h_u, H(G)))
                    + \frac{1}{|Q|}\sum_{(u, G') \in Q} \operatorname{sp}(T(h_u, H(G')))
                    - 2 \log 2,

    and any measure of :mod:`graphdim.estimators` through
    :func:`~graphdim.estimators.local_global_loss` with the mask of
    :func:`~graphdim.estimators.batch_pos_mask`. With ``prior_weight > 0`` the loss adds
    ``prior_weight`` times the encoder's term of DIM's adversarial prior matching
    (:class:`~graphdim.prior.PriorMatching`) on the graph embeddings.

    Args:
        in_channels: node feature size.
        hidden_channels: width of each GIN layer; embeddings have ``hidden * num_layers``.
        num_layers: number of GIN layers (InfoGraph: 5 hidden 32 in its public code).
        estimator: MI measure, one of :data:`~graphdim.estimators.MEASURES` (``'jsd'``).
        projection_heads: InfoGraph's residual MLP heads on local and global features.
        prior_weight: weight :math:`\gamma` of prior matching (0: off; InfoGraph: 0.1 when on).
        encoder: a module ``encoder(x, edge_index) -> [N, D]`` to use instead of the GIN.
    """
    def __init__(self, in_channels: int, hidden_channels: int = 32, num_layers: int = 5,
                 estimator: str = 'jsd', projection_heads: bool = True,
                 prior_weight: float = 0.0, encoder: Optional[Module] = None):
        super().__init__()
        if not prior_weight >= 0:  # NaN too
            raise ValueError(f"prior_weight must be >= 0; got {prior_weight}")
        self.encoder = encoder if encoder is not None else GraphEncoder(
            in_channels, hidden_channels, num_layers, conv='gin', activation='relu',
            batch_norm=True, concat_layers=True)
        self.embedding_dim = getattr(self.encoder, 'out_channels', hidden_channels * num_layers)
        self.readout = Readout('sum')
        self.estimator = check_measure(estimator)
        self.local_head = ProjectionHead(self.embedding_dim) if projection_heads else None
        self.global_head = ProjectionHead(self.embedding_dim) if projection_heads else None
        self.prior_weight = prior_weight
        self.prior = PriorMatching(self.embedding_dim) if prior_weight > 0 else None
        self.reset_parameters()

    def reset_parameters(self):
        reset(self.encoder)
        for module in (self.local_head, self.global_head, self.prior):
            if module is not None:
                module.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor,
                batch: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Local (node) features ``[N, D]`` and global (graph) features ``[G, D]``.

        Without ``batch`` the input is one graph (``G = 1``).
        """
        if batch is None:
            batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
        local = self.encoder(x, edge_index)
        return local, self.readout(local, batch=batch)

    def scores(self, local: Tensor, global_: Tensor) -> Tensor:
        """Critic scores ``[N, G]`` of every node against every graph of the batch."""
        if self.local_head is not None:
            local, global_ = self.local_head(local), self.global_head(global_)
        return local @ global_.t()

    def loss(self, local: Tensor, global_: Tensor, batch: Tensor) -> Tensor:
        """Minus the local-global MI bound of the batch (plus the weighted prior term)."""
        if global_.size(0) < 2:
            raise ValueError("InfoGraph needs at least 2 graphs per batch: the other graphs "
                             "of the batch are the negatives (use a batch size >= 2 and "
                             "drop a last batch of one graph)")
        pos_mask = batch_pos_mask(batch, global_.size(0))
        if self.local_head is not None:
            value = local_global_loss(self.local_head(local), self.global_head(global_),
                                      pos_mask, self.estimator)
        else:
            value = local_global_loss(local, global_, pos_mask, self.estimator)
        if self.prior is not None:
            value = value + self.prior_weight * self.prior(global_)
        return value

    # The training loop's interface: a loss and frozen embeddings for one batch of graphs.
    def training_loss(self, data) -> Tensor:
        batch = _batch_vector(data)
        local, global_ = self(data.x, data.edge_index, batch)
        return self.loss(local, global_, batch)

    def embed(self, data) -> Tensor:
        return self(data.x, data.edge_index, _batch_vector(data))[1]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.encoder}, estimator={self.estimator!r}, '
                f'heads={self.local_head is not None}, prior_weight={self.prior_weight})')


def _batch_vector(data) -> Tensor:
    batch = getattr(data, 'batch', None)
    if batch is None:
        return torch.zeros(data.num_nodes, dtype=torch.long, device=data.x.device)
    return batch


@dataclass
class InfoGraphOptions:
    """InfoGraph's own options (``graphdim train --level graph --model infograph``)."""
    projection_heads: bool = option(True, "drop the residual MLP heads before the critic",
                                    search=[True, False])
    prior_weight: float = option(0.0, 'weight of adversarial prior matching (default '
                                      '%(default)g: off; the DIM papers use 0.1)', minimum=0,
                                 search=[0.0, 0.1])


def _build(options: InfoGraphOptions, in_channels: int, **shared) -> InfoGraph:
    return InfoGraph(in_channels, **shared, projection_heads=options.projection_heads,
                     prior_weight=options.prior_weight)


register_model(ModelEntry(
    'infograph', 'graph', 'InfoGraph (default): nodes against graph summaries of a batch',
    _build, options=InfoGraphOptions, title='InfoGraph',
    recipe=lambda c: (f"gin x{c['num_layers']} {c['hidden_channels']} concatenated, "
                      f"{'heads' if c['projection_heads'] else 'no heads'}")))
