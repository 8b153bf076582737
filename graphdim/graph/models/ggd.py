"""Node-level group discrimination: GGD, DGI with the summary collapsed to a constant."""
from dataclasses import dataclass
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch.nn import Linear, Module

from torch_geometric.data import Data
from torch_geometric.nn.inits import reset

from ...estimators import check_measure, mi_loss
from ..corruptions import FeatureMask, RowShuffle
from ..encoders import ENCODERS, GraphEncoder
from ..minibatch import MiniBatchDGI
from ..propagation import EncoderFastPath, graph_inputs
from ...registry import ModelEntry, option, register_model


class GGD(EncoderFastPath, torch.nn.Module):
    r"""Graph Group Discrimination (Zheng et al., NeurIPS 2022, "Rethinking and Scaling Up
    Graph Contrastive Learning: An Extremely Efficient Approach with Group Discrimination").

    DGI (:class:`~graphdim.graph.models.dgi.DeepGraphInfomax`) with the summary collapsed to
    a constant: no readout, no bilinear critic. The encoder :math:`\mathcal{E}` (one GCN
    layer with PReLU by default) embeds the graph, :math:`H = \mathcal{E}(X, A)`, and a
    corruption of it, :math:`\tilde H = \mathcal{E}(P X \operatorname{diag}(m), A)`: a mask
    :math:`m` zeroes a fraction ``drop_feature_p`` of the feature columns (the same columns
    for every node), then a random permutation :math:`P` shuffles the rows (DGI's
    corruption). A linear projector :math:`g(h) = W h + b` gives each node one score, the
    sum of its projected channels, :math:`T(h) = \mathbf{1}^\top g(h)` (computed as
    :math:`h^\top W^\top \mathbf{1} + \mathbf{1}^\top b`, one matrix-vector product), and
    the nodes of the clean graph (one group) are told from the corrupted ones (the other)
    by an MI estimator's loss (:mod:`graphdim.estimators`); GGD's binary cross-entropy is

    .. math::
        \mathcal{L} = \frac{1}{N}\sum_i \operatorname{sp}(-T(h_i))
                    + \frac{1}{N}\sum_j \operatorname{sp}(T(\tilde h_j)).

    The embeddings are :math:`H`; GGD's inference-time "embedding reinforcement"
    :math:`H + \hat A^k H` is :func:`graphdim.reinforce` (``k`` chosen on validation by
    :func:`graphdim.eval.choose_hops`).

    Args:
        hidden_channels: size of the node features the encoder returns.
        encoder: module mapping ``(x, edge_index[, edge_weight])`` to node features.
        estimator: MI measure for :meth:`loss` (default ``'bce'``, GGD's).
        drop_feature_p: fraction of feature columns zeroed in the corrupted view (exactly
            ``int(p * F)`` columns per step, as the authors' code).
        mask_clean: zero the same columns in the clean view too (the authors' code feeds
            both views the masked features; the paper describes the corrupted view only).
        fast_path: let the encoder's :class:`~graphdim.graph.propagation.CachedGCNConv`
            layers run their fast path (cached normalised adjacency, the mask folded into
            the weights, :math:`X (\operatorname{diag}(m) W)`, the shuffled view's
            transform permuted after it); ``False`` runs PyG's message passing. After each
            call ``model.propagation`` says which propagation ran and, if not the cached one,
            why.
    """
    def __init__(self, hidden_channels: int, encoder: Module, estimator: str = 'bce',
                 drop_feature_p: float = 0.2, mask_clean: bool = False, fast_path: bool = True):
        super().__init__()
        self.hidden_channels = hidden_channels
        self.encoder = encoder
        self.projector = Linear(hidden_channels, hidden_channels)
        self.feature_mask = FeatureMask(drop_feature_p, exact=True)
        self.corruption = RowShuffle()
        self.estimator = check_measure(estimator)
        self.mask_clean = mask_clean
        self.reset_parameters()
        self.fast_path = fast_path

    @classmethod
    def from_options(cls, in_channels: int, hidden_channels: int = 512, num_layers: int = 1,
                     activation: str = 'prelu', estimator: str = 'bce',
                     drop_feature_p: float = 0.2, encoder: str = 'gcn',
                     mask_clean: bool = False, **encoder_kwargs) -> 'GGD':
        """Build the model from names; the defaults are the authors' Cora recipe."""
        gnn = GraphEncoder(in_channels, hidden_channels, num_layers=num_layers, conv=encoder,
                           activation=activation, **encoder_kwargs)
        return cls(gnn.out_channels, gnn, estimator, drop_feature_p, mask_clean)

    def reset_parameters(self):
        reset(self.encoder)
        self.projector.reset_parameters()

    def forward(self, x: Tensor, edge_index,
                edge_weight: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Node features of the graph and of its corruption, ``(H, H~)``, each ``[N, hidden]``
        (:meth:`loss` scores them)."""
        graph = (edge_index, ) if edge_weight is None else (edge_index, edge_weight)
        masked = self.feature_mask.mask(x)  # X diag(m), drawn before P: one seed, one view
        shuffled = self.corruption.shuffle(masked)  # P X diag(m)
        pos_z = self.encoder(masked if self.mask_clean else x, *graph)
        return pos_z, self.encoder(shuffled, *graph)

    def score(self, z: Tensor) -> Tensor:
        """Each node's logit :math:`T(h) = \\mathbf{1}^\\top (W h + b)`, ``[N]``."""
        return z @ self.projector.weight.sum(dim=0) + self.projector.bias.sum()

    def loss(self, pos_z: Tensor, neg_z: Tensor) -> Tensor:
        """The estimator's loss (minus the MI bound): clean nodes against corrupted ones."""
        return mi_loss(self.score(pos_z), self.score(neg_z), self.estimator)

    # The training loop's interface: a loss and frozen embeddings for one graph or batch.
    def training_loss(self, data: Data) -> Tensor:
        """The loss of a whole graph, or of a batch of :func:`graphdim.node_loader` (a
        ``batch_size`` attribute: only its first ``batch_size`` nodes, the seeds, are
        scored)."""
        pos_z, neg_z = self(*graph_inputs(data))
        seeds = getattr(data, 'batch_size', None)
        if seeds is not None:  # (a slice of all rows would still copy the gradient back)
            pos_z, neg_z = pos_z[:seeds], neg_z[:seeds]
        return self.loss(pos_z, neg_z)

    def embed(self, data: Data) -> Tensor:
        """The encoder's features of the clean graph (of a batch's seeds), not reinforced."""
        return self.encoder(*graph_inputs(data))[:getattr(data, 'batch_size', None)]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.hidden_channels}, '
                f'drop_feature_p={self.feature_mask.p})')


# GGD's training_loss takes a loader's batches itself: its mini-batch module is DGI's.
MiniBatchGGD = MiniBatchDGI


@dataclass
class GGDOptions:
    """GGD's own options (``graphdim train --model ggd``; a run's ``model_options``)."""
    encoder: str = option('gcn', 'the message-passing layer of the encoder (default '
                                 '%(default)s)', choices=ENCODERS, search=list(ENCODERS))
    # --corruption-p before GGD owned its options: older runs' configs are read as this.
    drop_feature_p: float = option(0.2, 'fraction of the feature columns zeroed in the '
                                        'corrupted view (default %(default)g)', minimum=0,
                                   search={'low': 0.0, 'high': 0.8}, formerly='corruption_p')
    mask_clean: bool = option(False, "zero the dropped feature columns in the clean view "
                                     "too, as the authors' code does (default: the "
                                     "corrupted view only, as the paper describes)",
                              search=[False, True])


def _build(options: GGDOptions, in_channels: int, **shared) -> GGD:
    return GGD.from_options(in_channels, **shared, drop_feature_p=options.drop_feature_p,
                            encoder=options.encoder, mask_clean=options.mask_clean)


register_model(ModelEntry(
    'ggd', 'node', 'group discrimination: clean against corrupted nodes, no summary', _build,
    options=GGDOptions, title='GGD',
    recipe=lambda c: (f"{c['encoder']} x{c['num_layers']} {c['hidden_channels']}, feature "
                      f"columns dropped {c['drop_feature_p']:g}"
                      f"{' in both views' if c.get('mask_clean') else ''} + row shuffle, "
                      f"{c['estimator']}"),
    minibatch=MiniBatchGGD))
