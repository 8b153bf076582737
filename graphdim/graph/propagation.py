r"""Propagation: how an encoder layer mixes neighbours. One interface, two backends.

:class:`~graphdim.graph.encoders.GraphEncoder` runs its one layer loop over a
:class:`Propagation`; each layer asks it for ``convolve(conv, h)``, the layer's output before
the activation:

* :class:`MessagePassing` (``'message-passing'``): the conv's own PyG ``propagate`` over
  ``edge_index`` (and GCN's ``edge_weight``). Every conv (GCN, SAGE, GIN, GAT), every input
  PyG takes (a ``SparseTensor`` too).
* :class:`SparseOperator`: a constant operator :math:`S` (rows = targets) for GCN layers,
  :math:`S (H W) + b`, as a CSR matrix with its transpose precomputed for the backward
  (:math:`\partial (HW) = S^\top G`), and the features ``X`` as CSR (with :math:`X^\top`)
  where they are sparse. :func:`gcn_operator` builds the graph's
  :math:`\hat A = \hat D^{-1/2}(A + I)\hat D^{-1/2}` (``'cached-sparse'``: DGI builds it
  once per graph and keeps it); :func:`operator_from_edges` and :func:`operator_from_matrix`
  take any given operator (a diffusion matrix, a subgraph). Its first layer is
  linear-then-propagate, so row-shuffled views can share :math:`XW`:
  ``shares_first_transform`` (see ``GraphEncoder.encode_views``).

A mini-batch subgraph whose edge weights already are the whole graph's normalisation
(:mod:`graphdim.loaders`) runs on either: :func:`operator_from_edges`, or
``MessagePassing(..., normalized=True)``; ``num_targets`` keeps only the first rows (the
target nodes of a layer-wise batch).

The constant CSR operators are leaves; autograd flows only through the dense operands.
"""
import contextlib
import warnings
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional, Protocol, Tuple

import torch
from torch import Tensor

from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from .checks import check_node_indices

# Below this fraction of non-zeros, X @ W runs as a CSR product (measured: 10x faster than
# dense at Cora's 1.3%, about even at PubMed's 10%).
SPARSE_FEATURE_DENSITY = 0.05


class _ConstantSparseMatmul(torch.autograd.Function):
    """``matrix @ dense`` for a constant sparse ``matrix`` whose transpose is precomputed."""
    @staticmethod
    def forward(ctx, dense: Tensor, matrix: Tensor, matrix_t: Tensor) -> Tensor:
        ctx.matrix_t = matrix_t
        return matrix @ dense

    @staticmethod
    def backward(ctx, grad: Tensor):
        return ctx.matrix_t @ grad, None, None


class Propagation(Protocol):
    """What the encoder's layer loop asks of a backend."""
    name: str
    shares_first_transform: bool  # whether transform() exists: S (X W), XW shared by views

    def convolve(self, conv: torch.nn.Module, h: Tensor, transformed: bool = False) -> Tensor:
        """The conv's output (before the activation); ``transformed``: ``h`` already is the
        conv's linear transform of its input."""

    def transform(self, conv: torch.nn.Module, x: Tensor,
                  column_mask: Optional[Tensor] = None) -> Tensor:
        """The conv's linear transform :math:`XW` alone (of :math:`X \\operatorname{diag}(m)`
        given a ``column_mask`` :math:`m`)."""


@contextlib.contextmanager
def prenormalized_gcn(module: torch.nn.Module, active: bool = True):
    """Within the block, the ``GCNConv`` layers in ``module`` take ``edge_weight`` as the final
    normalised adjacency (self-loops included) instead of normalising the subgraph again."""
    convs = [m for m in module.modules() if isinstance(m, GCNConv)] if active else []
    saved = [conv.normalize for conv in convs]
    try:
        for conv in convs:
            conv.normalize = False
        yield
    finally:
        for conv, value in zip(convs, saved):
            conv.normalize = value


def check_edge_weight(conv: torch.nn.Module, edge_weight: Optional[Tensor]) -> None:
    """The one rule for edge weights: only GCN layers take them; any other conv given them
    raises (full graph, mini-batch and layer-wise alike) rather than dropping them."""
    if edge_weight is not None and not isinstance(conv, GCNConv):
        raise ValueError(f"{type(conv).__name__} does not use edge weights, but the graph has "
                         f"them: drop edge_weight (e.g. del data.edge_weight) or use the "
                         f"'gcn' encoder")


@dataclass
class MessagePassing:
    """Each conv's own PyG message passing over ``edge_index`` (see the module docstring)."""
    edge_index: Tensor
    edge_weight: Optional[Tensor] = None
    normalized: bool = False
    num_targets: Optional[int] = None
    name = 'message-passing'
    shares_first_transform = False

    def convolve(self, conv: torch.nn.Module, h: Tensor, transformed: bool = False) -> Tensor:
        if transformed:
            raise ValueError("message passing runs each conv whole: it cannot start from a "
                             "precomputed first transform (use a SparseOperator)")
        check_edge_weight(conv, self.edge_weight)
        args = (h, self.edge_index) if self.edge_weight is None \
            else (h, self.edge_index, self.edge_weight)
        with prenormalized_gcn(conv, self.normalized):
            out = conv(*args)
        return out if self.num_targets is None else out[:self.num_targets]


@dataclass
class SparseOperator:
    """A constant operator ``S`` for GCN layers (see the module docstring); build it with
    :func:`gcn_operator`, :func:`operator_from_edges` or :func:`operator_from_matrix`."""
    adjacency: Tensor                   # S as CSR, rows = targets
    adjacency_t: Tensor
    x: Optional[Tensor] = None          # the features held below (None: none held)
    features: Optional[Tensor] = None   # x as CSR, or x itself when dense
    features_t: Optional[Tensor] = None
    sources: Tuple = ()                 # the tensors it was built from, for matches()
    versions: Tuple[int, ...] = ()
    name: str = 'sparse-operator'
    shares_first_transform = True

    def matches(self, *tensors: Optional[Tensor]) -> bool:
        """Whether it was built from exactly these tensors, unchanged since: identity (it holds
        them, so their memory cannot be reused) and version counters (in-place edits)."""
        return (len(tensors) == len(self.sources)
                and all(a is b for a, b in zip(tensors, self.sources))
                and self.versions == _versions(*tensors))

    def transform(self, conv: GCNConv, x: Tensor,
                  column_mask: Optional[Tensor] = None) -> Tensor:
        """:math:`X W^\\top`, from the held CSR features when ``x`` is the held tensor.

        ``column_mask`` (``[F]``, bool or 0/1) gives :math:`(X \\operatorname{diag}(m))
        W^\\top` as :math:`X (W \\operatorname{diag}(m))^\\top`: the mask goes into the
        weights, so sparse features stay sparse (GGD's feature-column dropout)."""
        _check_linear_then_propagate(conv)
        weight = conv.lin.weight
        if column_mask is not None:
            weight = weight * column_mask.to(weight.dtype)
        if x is self.x and self.features_t is not None:
            return _ConstantSparseMatmul.apply(weight.t(), self.features, self.features_t)
        return conv.lin(x) if column_mask is None else x @ weight.t()

    def aggregate(self, h: Tensor) -> Tensor:
        """:math:`S h`."""
        return _ConstantSparseMatmul.apply(h, self.adjacency, self.adjacency_t)

    def convolve(self, conv: GCNConv, h: Tensor, transformed: bool = False) -> Tensor:
        """:math:`S (h W) + b`; ``transformed``: ``h`` already is :math:`hW`."""
        h = self.aggregate(h if transformed else self.transform(conv, h))
        # in place: the product is a fresh tensor that nothing saves for backward
        return h.add_(conv.bias) if conv.bias is not None else h


def _check_linear_then_propagate(conv: torch.nn.Module) -> None:
    if not isinstance(conv, GCNConv):
        raise ValueError(f"a SparseOperator computes S (H W) + b, the form of GCN layers; "
                         f"{type(conv).__name__} has no linear-then-propagate form: use "
                         f"MessagePassing(edge_index) for it")


def _versions(*tensors: Optional[Tensor]) -> Tuple[int, ...]:
    return tuple(-1 if t is None else t._version for t in tensors)


def _csr_pair(rows: Tensor, cols: Tensor, values: Tensor, shape: Tuple[int, int]):
    """A CSR matrix and its transpose from COO entries (duplicates summed)."""
    with warnings.catch_warnings():  # torch flags sparse CSR as beta; we rely on mm only
        warnings.simplefilter('ignore', UserWarning)
        coo = torch.sparse_coo_tensor(torch.stack([rows, cols]), values, shape).coalesce()
        return coo.to_sparse_csr(), coo.t().coalesce().to_sparse_csr()


def _held_features(x: Optional[Tensor]) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """``(X as CSR, its transpose)`` when ``x`` is sparse enough, else ``(x, None)``."""
    if x is None or float(torch.count_nonzero(x)) / max(x.numel(), 1) >= SPARSE_FEATURE_DENSITY:
        return x, None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        return x.to_sparse_csr(), x.t().to_sparse_csr()


def operator_from_edges(x: Optional[Tensor], edge_index: Tensor, weight: Tensor,
                        name: str = 'sparse-operator',
                        num_nodes: Optional[int] = None) -> SparseOperator:
    """The operator whose entry ``S[target, source]`` is each edge's ``weight`` (duplicates
    summed; PyG's order: ``edge_index[0]`` sources, ``edge_index[1]`` targets), e.g. a
    mini-batch subgraph carrying the whole graph's normalisation (:mod:`graphdim.loaders`).
    ``x`` (optional) is held as CSR where sparse; ``num_nodes`` defaults to its rows."""
    if num_nodes is None:
        num_nodes = x.size(0) if x is not None else int(edge_index.max()) + 1
    check_node_indices(edge_index, num_nodes)
    dtype = x.dtype if x is not None else weight.dtype
    adjacency, adjacency_t = _csr_pair(edge_index[1], edge_index[0], weight.to(dtype),
                                       (num_nodes, num_nodes))
    features, features_t = _held_features(x)
    sources = (x, edge_index, weight)
    return SparseOperator(adjacency, adjacency_t, x, features, features_t, sources,
                          _versions(*sources), name)


def operator_from_matrix(matrix: Tensor, x: Optional[Tensor] = None,
                         name: str = 'sparse-operator') -> SparseOperator:
    """Any given operator ``matrix`` ``[N, N]`` (dense or sparse; rows = targets, e.g. a
    diffusion matrix): GCN layers then compute ``matrix @ (H W) + b``."""
    if matrix.dim() != 2 or matrix.size(0) != matrix.size(1):
        raise ValueError(f"a propagation operator is a square [N, N] matrix; got shape "
                         f"{tuple(matrix.shape)}")
    coo = matrix.to_sparse_coo().coalesce() if matrix.layout != torch.sparse_coo \
        else matrix.coalesce()
    rows, cols = coo.indices()
    edge_index = torch.stack([cols, rows])  # PyG order: sources first
    return operator_from_edges(x, edge_index, coo.values(), name, num_nodes=matrix.size(0))


def gcn_operator(x: Tensor, edge_index: Tensor,
                 edge_weight: Optional[Tensor] = None) -> SparseOperator:
    """The graph's GCN operator :math:`\\hat A` (self-loops, symmetric normalisation), as
    ``GCNConv`` computes it; build it once per graph, not per step."""
    check_node_indices(edge_index, x.size(0))  # out of range: a crash in the sparse kernels
    norm_index, norm_weight = gcn_norm(edge_index, edge_weight, x.size(0),
                                       add_self_loops=True, dtype=x.dtype)
    operator = operator_from_edges(x, norm_index, norm_weight, name='cached-sparse')
    sources = (x, edge_index, edge_weight)  # what a cache compares the next call's inputs to
    return replace(operator, sources=sources, versions=_versions(*sources))


@dataclass(frozen=True)
class PropagationReport:
    """Which propagation a model's last call ran (``name``: ``'cached-sparse'``,
    ``'subgraph-sparse'`` or ``'message-passing'``) and, where the sparse operator did not
    apply, why (``reason``)."""
    name: str
    reason: Optional[str] = None


def graph_inputs(data) -> tuple:
    """The encoder arguments of a PyG ``Data``: ``(x, edge_index[, edge_weight])``."""
    edge_weight = getattr(data, 'edge_weight', None)
    if edge_weight is None:
        return data.x, data.edge_index
    return data.x, data.edge_index, edge_weight


def _is_dense(t, dims: int) -> bool:
    return isinstance(t, Tensor) and t.layout == torch.strided and t.dim() == dims


def plain_graph_tensors(args, kwargs):
    """``((x, edge_index, edge_weight), None)`` when a call is ``(x, edge_index[,
    edge_weight])`` in plain constant tensors, else ``(None, why not)``."""
    if len(args) + len(kwargs) > 3 or set(kwargs) - {'edge_weight'} or len(args) < 2 \
            or ('edge_weight' in kwargs and len(args) > 2):
        return None, "inputs are not (x, edge_index[, edge_weight])"
    x, edge_index = args[0], args[1]
    edge_weight = args[2] if len(args) > 2 else kwargs.get('edge_weight')
    if not _is_dense(edge_index, 2) or edge_index.size(0) != 2 \
            or edge_index.dtype != torch.long:
        kind = f'a sparse {edge_index.layout} tensor' if isinstance(edge_index, Tensor) \
            and edge_index.layout != torch.strided else f'a {type(edge_index).__name__}'
        return None, f"inputs are {kind}, not an edge_index [2, E] of longs"
    if not _is_dense(x, 2) or (edge_weight is not None and not _is_dense(edge_weight, 1)):
        return None, "x or edge_weight is not a dense tensor ([N, F] and [E])"
    if x.requires_grad or (edge_weight is not None and edge_weight.requires_grad):
        return None, "x or edge_weight requires gradients (the cached operator is a constant)"
    return (x, edge_index, edge_weight), None


class OperatorCache:
    """The constant operator(s) of one graph, as a model keeps them between calls: built on
    the first call, rebuilt when the graph's tensors change (identity and in-place version
    counters; it holds them, so their memory cannot be reused), and left out of copies and
    pickles (sparse CSR tensors can be neither). :attr:`report` says which propagation the
    last lookup chose and why. DGI, GGD and MVGRL each hold one.
    """
    def __init__(self):
        self.value: Any = None
        self._sources: Tuple = ()
        self._versions: Tuple[int, ...] = ()
        self.report: Optional[PropagationReport] = None

    def get(self, build: Callable[..., Any], *tensors: Optional[Tensor]) -> Any:
        """``build(*tensors)``, cached for exactly these tensors."""
        if self.value is None or len(tensors) != len(self._sources) \
                or any(a is not b for a, b in zip(tensors, self._sources)) \
                or self._versions != _versions(*tensors):
            self.value = build(*tensors)
            self._sources, self._versions = tensors, _versions(*tensors)
        return self.value

    def lookup(self, build: Callable[..., Any], args: tuple, kwargs: Optional[dict] = None,
               blocker: Optional[str] = None) -> Any:
        """The cached operator of a model call's inputs, or None where message passing must
        run: ``blocker`` (why the model cannot use the operator) or inputs that are not plain
        constant tensors (:func:`plain_graph_tensors`). Records which in :attr:`report`."""
        tensors, reason = None, blocker
        if reason is None:
            tensors, reason = plain_graph_tensors(args, kwargs or {})
        if reason is not None:
            self.report = PropagationReport('message-passing', reason)
            return None
        value = self.get(build, *tensors)
        self.report = PropagationReport(getattr(value, 'name', 'cached-sparse'))
        return value

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.__init__()

    def __deepcopy__(self, memo):
        return OperatorCache()
