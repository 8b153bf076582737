"""Node-level neighbour contrast without augmentations: GraphACL's idea (Xiao et al., 2023)."""
import copy
import math
from dataclasses import dataclass
from typing import ClassVar, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Linear, Module, ModuleList

from torch_geometric.data import Data
from torch_geometric.nn.inits import reset
from torch_geometric.utils import add_self_loops, remove_self_loops

from ...estimators import check_measure, negative_expectation, positive_expectation
from ..encoders import ENCODERS, GraphEncoder
from ..propagation import EncoderFastPath, cached_convs, graph_inputs
from ...registry import ModelEntry, option, register_model


def neighbour_pairs(edge_index: Tensor, edge_weight: Optional[Tensor],
                    num_nodes: int) -> Tuple[Tensor, Tensor, Tensor]:
    """``(anchor, positive, weight)``: one pair per edge, the edge's target node as the anchor
    and its source as the positive (PyG's message direction), and one self-pair ``(v, v)`` of
    weight 1 per node, so every node, isolated ones too, has a positive (the authors' code
    adds self-loops the same way). Self-loops already in the graph are replaced by these."""
    index, weight = remove_self_loops(edge_index, edge_weight)
    index, weight = add_self_loops(index, weight, fill_value=1.0, num_nodes=num_nodes)
    if weight is None:
        weight = torch.ones(index.size(1), device=index.device)
    return index[1], index[0], weight


def per_node_mean(terms: Tensor, anchor: Tensor, weight: Tensor, num_nodes: int) -> Tensor:
    """The mean over nodes of each node's ``weight``-weighted mean of its pairs' ``terms``
    (every node has its self-pair, so no node's weights sum to zero)."""
    weight = weight.to(terms.dtype)
    totals = terms.new_zeros(num_nodes).index_add_(0, anchor, weight * terms)
    weights = terms.new_zeros(num_nodes).index_add_(0, anchor, weight)
    return (totals / weights).mean()


class GraphACL(EncoderFastPath, torch.nn.Module):
    r"""Neighbour contrast without augmentations: GraphACL's idea (Xiao, Zhu, Chen, Wang,
    NeurIPS 2023, "Simple and Asymmetric Graph Contrastive Learning without Augmentations"),
    written from the paper in graphdim's own code.

    One view of the graph, two encoders. The online encoder :math:`f` gives
    :math:`H = f(X, A)` (the embeddings), a predictor :math:`g` (a linear layer, or an MLP)
    gives :math:`p_v = g(h_v)`, and a target encoder :math:`f_\xi`, an exponential moving
    average of :math:`f` (``momentum`` :math:`m`: :math:`\xi \leftarrow m \xi + (1 - m)
    \theta` after each optimiser step; :math:`m = 0`: :math:`f` itself under stop-gradient),
    gives :math:`T = f_\xi(X, A)`. The asymmetry is the point: a node's prediction must
    identify its *neighbours'* target embeddings, so it learns what its neighbourhood looks
    like (one-hop and, through the encoder, two-hop similarity) without being pushed to equal
    them, which also suits heterophilous graphs. With rows L2-normalised
    (:math:`\hat p, \hat t, \hat h`), the scores of a neighbour pair and of any node pair are

    .. math::
        s_{vu} = \hat p_v^\top \hat t_u / \tau, \qquad n_{vw} = \hat h_v^\top \hat h_w / \tau,

    and the InfoNCE bound (``estimator='infonce'``, GraphACL's objective; every node is a
    negative, :math:`K = N + 1` candidates) is

    .. math::
        I \ge \log K + \frac{1}{N}\sum_v \frac{1}{|N(v)|}\sum_{u \in N(v)}
        \Big(s_{vu} - \log\big(e^{s_{vu}} + \textstyle\sum_w e^{n_{vw}}\big)\Big),

    :math:`N(v)` being ``v``'s neighbours and ``v`` itself (:func:`~graphdim.graph.models.graphacl.neighbour_pairs`; edge
    weights weight the inner mean), computed in log-sum-exp form. The negatives are scored
    on the online embeddings themselves, as in the paper: they spread the embeddings out
    (uniformity) while the neighbour term aligns predictions with neighbours. Other
    estimators (:mod:`graphdim.estimators`) score the same pairs: neighbour pairs as
    positives (averaged as above), node pairs :math:`n_{vw}` as negatives.
    ``negatives=K`` scores each node against ``K`` nodes drawn at random per step instead of
    all :math:`N` (an :math:`N \times K` matrix in place of :math:`N \times N`, which does not
    fit PubMed's 19,717 nodes on a CPU); InfoNCE's sum over all nodes is then estimated as
    :math:`N / K` times the sum over those drawn.

    Args:
        hidden_channels: size of the node features the encoder returns.
        encoder: the online encoder, ``encoder(x, edge_index[, edge_weight])``.
        temperature: :math:`\tau`.
        momentum: :math:`m`, the target's moving-average decay (``0``: no target copy).
        negatives: nodes drawn per step as negatives (``0``, or at least ``N``: all nodes).
        predictor_layers: ``1``, a linear predictor (the authors' default); more, an MLP with
            ReLU of that many linear layers.
        estimator: MI measure for :meth:`loss` (``'infonce'``: GraphACL's).
    """
    def __init__(self, hidden_channels: int, encoder: Module, temperature: float = 1.0,
                 momentum: float = 0.99, negatives: int = 4096, predictor_layers: int = 1,
                 estimator: str = 'infonce', fast_path: bool = True):
        super().__init__()
        if not (isinstance(temperature, (int, float)) and temperature > 0) or \
                not (isinstance(momentum, (int, float)) and 0 <= momentum <= 1):
            raise ValueError(f"temperature must be > 0 and momentum in [0, 1]; got "
                             f"{temperature!r} and {momentum!r}")
        if not (isinstance(negatives, int) and negatives >= 0 and isinstance(
                predictor_layers, int) and predictor_layers >= 1):
            raise ValueError(f"negatives must be an integer >= 0 and predictor_layers >= 1; "
                             f"got {negatives!r} and {predictor_layers!r}")
        self.hidden_channels = hidden_channels
        self.encoder = encoder
        self.predictor = ModuleList(Linear(hidden_channels, hidden_channels)
                                    for _ in range(predictor_layers))
        # m = 0 copies the online parameters at every step: the target is f under stop-gradient.
        self.target_encoder = copy.deepcopy(encoder) if momentum > 0 else None
        if self.target_encoder is not None:
            self.target_encoder.requires_grad_(False)
        self.temperature, self.momentum, self.negatives = float(temperature), momentum, negatives
        self.estimator = check_measure(estimator)
        # graphdim.fit has no hook after optimizer.step(): training_loss sets this, and the
        # next call moves the target first. Step, then update, then the next forward: the
        # same order as updating right after the step. A buffer, so checkpoints keep it.
        self.register_buffer('target_behind', torch.tensor(False))
        self.reset_parameters()
        self.fast_path = fast_path

    @classmethod
    def from_options(cls, in_channels: int, hidden_channels: int = 512, num_layers: int = 1,
                     activation: str = 'prelu', estimator: str = 'infonce',
                     encoder: str = 'gcn', temperature: float = 1.0, momentum: float = 0.99,
                     negatives: int = 4096, predictor_layers: int = 1,
                     linear_output: bool = False, **encoder_kwargs) -> 'GraphACL':
        """Build the model from names: a ``num_layers``-layer ``encoder`` and its copy;
        ``linear_output``: no activation after the last layer (the authors' encoder)."""
        gnn = GraphEncoder(in_channels, hidden_channels, num_layers=num_layers, conv=encoder,
                           activation=activation, last_activation=not linear_output,
                           **encoder_kwargs)
        return cls(gnn.out_channels, gnn, temperature, momentum, negatives, predictor_layers,
                   estimator)

    def reset_parameters(self):
        reset(self.encoder)
        for layer in self.predictor:
            layer.reset_parameters()
        if self.target_encoder is not None:  # the target starts as the online encoder
            self.target_encoder.load_state_dict(self.encoder.state_dict())
        self.target_behind.fill_(False)

    @property
    def fast_path(self) -> bool:
        """Whether the ``CachedGCNConv`` layers (online and target) run their fast path."""
        return all(conv.fast_path for conv in cached_convs(self))

    @fast_path.setter
    def fast_path(self, value: bool):
        for conv in cached_convs(self):
            conv.fast_path = value

    @torch.no_grad()
    def update_target(self):
        r""":math:`\xi \leftarrow m \xi + (1 - m) \theta`, parameters and buffers. Call it
        after each optimiser step in a loop of your own; :meth:`training_loss` does it for
        :func:`graphdim.fit` (at the start of the next call)."""
        self.target_behind.fill_(False)
        if self.target_encoder is None:
            return
        for target, online in zip(self.target_encoder.parameters(), self.encoder.parameters()):
            target.lerp_(online, 1.0 - self.momentum)
        for target, online in zip(self.target_encoder.buffers(), self.encoder.buffers()):
            target.copy_(online)

    def predict(self, h: Tensor) -> Tensor:
        """:math:`g(h)`: the predictor's layers, ReLU between them."""
        for index, layer in enumerate(self.predictor):
            h = layer(h if index == 0 else F.relu(h))
        return h

    def forward(self, x: Tensor, edge_index,
                edge_weight: Optional[Tensor] = None) -> Tuple[Tensor, Tensor, Tensor]:
        """Online embeddings, predictions and target embeddings, ``(H, P, T)``, each
        ``[N, hidden]`` (:meth:`loss` scores them); ``T`` carries no gradient."""
        graph = (edge_index, ) if edge_weight is None else (edge_index, edge_weight)
        h = self.encoder(x, *graph)
        if self.target_encoder is None:
            return h, self.predict(h), h.detach()
        with torch.no_grad():
            t = self.target_encoder(x, *graph)
        return h, self.predict(h), t

    def negative_nodes(self, num_nodes: int, device) -> Optional[Tensor]:
        """The nodes every node is contrasted with this step: None for all of them, else
        ``negatives`` distinct ones drawn at random."""
        if not self.negatives or self.negatives >= num_nodes:
            return None
        return torch.randperm(num_nodes, device=device)[:self.negatives]

    def loss(self, h: Tensor, p: Tensor, t: Tensor, edge_index: Tensor,
             edge_weight: Optional[Tensor] = None) -> Tensor:
        """The estimator's loss (minus the MI bound) of predictions against the neighbours'
        targets, the online embeddings' node pairs as negatives (the class docstring)."""
        num_nodes = h.size(0)
        anchor, positive, weight = neighbour_pairs(edge_index, edge_weight, num_nodes)
        p_hat, t_hat, h_hat = (F.normalize(z, dim=-1) for z in (p, t, h))
        # index_select, not x[index]: indexing's backward (an accumulating scatter) sums in
        # a different order from run to run on several CPU threads; index_add_'s does not.
        pos = (p_hat.index_select(0, anchor) * t_hat.index_select(0, positive)).sum(dim=-1) \
            / self.temperature
        drawn = self.negative_nodes(num_nodes, h.device)
        others = h_hat if drawn is None else h_hat.index_select(0, drawn)
        neg = h_hat @ others.t() / self.temperature  # [N, K]
        if self.estimator != 'infonce':
            e_pos = per_node_mean(positive_expectation(pos, self.estimator, average=False),
                                  anchor, weight, num_nodes)
            return negative_expectation(neg, self.estimator) - e_pos
        # log sum_w e^{n_vw} over all N nodes: estimated as N/K times the K drawn ones' sum.
        log_negatives = torch.logsumexp(neg, dim=1) + math.log(num_nodes / others.size(0))
        terms = pos - torch.logaddexp(pos, log_negatives.index_select(0, anchor))
        return -(math.log(num_nodes + 1) + per_node_mean(terms, anchor, weight, num_nodes))

    # The training loop's interface: a loss and frozen embeddings for one graph.
    def training_loss(self, data: Data) -> Tensor:
        """The loss of a whole graph; first moves the target if a step has followed the last
        call (see :meth:`update_target`)."""
        if self.training and bool(self.target_behind):
            self.update_target()
        x, edge_index, *weight = graph_inputs(data)
        loss = self.loss(*self(x, edge_index, *weight), edge_index, *weight)
        if self.training and torch.is_grad_enabled():
            self.target_behind.fill_(True)
        return loss

    def embed(self, data: Data) -> Tensor:
        """The online encoder's features of the graph (the paper evaluates these)."""
        return self.encoder(*graph_inputs(data))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.hidden_channels}, temperature='
                f'{self.temperature:g}, momentum={self.momentum:g})')


@dataclass
class GraphACLOptions:
    """GraphACL's own options (``graphdim train --model graphacl``; a run's
    ``model_options``). GraphACL's objective is InfoNCE: its runs take ``--estimator
    infonce`` unless told otherwise (``SHARED_DEFAULTS``)."""
    SHARED_DEFAULTS: ClassVar[dict] = {'estimator': 'infonce'}
    encoder: str = option('gcn', 'the message-passing layer of the encoder (default '
                                 '%(default)s)', choices=ENCODERS, search=list(ENCODERS))
    temperature: float = option(1.0, 'temperature tau of the cosine scores (default '
                                     '%(default)g; the authors use 1.0 on Cora, 0.99 on '
                                     'CiteSeer, 0.75 on PubMed)', above=0,
                                search={'low': 0.3, 'high': 1.0})
    momentum: float = option(0.99, "decay of the target encoder's moving average of the "
                                   "online one (default %(default)g; 0: the online encoder "
                                   "under stop-gradient; 1: the target stays as initialised)",
                             minimum=0, maximum=1, search={'low': 0.9, 'high': 0.999})
    negatives: int = option(4096, 'nodes each node is contrasted with per step: all of them '
                                  'on graphs of at most this many nodes, else this many drawn '
                                  'at random (default %(default)s; 0: always all, an N x N '
                                  'matrix)', minimum=0, search=[1024, 4096])
    predictor_layers: int = option(1, 'layers of the predictor: 1, linear (default, the '
                                      "authors'); more, an MLP with ReLU", minimum=1,
                                   search=[1, 2])
    linear_output: bool = option(False, "no activation after the encoder's last layer: "
                                        "--activation between layers only, as the authors' "
                                        "GCN (ReLU between its layers, none after the last)",
                                 search=[False, True])


def _build(options: GraphACLOptions, in_channels: int, **shared) -> GraphACL:
    return GraphACL.from_options(
        in_channels, **shared, encoder=options.encoder, temperature=options.temperature,
        momentum=options.momentum, negatives=options.negatives,
        predictor_layers=options.predictor_layers, linear_output=options.linear_output)


def _recipe(c) -> str:
    negatives = c['negatives']
    drawn = f"all (or {negatives} drawn past {negatives} nodes)" if negatives else "all"
    estimator = c['estimator'] + ('' if c['estimator'] == 'infonce'
                                  else " (GraphACL's is --estimator infonce)")
    return (f"{c['encoder']} x{c['num_layers']} {c['hidden_channels']}, "
            f"{'linear output, ' if c['linear_output'] else ''}"
            f"{c['predictor_layers']}-layer predictor, tau {c['temperature']:g}, target "
            f"momentum {c['momentum']:g}, negatives {drawn}, {estimator}")


register_model(ModelEntry(
    'graphacl', 'node', "neighbour contrast without augmentations: a node's prediction "
    "against its neighbours' moving-average targets", _build, options=GraphACLOptions,
    title='GraphACL', recipe=_recipe, minibatch=None))
