r"""Node-level multi-view DIM (MVGRL): DIM between two structural views of one graph."""
from dataclasses import dataclass
from typing import ClassVar, List, Optional, Tuple

import torch
from torch import Tensor
from torch.nn import ModuleList, Parameter

from torch_geometric.nn.inits import uniform

from ...critics import bilinear_scores
from ...estimators import check_measure, mi_loss
from ..corruptions import RowShuffle
from ..diffusion import (ALPHA_MIN, DIFFUSIONS, TIME_MAX, cached_diffusion_matrix,
                         check_diffusion)
from ..encoders import GraphEncoder
from ..propagation import GraphCache, PropagationMatrix, PropagationReport, graph_inputs
from ..readouts import Readout
from ...registry import ModelEntry, option, register_model


@dataclass
class View:
    """One structural view of a graph: the features and the constant matrix its GCN
    propagates them with (``adjacency``: :math:`\\hat A`, or the diffusion :math:`S`)."""
    x: Tensor
    adjacency: PropagationMatrix


@dataclass
class Views:
    """The two structural views of one graph: the GCN adjacency and the diffusion."""
    adjacency: View
    diffusion: View

    def subgraph(self, nodes: Tensor) -> 'Views':
        """Both views restricted to ``nodes`` (rows and columns), as the paper's sampled
        training slices the whole graph's normalised matrices."""
        x = self.adjacency.x[nodes]
        return Views(*(View(x, view.adjacency.restricted(nodes, 'subgraph-sparse'))
                       for view in (self.adjacency, self.diffusion)))


class MVGRL(torch.nn.Module):
    r"""Multi-view DIM at node level (Hassani & Khasahmadi, ICML 2020, "MVGRL").

    Two structural views of one graph, the GCN adjacency
    :math:`\hat A = \hat D^{-1/2}(A + I)\hat D^{-1/2}` and a diffusion :math:`S` (personalised
    PageRank :math:`\alpha(I - (1 - \alpha)\hat A)^{-1}` or the heat kernel
    :math:`e^{-t(I - \hat A)}`, :func:`~graphdim.graph.diffusion.diffusion_matrix`), each
    get their own GCN encoder: :math:`H^a = \mathcal{E}_a(X, \hat A)`,
    :math:`H^d = \mathcal{E}_d(X, S)`, with summaries :math:`s^a = \sigma(\mathrm{mean}\,H^a)`,
    :math:`s^d`. The nodes of each view are scored against the *other* view's summary with
    one bilinear critic :math:`T(h, s) = h^\top W s`; negatives are both views encoded from
    row-shuffled features :math:`\tilde X` (DGI's corruption). With DGI's binary
    cross-entropy (default; any :data:`~graphdim.estimators.MEASURES` works)

    .. math::
        \mathcal{L} = \frac{1}{2N}\sum_i \big[\operatorname{sp}(-T(h^a_i, s^d))
            + \operatorname{sp}(-T(h^d_i, s^a))\big]
            + \frac{1}{2N}\sum_j \big[\operatorname{sp}(T(\tilde h^a_j, s^d))
            + \operatorname{sp}(T(\tilde h^d_j, s^a))\big].

    The embedding of node :math:`i` is :math:`h^a_i + h^d_i`. Both views are built once
    per graph and cached as sparse operators (:mod:`graphdim.graph.propagation`); ``S`` is
    kept sparse (each node's ``top_k`` strongest diffusion sources), so no ``N x N`` dense
    matrix is ever held beyond ``exact_max_nodes``. With ``sample_size`` the model trains,
    as the paper does on large graphs, on ``subgraphs`` random node subsets of that size
    per step (both views restricted to them); embeddings always use the whole graph.

    Args:
        in_channels: node feature size.
        hidden_channels: width of each view's GCN (the paper: 512).
        num_layers: GCN layers per view (the paper: 1).
        estimator: MI measure (``'bce'``, the paper's).
        diffusion: ``'ppr'`` (``alpha``, default 0.2) or ``'heat'`` (``t``, default 5).
        top_k: diffusion entries kept per node.
        sample_size: train on random subgraphs of this many nodes (0: the whole graph).
        subgraphs: subgraphs per training step when sampling (the paper: 4).
    """
    def __init__(self, in_channels: int, hidden_channels: int = 512, num_layers: int = 1,
                 activation: str = 'prelu', estimator: str = 'bce', diffusion: str = 'ppr',
                 alpha: float = 0.2, t: float = 5.0, top_k: int = 128,
                 sample_size: int = 0, subgraphs: int = 4):
        super().__init__()
        check_diffusion(diffusion, alpha, t)
        if sample_size < 0 or subgraphs < 1 or top_k < 1:
            raise ValueError(f"sample_size must be >= 0, subgraphs and top_k >= 1; got "
                             f"{sample_size}, {subgraphs}, {top_k}")
        self.hidden_channels = hidden_channels
        self.encoders = ModuleList([
            GraphEncoder(in_channels, hidden_channels, num_layers, 'gcn', activation)
            for _ in ('adjacency', 'diffusion')])
        self.summary = Readout('sigmoid_mean')
        self.corruption = RowShuffle()
        self.estimator = check_measure(estimator)
        self.diffusion, self.alpha, self.t, self.top_k = diffusion, alpha, t, top_k
        self.sample_size, self.subgraphs = sample_size, subgraphs
        self.weight = Parameter(torch.empty(hidden_channels, hidden_channels))
        self._views = GraphCache(capacity=1)  # the graph's two views
        self.propagation: Optional[PropagationReport] = None
        self.reset_parameters()

    def reset_parameters(self):
        for encoder in self.encoders:
            encoder.reset_parameters()
        uniform(self.hidden_channels, self.weight)

    def views(self, x: Tensor, edge_index: Tensor,
              edge_weight: Optional[Tensor] = None) -> Views:
        """Both views of this graph: built on the first call, then cached (rebuilt when the
        tensors change)."""
        return self._views.get(self._build_views, x, edge_index, edge_weight)

    def _build_views(self, x: Tensor, edge_index: Tensor,
                     edge_weight: Optional[Tensor]) -> Views:
        adjacency = PropagationMatrix.gcn(edge_index, edge_weight, x.size(0), x.dtype)
        matrix = cached_diffusion_matrix(
            edge_index, x.size(0), edge_weight, method=self.diffusion, alpha=self.alpha,
            t=self.t, top_k=self.top_k)
        # The kept entries are each column's largest; S is symmetric (T is), so its
        # transpose keeps each node's (row's) top_k sources.
        diffusion = PropagationMatrix.from_matrix(matrix.t().to(x.device), x.dtype,
                                                  name='diffusion')
        return Views(View(x, adjacency), View(x, diffusion))

    def encode(self, views: Views, x: Tensor) -> Tuple[Tensor, Tensor]:
        """``(H^a, H^d)``: the features ``x`` (or a corruption of the views' features)
        through each view's encoder."""
        return tuple(encoder(x, view.adjacency) for encoder, view
                     in zip(self.encoders, (views.adjacency, views.diffusion)))

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor] = None
                ) -> Tuple[Tuple[Tensor, Tensor], Tuple[Tensor, Tensor], Tuple[Tensor, Tensor]]:
        """``(clean, corrupted, summaries)``: each a pair (adjacency view, diffusion view)."""
        return self._forward_views(self.views(x, edge_index, edge_weight))

    def _forward_views(self, views: Views):
        x = views.adjacency.x
        shuffled = self.corruption.shuffle(x)  # X~ = P X, the negatives of both views
        clean = self.encode(views, x)
        corrupted = self.encode(views, shuffled)
        return clean, corrupted, tuple(self.summary(h) for h in clean)

    def discriminate(self, z: Tensor, summary: Tensor) -> Tensor:
        """Bilinear logits :math:`z W s` (DGI's critic, shared by both directions)."""
        return bilinear_scores(z, self.weight, summary)

    def loss(self, clean, corrupted, summaries) -> Tensor:
        """The estimator's loss, each view's nodes against the other view's summary."""
        crossed = (summaries[1], summaries[0])
        positive = torch.cat([self.discriminate(h, s) for h, s in zip(clean, crossed)])
        negative = torch.cat([self.discriminate(h, s) for h, s in zip(corrupted, crossed)])
        return mi_loss(positive, negative, self.estimator)

    # The training loop's interface: a loss and frozen embeddings for one graph.
    def training_loss(self, data) -> Tensor:
        views = self.views(*graph_inputs(data))
        n = views.adjacency.x.size(0)
        if not self.sample_size or self.sample_size >= n:
            self.propagation = PropagationReport('cached-sparse')
            return self.loss(*self._forward_views(views))
        self.propagation = PropagationReport('subgraph-sparse',
                                             f'{self.subgraphs} x {self.sample_size} nodes')
        losses: List[Tensor] = []
        for _ in range(self.subgraphs):
            nodes = torch.randperm(n, device=views.adjacency.x.device)[:self.sample_size]
            losses.append(self.loss(*self._forward_views(views.subgraph(nodes.sort()[0]))))
        return torch.stack(losses).mean()

    def embed(self, data) -> Tensor:
        views = self.views(*graph_inputs(data))
        h_adjacency, h_diffusion = self.encode(views, views.adjacency.x)
        return h_adjacency + h_diffusion

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.hidden_channels}, diffusion='
                f'{self.diffusion!r}, top_k={self.top_k}, sample_size={self.sample_size})')


@dataclass
class DiffusionOptions:
    """The diffusion view's options, MVGRL's at both levels (graph level: ``mvgrl_graph``)."""
    diffusion: str = option('ppr', 'the diffusion view, personalised PageRank or heat '
                                   'kernel (default %(default)s)', choices=DIFFUSIONS,
                            search=list(DIFFUSIONS))
    alpha: float = option(0.2, "ppr's teleport probability (default %(default)g)",
                          minimum=ALPHA_MIN, below=1, search={'low': 0.05, 'high': 0.5})
    diffusion_time: float = option(5.0, "the heat kernel's t (default %(default)g)",
                                   above=0, maximum=TIME_MAX,
                                   search={'low': 1.0, 'high': 10.0, 'log': True})
    # (option, the options the rule reads, whether it acts, the fix): see
    # graphdim.experiments.config.DEPENDENT_OPTIONS.
    DEPENDENT_OPTIONS: ClassVar[tuple] = (
        ('alpha', ('diffusion', ), lambda o: o.diffusion == 'ppr',
         "is the teleport probability of --diffusion ppr only: drop it, or use --diffusion "
         "ppr (with --diffusion heat, --diffusion-time sets the kernel)"),
        ('diffusion_time', ('diffusion', ), lambda o: o.diffusion == 'heat',
         "is the heat kernel's t, read with --diffusion heat only: add --diffusion heat or "
         "drop it"))


@dataclass
class MVGRLOptions(DiffusionOptions):
    """Node-level MVGRL's own options (``graphdim train --model mvgrl``)."""
    top_k: int = option(128, 'diffusion entries kept per node (default %(default)s)',
                        minimum=1, search={'low': 32, 'high': 512, 'log': True})
    sample_size: int = option(0, 'train on random subgraphs of this many nodes (the '
                                 "paper's 2000 on large graphs); 0 (default): the whole graph",
                              minimum=0)
    subgraphs: int = option(4, 'subgraphs per step with --sample-size (default '
                               '%(default)s)', minimum=1)
    DEPENDENT_OPTIONS: ClassVar[tuple] = DiffusionOptions.DEPENDENT_OPTIONS + (
        ('subgraphs', ('sample_size', ), lambda o: o.sample_size > 0,
         "acts with --sample-size N only (subgraphs per step): add --sample-size N or drop "
         "it"), )


def _build(options: MVGRLOptions, in_channels: int, **shared) -> MVGRL:
    return MVGRL(in_channels, **shared, diffusion=options.diffusion, alpha=options.alpha,
                 t=options.diffusion_time, top_k=options.top_k,
                 sample_size=options.sample_size, subgraphs=options.subgraphs)


def _recipe(c) -> str:
    view = 'heat' if c['diffusion'] == 'heat' else f"ppr alpha {c['alpha']:g}"
    sampled = f", {c['subgraphs']} x {c['sample_size']}-node subgraphs" \
        if c['sample_size'] else ''
    return (f"gcn x{c['num_layers']} {c['hidden_channels']} per view (adjacency; {view}, "
            f"top {c['top_k']}), {c['estimator']}{sampled}")


register_model(ModelEntry(
    'mvgrl', 'node', 'multi-view DIM: adjacency and diffusion views', _build,
    options=MVGRLOptions, recipe=_recipe))
