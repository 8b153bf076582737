r"""Propagation: :class:`CachedGCNConv`, the GCN layer graphdim's models run, and the
matrices it propagates with.

:class:`CachedGCNConv` is PyG's ``GCNConv`` (the same parameters, state dict and function),
called like it, ``conv(x, edge_index[, edge_weight])``. It computes
:math:`S (X W) + b` where PyG passes one message per edge and channel:

* :math:`S = \hat D^{-1/2}(A + I)\hat D^{-1/2}` (or whatever the conv's ``improved``,
  ``add_self_loops``, ``normalize`` and ``flow`` make it) is built once per graph, by
  PyG's ``gcn_norm`` and CSR conversion, as a :class:`PropagationMatrix`, and kept
  (:class:`GraphCache`, shared by an encoder's layers: by the identity and in-place version
  of the graph's tensors); its product has a hand-written backward,
  :math:`\partial (XW) = S^\top G`, with :math:`S^\top` built once too (torch's own CSR
  backward transposes :math:`S` on every step);
* features sparse enough (:data:`SPARSE_FEATURE_DENSITY`) are held as CSR, :math:`XW` a
  sparse product; the weight is kept column-major (:meth:`CachedGCNConv.reset_parameters`);
* corrupted features (:mod:`graphdim.graph.corruptions`) are read as what they are made of:
  :math:`(PX)W = P(XW)` reuses the product of the view of ``X`` just computed, and
  :math:`(X \operatorname{diag}(m))W = X(\operatorname{diag}(m)W)` keeps sparse features
  sparse.

``edge_index`` may instead be a :class:`PropagationMatrix`, used as it is (not normalised
again): a loader's batch carrying the whole graph's normalisation (:func:`graph_inputs`),
a diffusion matrix (MVGRL). Where :math:`S` cannot be a constant (edge weights that need
gradients), the input is not an ``edge_index`` (a ``SparseTensor``) or ``fast_path`` is
off, the layer runs PyG's own message passing; :attr:`CachedGCNConv.report` says which
ran and why (:func:`propagation_report` reads it off a model's encoder).
"""
import sys
import warnings
import weakref
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import subgraph, to_torch_csr_tensor

from .checks import check_node_indices
from .corruptions import DerivedFeatures, MaskedColumns, PermutedRows

# Below this fraction of non-zeros, X @ W runs as a CSR product (measured: 10x faster than
# dense at Cora's 1.3%, about even at PubMed's 10%).
SPARSE_FEATURE_DENSITY = 0.05


# torch's CSR @ dense fills a zero matrix and copies it into the product before MKL writes
# it: two passes over the output for nothing. MKL's product with beta = 0 never reads the
# output (torch's kernel without MKL scales it by beta, so NaNs of an empty buffer would stay),
# so on CPUs with MKL it writes into an empty tensor: the same values, bit for bit, and 7% of
# a DGI step on Cora (2-core Xeon, median of 70 steps, 26.4 -> 24.7 ms).
_MKL_SPARSE = torch.backends.mkl.is_available() and not sys.platform.startswith('win')


def sparse_times_dense(matrix: Tensor, dense: Tensor) -> Tensor:
    """``matrix @ dense`` for a sparse CSR ``matrix`` and a dense ``dense``: a fresh tensor."""
    if _MKL_SPARSE and dense.device.type == 'cpu':
        out = torch.empty(matrix.size(0), dense.size(1), dtype=dense.dtype, device=dense.device)
        return out.addmm_(matrix, dense, beta=0)
    return matrix @ dense


class _ConstantSparseMatmul(torch.autograd.Function):
    """``matrix @ dense`` for a constant sparse ``matrix`` whose transpose is precomputed."""
    @staticmethod
    def forward(ctx, dense: Tensor, matrix: Tensor, matrix_t: Tensor) -> Tensor:
        ctx.matrix_t = matrix_t
        return sparse_times_dense(matrix, dense)

    @staticmethod
    def backward(ctx, grad: Tensor):
        return sparse_times_dense(ctx.matrix_t, grad), None, None


def _csr(rows: Tensor, cols: Tensor, values: Tensor, shape: Tuple[int, int]) -> Tensor:
    """PyG's CSR conversion (duplicates summed) of the entries ``(rows, cols)``."""
    with warnings.catch_warnings():  # torch flags sparse CSR as beta; we rely on mm only
        warnings.simplefilter('ignore', UserWarning)
        return to_torch_csr_tensor(torch.stack([rows, cols]), values, shape)


@dataclass(eq=False)
class PropagationMatrix:
    """A constant propagation matrix :math:`S` ``[N, N]`` given by its entries: ``S[target,
    source] = edge_weight`` for each column ``(source, target)`` of ``edge_index`` (PyG's
    order; duplicates summed). Its CSR form (:attr:`matrix`) and that of its transpose
    (:attr:`matrix_t`, for the backward) are built on first use."""
    edge_index: Tensor
    edge_weight: Tensor
    num_nodes: int
    name: str = 'sparse-operator'

    @classmethod
    def gcn(cls, edge_index: Tensor, edge_weight: Optional[Tensor], num_nodes: int,
            dtype: Optional[torch.dtype] = None, name: str = 'cached-sparse',
            **settings) -> 'PropagationMatrix':
        """The matrix ``GCNConv`` propagates with: PyG's ``gcn_norm`` (``settings``: its
        ``improved``, ``add_self_loops``, ``flow``; self-loops and symmetric normalisation
        by default)."""
        check_node_indices(edge_index, num_nodes)  # out of range: a crash in sparse kernels
        index, weight = gcn_norm(edge_index, edge_weight, num_nodes, dtype=dtype, **settings)
        if settings.get('flow', 'source_to_target') == 'target_to_source':
            index = index.flip(0)
        return cls(index, weight, num_nodes, name)

    @classmethod
    def from_matrix(cls, matrix: Tensor, dtype: Optional[torch.dtype] = None,
                    name: str = 'sparse-operator') -> 'PropagationMatrix':
        """Any given matrix ``[N, N]`` (dense or sparse; rows = targets, e.g. a diffusion)."""
        if matrix.dim() != 2 or matrix.size(0) != matrix.size(1):
            raise ValueError(f"a propagation matrix is a square [N, N] matrix; got shape "
                             f"{tuple(matrix.shape)}")
        coo = matrix.to_sparse_coo().coalesce() if matrix.layout != torch.sparse_coo \
            else matrix.coalesce()
        rows, cols = coo.indices()
        values = coo.values() if dtype is None else coo.values().to(dtype)
        return cls(torch.stack([cols, rows]), values, matrix.size(0), name)

    @cached_property
    def matrix(self) -> Tensor:
        """:math:`S` as CSR, rows = targets."""
        size = (self.num_nodes, self.num_nodes)
        return _csr(self.edge_index[1], self.edge_index[0], self.edge_weight, size)

    @cached_property
    def matrix_t(self) -> Tensor:
        """:math:`S^\\top` as CSR."""
        size = (self.num_nodes, self.num_nodes)
        return _csr(self.edge_index[0], self.edge_index[1], self.edge_weight, size)

    def propagate(self, h: Tensor) -> Tensor:
        """:math:`S h`, differentiable in ``h`` (:math:`S^\\top` is built for that only)."""
        if torch.is_grad_enabled() and h.requires_grad:
            return _ConstantSparseMatmul.apply(h, self.matrix, self.matrix_t)
        return sparse_times_dense(self.matrix, h)

    def to_dense(self) -> Tensor:
        return self.matrix.to_dense()

    def restricted(self, nodes: Tensor, name: Optional[str] = None) -> 'PropagationMatrix':
        """:math:`S` restricted to the rows and columns of ``nodes`` (increasing ids), in
        their order: the entries between them, as they are (not normalised again)."""
        index, weight = subgraph(nodes, self.edge_index, self.edge_weight,
                                 relabel_nodes=True, num_nodes=self.num_nodes)
        return PropagationMatrix(index, weight, nodes.numel(), name or self.name)


@dataclass(frozen=True)
class PropagationReport:
    """Which propagation a layer's last call ran (``name``: ``'cached-sparse'``, a given
    matrix's name such as ``'subgraph-sparse'``, or ``'message-passing'``) and, where the
    sparse product did not apply, why (``reason``)."""
    name: str
    reason: Optional[str] = None


def graph_inputs(data) -> tuple:
    """The encoder arguments of a PyG ``Data``: ``(x, edge_index[, edge_weight])``; for a
    loader's batch whose edge weights already are the whole graph's GCN normalisation
    (``gcn_normalized``, :mod:`graphdim.loaders`), ``(x, its PropagationMatrix)``."""
    edge_weight = getattr(data, 'edge_weight', None)
    if getattr(data, 'gcn_normalized', False) and edge_weight is not None:
        return data.x, PropagationMatrix(data.edge_index, edge_weight, data.num_nodes,
                                         name='subgraph-sparse')
    if edge_weight is None:
        return data.x, data.edge_index
    return data.x, data.edge_index, edge_weight


class Transient:
    """Values kept between calls for speed only: left out of copies and pickles (sparse CSR
    tensors, and tensors in an autograd graph, can be neither)."""
    def __getstate__(self) -> dict:
        return {}  # the constructor's arguments, nothing kept

    def __setstate__(self, state: dict):
        self.__init__(**state)

    def __deepcopy__(self, memo):
        copied = type(self).__new__(type(self))
        copied.__setstate__(self.__getstate__())
        return copied


class GraphCache(Transient):
    """What was built from the last ``capacity`` groups of tensors (two: a model's graph
    and one seen beside it, e.g. an edge-dropped copy, without evicting the graph),
    rebuilt when a tensor is another object or was edited in place (its version counter).
    The tensors are held by weak references: a dead one is never matched, so neither their
    memory nor their ids can be mistaken for a later tensor's."""
    def __init__(self, capacity: int = 2):
        self.capacity = capacity
        self._entries: List[Tuple[Tuple, Tuple, Any]] = []  # (weak refs, versions, value)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def latest(self) -> Any:
        """The value used last (None when empty)."""
        return self._entries[0][2] if self._entries else None

    def get(self, build: Callable[..., Any], *key) -> Any:
        """``build(*key)``, cached for exactly these tensors (and equal other values)."""
        versions = tuple(t._version if isinstance(t, Tensor) else t for t in key)
        for position, (refs, seen, value) in enumerate(self._entries):
            if seen == versions and all(
                    ref is None or ref() is item for ref, item in zip(refs, key)):
                self._entries.insert(0, self._entries.pop(position))
                return value
        value = build(*key)
        refs = tuple(weakref.ref(t) if isinstance(t, Tensor) else None for t in key)
        self._entries = [(refs, versions, value)] + self._entries[:self.capacity - 1]
        return value

    def __getstate__(self) -> dict:
        return {'capacity': self.capacity}


class _KeptTransform(Transient):
    """The last :math:`XW` a layer computed of constant features, kept for the permuted
    view of the same features that follows it (and dropped when it is used)."""
    def __init__(self):
        self.clear()

    def clear(self):
        self.source, self.key, self.value = None, None, None


def _sparse_features(x: Tensor) -> Optional[Tuple[Tensor, Tensor]]:
    """``(X, X^T)`` as CSR where ``x`` is sparse enough, else None."""
    if float(torch.count_nonzero(x)) / max(x.numel(), 1) >= SPARSE_FEATURE_DENSITY:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        return x.to_sparse_csr(), x.t().to_sparse_csr()


def _why_not_cached(edge_index, edge_weight) -> Optional[str]:
    """Why the inputs cannot give a constant cached matrix, or None where they can."""
    if not isinstance(edge_index, Tensor) or edge_index.layout != torch.strided \
            or edge_index.dim() != 2 or edge_index.size(0) != 2 \
            or edge_index.dtype != torch.long:
        kind = f'a sparse {edge_index.layout} tensor' if isinstance(edge_index, Tensor) \
            and edge_index.layout != torch.strided else f'a {type(edge_index).__name__}'
        return f"inputs are {kind}, not an edge_index [2, E] of longs"
    if edge_weight is not None and edge_weight.requires_grad:
        return "edge_weight requires gradients (the cached matrix is a constant)"
    return None


class CachedGCNConv(GCNConv):
    """PyG's ``GCNConv`` with graphdim's fast path inside (see the module docstring).

    Args:
        in_channels, out_channels: as ``GCNConv``; further keyword arguments go to it.
        cache: the :class:`GraphCache` of its matrices (an encoder gives its layers one).
        fast_path: ``False`` runs PyG's message passing (the reference the fast path equals).
    """
    def __init__(self, in_channels: int, out_channels: int,
                 cache: Optional[GraphCache] = None, fast_path: bool = True, **kwargs):
        super().__init__(in_channels, out_channels, **kwargs)
        self.graph_cache = cache if cache is not None else GraphCache()
        self.fast_path = fast_path
        self.report: Optional[PropagationReport] = None
        self._features = GraphCache(capacity=1)  # the last input features' CSR, if sparse
        self._kept = _KeptTransform()

    def reset_parameters(self):
        """PyG's initialisation (on a row-major weight: the same values), then the weight
        kept column-major, ``lin.weight.t()`` contiguous: MKL's sparse product takes it as it
        is and its gradient :math:`X^\top G` lands in that layout, where a row-major weight
        costs two transposing copies a step (Cora's DGI step 23.2 -> 20.8 ms, CiteSeer's
        34.7 -> 29.1, same values bit for bit; 2-core Xeon)."""
        weight = self.lin.weight
        if torch.nn.parameter.is_lazy(weight):  # in_channels=-1: PyG lays it out later
            return super().reset_parameters()
        weight.data = weight.data.contiguous()
        super().reset_parameters()
        weight.data = weight.data.t().contiguous().t()

    def forward(self, x: Tensor, edge_index, edge_weight: Optional[Tensor] = None) -> Tensor:
        """:math:`S (X W) + b`; ``edge_index`` a PyG graph, or a :class:`PropagationMatrix`
        :math:`S` used as it is."""
        given = isinstance(edge_index, PropagationMatrix)
        why = 'fast_path=False' if not self.fast_path \
            else None if given else _why_not_cached(edge_index, edge_weight)
        if why is not None:
            return self._message_passing(x, edge_index, edge_weight, why)
        matrix = edge_index if given else self.graph_cache.get(
            self._gcn_matrix, edge_index, edge_weight, x.size(0), x.dtype)
        self.report = PropagationReport(matrix.name)
        out = matrix.propagate(self.transform(x))
        # in place: the product is a fresh tensor that nothing saves for backward
        return out if self.bias is None else out.add_(self.bias)

    def _message_passing(self, x: Tensor, edge_index, edge_weight: Optional[Tensor],
                         why: str) -> Tensor:
        """PyG's own computation: ``GCNConv.forward``, or message passing over a given
        matrix's entries as they are."""
        self.report = PropagationReport('message-passing', why)
        if not isinstance(edge_index, PropagationMatrix):
            return super().forward(x, edge_index, edge_weight)
        out = self.propagate(edge_index.edge_index, x=self.lin(x),
                             edge_weight=edge_index.edge_weight)
        return out if self.bias is None else out + self.bias

    def _gcn_matrix(self, edge_index: Tensor, edge_weight: Optional[Tensor], num_nodes: int,
                    dtype: torch.dtype) -> PropagationMatrix:
        if not self.normalize:
            weight = edge_weight if edge_weight is not None else torch.ones(
                edge_index.size(1), dtype=dtype, device=edge_index.device)
            index = edge_index if self.flow == 'source_to_target' else edge_index.flip(0)
            return PropagationMatrix(index, weight.to(dtype), num_nodes, 'cached-sparse')
        return PropagationMatrix.gcn(edge_index, edge_weight, num_nodes, dtype,
                                     improved=self.improved,
                                     add_self_loops=self.add_self_loops, flow=self.flow)

    def transform(self, x: Tensor) -> Tensor:
        """:math:`X W^\\top`; of corrupted features, from what they are made of."""
        if isinstance(x, PermutedRows) and x.pending:
            return x.of(self._transform_of(x.source))
        h = self._linear(x)
        if torch.is_grad_enabled() and (isinstance(x, DerivedFeatures) or x.grad_fn is None):
            kept = self._kept
            kept.source, kept.key, kept.value = x, self._key(x), h
        return h

    def _key(self, x: Tensor) -> Tuple[int, ...]:
        root = x.root if isinstance(x, DerivedFeatures) else x
        return root._version, self.lin.weight._version

    def _transform_of(self, source: Tensor) -> Tensor:
        """``transform(source)``: the one kept from the last call where it was computed
        there (the clean view of a row shuffle), else computed again."""
        kept = self._kept
        value = kept.value if kept.source is source and kept.key == self._key(source) \
            else None
        kept.clear()  # used once: nothing is held past the view that needed it
        return value if value is not None else self._linear(source)

    def _linear(self, x: Tensor) -> Tensor:
        weight = self.lin.weight
        if isinstance(x, MaskedColumns) and x.pending:  # X diag(m) W^T = X (W diag(m))^T
            weight, x = weight * x.keep.to(weight.dtype), x.source
        if isinstance(x, DerivedFeatures):
            x = x.values()
        held = None if x.requires_grad else self._features.get(_sparse_features, x)
        if held is not None:
            return _ConstantSparseMatmul.apply(weight.t(), *held)
        return F.linear(x, weight)


def check_edge_weight(conv: torch.nn.Module, edge_weight: Optional[Tensor]) -> None:
    """The one rule for edge weights: only GCN layers take them; any other conv given them
    raises (full graph, mini-batch and layer-wise alike) rather than dropping them."""
    if edge_weight is not None and not isinstance(conv, GCNConv):
        raise ValueError(f"{type(conv).__name__} does not use edge weights, but the graph has "
                         f"them: drop edge_weight (e.g. del data.edge_weight) or use the "
                         f"'gcn' encoder")


def cached_convs(module: torch.nn.Module) -> List[CachedGCNConv]:
    return [m for m in module.modules() if isinstance(m, CachedGCNConv)]


def propagation_report(encoder: torch.nn.Module) -> Optional[PropagationReport]:
    """Which propagation the encoder's first layer ran last, and why (None before a call):
    a module without a :class:`CachedGCNConv` runs message passing throughout."""
    convs = cached_convs(encoder)
    if convs:
        return convs[0].report
    kind = getattr(encoder, 'conv', None)
    return PropagationReport('message-passing', (
        f"encoder {kind!r} has no linear-then-propagate form" if isinstance(kind, str)
        else f"encoder {type(encoder).__name__} has no CachedGCNConv layer"))


class EncoderFastPath:
    """For a model whose ``encoder`` may hold :class:`CachedGCNConv` layers: ``fast_path``
    switches all of them, ``propagation`` reports the first one's last call."""
    @property
    def fast_path(self) -> bool:
        """Whether the encoder's ``CachedGCNConv`` layers run their fast path."""
        return all(conv.fast_path for conv in cached_convs(self.encoder))

    @fast_path.setter
    def fast_path(self, value: bool):
        for conv in cached_convs(self.encoder):
            conv.fast_path = value

    @property
    def propagation(self) -> Optional[PropagationReport]:
        """Which propagation the last call ran and, where not the cached operator, why."""
        return propagation_report(self.encoder)
