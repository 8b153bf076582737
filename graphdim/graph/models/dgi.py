"""Node-level graph DIM: Deep Graph Infomax, a drop-in for PyG's ``DeepGraphInfomax``."""
import copy
from dataclasses import dataclass
from typing import Callable, ClassVar, Tuple, Union

import torch
from torch import Tensor
from torch.nn import Module, Parameter

from torch_geometric.nn.inits import reset, uniform

from ...critics import bilinear_scores
from ...estimators import check_measure, mi_loss
from ..corruptions import CORRUPTIONS, make_corruption
from ..encoders import ENCODERS, GraphEncoder
from ..minibatch import MiniBatchDGI
from ..propagation import EncoderFastPath, graph_inputs
from ..readouts import READOUTS, Readout
from ...registry import ModelEntry, option, register_model


class DeepGraphInfomax(EncoderFastPath, torch.nn.Module):
    r"""Deep Graph Infomax (Veličković et al., ICLR 2019): DIM between nodes and the graph.

    An encoder :math:`\mathcal{E}` gives node (local) features :math:`H = \mathcal{E}(X, A)`,
    a readout gives the graph summary :math:`s = \mathcal{R}(H)` (global), a corruption
    :math:`\mathcal{C}` gives negatives :math:`\tilde H = \mathcal{E}(\mathcal{C}(X, A))`, and a
    bilinear critic scores each (node, summary) pair: :math:`T(h, s) = h^\top W s`. Training
    minimises an MI estimator's loss (:mod:`graphdim.estimators`) on the positive scores
    :math:`T(h_i, s)` against the negative scores :math:`T(\tilde h_j, s)`; DGI's choice is
    the binary cross-entropy

    .. math::
        \mathcal{L} = \frac{1}{N}\sum_i \operatorname{sp}(-T(h_i, s))
                    + \frac{1}{N}\sum_j \operatorname{sp}(T(\tilde h_j, s)).

    The constructor, :meth:`forward`, :meth:`discriminate`, :meth:`loss` and :meth:`test`
    match ``torch_geometric.nn.DeepGraphInfomax``, so PyG code runs unchanged after changing
    the import. Beyond PyG, ``summary`` and ``corruption`` may be names (see
    :class:`~graphdim.graph.readouts.Readout` and
    :func:`~graphdim.graph.corruptions.make_corruption`), ``estimator`` picks the MI measure,
    and :meth:`from_options` builds the whole model from names.

    Args:
        hidden_channels: size of the node features the encoder returns.
        encoder: module mapping the forward arguments to node features ``[N, hidden]``.
        summary: readout callable ``summary(z, *args, **kwargs)`` or a readout name.
        corruption: callable returning corrupted forward arguments, or a corruption name.
        estimator: MI measure for :meth:`loss` (default ``'bce'`` as in DGI).
        fast_path: let the encoder's :class:`~graphdim.graph.propagation.CachedGCNConv`
            layers run their fast path (cached normalised adjacency, sparse features, the
            row-shuffled view's feature transform shared with the clean one: the same
            function); ``False`` runs PyG's message passing. After each call
            ``model.propagation`` says which propagation ran and, if not the cached one, why.
    """
    def __init__(self, hidden_channels: int, encoder: Module,
                 summary: Union[Callable, str] = 'sigmoid_mean',
                 corruption: Union[Callable, str] = 'row_shuffle', estimator: str = 'bce',
                 fast_path: bool = True):
        super().__init__()
        self.hidden_channels = hidden_channels
        self.encoder = encoder
        self.summary = Readout(summary) if isinstance(summary, str) else summary
        self.corruption = make_corruption(corruption) if isinstance(corruption, str) \
            else corruption
        self.estimator = check_measure(estimator)
        self.weight = Parameter(torch.empty(hidden_channels, hidden_channels))
        self.reset_parameters()
        self.fast_path = fast_path

    @classmethod
    def from_options(cls, in_channels: int, hidden_channels: int = 512,
                     encoder: str = 'gcn', num_layers: int = 1, activation: str = 'prelu',
                     summary: str = 'sigmoid_mean', corruption: str = 'row_shuffle',
                     estimator: str = 'bce', corruption_p: float = 0.2,
                     **encoder_kwargs) -> 'DeepGraphInfomax':
        """Build the model from names; the defaults are DGI's transductive recipe."""
        gnn = GraphEncoder(in_channels, hidden_channels, num_layers=num_layers, conv=encoder,
                           activation=activation, **encoder_kwargs)
        return cls(gnn.out_channels, gnn, summary, make_corruption(corruption, corruption_p),
                   estimator)

    def reset_parameters(self):
        reset(self.encoder)
        reset(self.summary)
        uniform(self.hidden_channels, self.weight)

    def forward(self, *args, **kwargs) -> Tuple[Tensor, Tensor, Tensor]:
        """Node features, corrupted node features and the summary for the encoder's inputs."""
        pos_z = self.encoder(*args, **kwargs)

        corrupted = self.corruption(*args, **kwargs)
        corrupted = corrupted if isinstance(corrupted, tuple) else (corrupted, )
        cor_args = corrupted[:len(args)]
        cor_kwargs = copy.copy(kwargs)
        for key, value in zip(kwargs.keys(), corrupted[len(args):]):
            cor_kwargs[key] = value
        neg_z = self.encoder(*cor_args, **cor_kwargs)

        summary = self.summary(pos_z, *args, **kwargs)
        return pos_z, neg_z, summary

    def discriminate(self, z: Tensor, summary: Tensor, sigmoid: bool = True) -> Tensor:
        """Bilinear scores :math:`z W s` of node features against the summary.

        One matrix-vector product for the summary, one for the nodes. ``sigmoid=True``
        returns probabilities (PyG's default), ``False`` the logits.
        """
        summary = summary.t() if summary.dim() > 1 else summary
        value = bilinear_scores(z, self.weight, summary)
        return torch.sigmoid(value) if sigmoid else value

    def loss(self, pos_z: Tensor, neg_z: Tensor, summary: Tensor) -> Tensor:
        """The estimator's loss (minus the MI bound) for positive and corrupted nodes."""
        return mi_loss(self.discriminate(pos_z, summary, sigmoid=False),
                       self.discriminate(neg_z, summary, sigmoid=False), self.estimator)

    def test(self, train_z: Tensor, train_y: Tensor, test_z: Tensor, test_y: Tensor,
             solver: str = 'lbfgs', *args, **kwargs) -> float:
        """PyG's ``DeepGraphInfomax.test``, kept for drop-in use: the accuracy of
        scikit-learn's logistic regression fitted on ``train_z``, no validation split.

        graphdim's probes live in :mod:`graphdim.eval`; the node protocol (penalty chosen
        on validation) is :func:`graphdim.linear_probe`.
        """
        from sklearn.linear_model import LogisticRegression
        clf = LogisticRegression(*args, solver=solver, **kwargs).fit(
            train_z.detach().cpu().numpy(), train_y.detach().cpu().numpy())
        return clf.score(test_z.detach().cpu().numpy(), test_y.detach().cpu().numpy())

    # The training loop's interface: a loss and frozen embeddings for one graph or batch.
    def training_loss(self, data) -> Tensor:
        """The loss of a whole graph, or of a :func:`graphdim.node_loader` batch: its seeds
        (the first ``batch_size`` nodes) scored against their own summary."""
        pos_z, neg_z, summary = self(*graph_inputs(data))
        seeds = getattr(data, 'batch_size', None)
        if seeds is not None:
            pos_z, neg_z = pos_z[:seeds], neg_z[:seeds]
            summary = self.summary(pos_z)
        return self.loss(pos_z, neg_z, summary)

    def embed(self, data) -> Tensor:
        """The encoder's features of the graph (of a batch's seeds)."""
        return self.encoder(*graph_inputs(data))[:getattr(data, 'batch_size', None)]

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.hidden_channels})'


@dataclass
class DGIOptions:
    """DGI's own options (``graphdim train --model dgi``; a run's ``model_options``)."""
    encoder: str = option('gcn', 'the message-passing layer of the encoder (default '
                                 '%(default)s)', choices=ENCODERS, search=list(ENCODERS))
    readout: str = option('sigmoid_mean', choices=READOUTS, search=list(READOUTS))
    corruption: str = option('row_shuffle', choices=CORRUPTIONS, search=list(CORRUPTIONS))
    corruption_p: float = option(0.2, 'drop / mask probability for edge_drop and feature_mask',
                                 minimum=0, search={'low': 0.05, 'high': 0.5})
    # (option, the options the rule reads, whether it acts, the fix): see
    # graphdim.experiments.config.DEPENDENT_OPTIONS.
    DEPENDENT_OPTIONS: ClassVar[tuple] = (
        ('corruption_p', ('corruption', ), lambda o: o.corruption != 'row_shuffle',
         "acts with --corruption edge_drop or feature_mask only (row_shuffle has no "
         "probability): add --corruption edge_drop or feature_mask, or drop it"), )


def _build(options: DGIOptions, in_channels: int, **shared) -> DeepGraphInfomax:
    return DeepGraphInfomax.from_options(
        in_channels, **shared, encoder=options.encoder, summary=options.readout,
        corruption=options.corruption, corruption_p=options.corruption_p)


register_model(ModelEntry(
    'dgi', 'node', 'Deep Graph Infomax (default)', _build, options=DGIOptions,
    recipe=lambda c: (f"{c['encoder']} x{c['num_layers']} {c['hidden_channels']}, "
                      f"{c['readout']}, {c['corruption']}, {c['estimator']}"),
    minibatch=MiniBatchDGI))
