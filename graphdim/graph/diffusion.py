r"""Graph diffusion matrices: personalised PageRank and the heat kernel (GDC, Klicpera et al.,
NeurIPS 2019), the second structural view of multi-view DIM (Hassani & Khasahmadi, 2020).

Both are power series in the symmetric transition matrix with self-loops,
:math:`T = \hat D^{-1/2}(A + I)\hat D^{-1/2}`:

.. math::
    S_{\mathrm{PPR}} = \alpha \big(I - (1 - \alpha) T\big)^{-1}
                     = \alpha \sum_{k \ge 0} (1 - \alpha)^k T^k, \qquad
    S_{\mathrm{heat}} = e^{-t (I - T)} = e^{-t} \sum_{k \ge 0} \frac{t^k}{k!} T^k.

Small graphs (up to ``exact_max_nodes``) get the closed form in float64 (an inverse or a
matrix exponential). Larger ones never hold a dense ``N x N`` matrix: the series is summed on
blocks of columns of :math:`I` with sparse products until its tail is below ``tol``, and
each block is sparsified at once, so memory is one ``[N, block]`` block plus the kept entries.
Time is ``terms x N / block`` sparse products (PPR at ``tol=1e-5``: 52 terms), minutes on a
2-core CPU for PubMed's 19,717 nodes: computed once per graph, not per epoch.
Sparsification, as in GDC: keep the ``top_k`` largest entries of every column, or the entries
of at least ``eps``. The result is a sparse ``[N, N]`` matrix (rows = targets), built once per
graph, for :func:`graphdim.graph.propagation.operator_from_matrix`.
"""
import math
import warnings
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm

DIFFUSIONS = ('ppr', 'heat')


def transition_matrix(edge_index: Tensor, num_nodes: int,
                      edge_weight: Optional[Tensor] = None) -> Tensor:
    r""":math:`T = \hat D^{-1/2}(A + I)\hat D^{-1/2}` as a sparse float64 ``[N, N]`` matrix."""
    index, weight = gcn_norm(edge_index, edge_weight, num_nodes, add_self_loops=True,
                             dtype=torch.float64)
    return torch.sparse_coo_tensor(index.flip(0), weight, (num_nodes, num_nodes),
                                   check_invariants=True).coalesce()


def check_diffusion(method: str, alpha: float, t: float) -> None:
    """Reject an unknown diffusion or a parameter out of its range, naming it."""
    if method not in DIFFUSIONS:
        raise ValueError(f"unknown diffusion {method!r}; choose one of {', '.join(DIFFUSIONS)}")
    if method == 'ppr' and not 0 < alpha < 1:
        raise ValueError(f"ppr's alpha must be in (0, 1); got {alpha}")
    if method == 'heat' and not 0 < t < float('inf'):
        raise ValueError(f"heat's t must be a finite number > 0; got {t}")


def _series(method: str, alpha: float, t: float, tol: float):
    """The coefficients :math:`c_k` of :math:`S = \\sum_k c_k T^k`, up to a tail below tol
    (:math:`\\|T\\|_2 \\le 1`, so the tail is bounded by the sum of the remaining c_k)."""
    if method == 'ppr':
        terms = max(1, math.ceil(math.log(tol) / math.log(1 - alpha)))
        return [alpha * (1 - alpha) ** k for k in range(terms)]
    coefficients, k, c, total = [], 0, math.exp(-t), 0.0
    while 1.0 - total > tol:
        coefficients.append(c)
        total += c
        k += 1
        c *= t / k
    return coefficients


def _exact(method: str, transition: Tensor, alpha: float, t: float) -> Tensor:
    dense = transition.to_dense()
    eye = torch.eye(dense.size(0), dtype=dense.dtype)
    if method == 'ppr':
        return alpha * torch.linalg.inv(eye - (1 - alpha) * dense)
    return torch.linalg.matrix_exp(-t * (eye - dense))


def _sparsify(block: Tensor, columns: Tensor, top_k: Optional[int],
              eps: Optional[float]) -> Tuple[Tensor, Tensor]:
    """Kept ``(index [2, nnz], values)`` of a dense ``[N, b]`` block of ``S``'s columns."""
    if top_k is not None and top_k < block.size(0):
        values, rows = block.topk(top_k, dim=0)
        cols = columns.unsqueeze(0).expand_as(rows)
        keep = values > 0
        return torch.stack([rows[keep], cols[keep]]), values[keep]
    keep = block >= eps if eps is not None else block != 0
    rows, local = keep.nonzero(as_tuple=True)
    return torch.stack([rows, columns[local]]), block[rows, local]


def diffusion_matrix(edge_index: Tensor, num_nodes: int, method: str = 'ppr',
                     alpha: float = 0.2, t: float = 5.0, top_k: Optional[int] = None,
                     eps: Optional[float] = None, edge_weight: Optional[Tensor] = None,
                     exact_max_nodes: int = 5000, tol: float = 1e-5,
                     block_size: int = 1024) -> Tensor:
    """The diffusion matrix ``S`` of a graph as a sparse float32 ``[N, N]`` tensor.

    Args:
        method: ``'ppr'`` (``alpha``: teleport probability, MVGRL 0.2) or ``'heat'``
            (``t``: diffusion time, MVGRL 5).
        top_k: sparsify by keeping each column's ``top_k`` largest entries; this or ``eps``
            is needed above ``exact_max_nodes``, where ``S`` is dense and would take
            ``N^2`` floats.
        eps: sparsify by keeping the entries ``>= eps``.
        exact_max_nodes: largest graph computed in closed form; larger ones by the series.
        tol: the series' tail bound (each entry's error is below it).
    """
    check_diffusion(method, alpha, t)
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1; got {top_k}")
    if num_nodes > exact_max_nodes and top_k is None and eps is None:
        gib = num_nodes ** 2 * 4 / 2 ** 30
        raise ValueError(f"a diffusion matrix of {num_nodes} nodes is dense ({gib:.1f} GiB); "
                         f"sparsify it with top_k (e.g. 128) or eps (e.g. 1e-4)")
    transition = transition_matrix(edge_index, num_nodes, edge_weight)
    if num_nodes <= exact_max_nodes:
        blocks = [(_exact(method, transition, alpha, t), torch.arange(num_nodes))]
    else:
        blocks = _series_blocks(method, transition, alpha, t, tol, block_size)
    parts = [_sparsify(block, columns, top_k, eps) for block, columns in blocks]
    index = torch.cat([p[0] for p in parts], dim=1)
    values = torch.cat([p[1] for p in parts]).float()
    return torch.sparse_coo_tensor(index, values, (num_nodes, num_nodes),
                                   check_invariants=False).coalesce()


def _series_blocks(method, transition, alpha, t, tol, block_size):
    """Yield ``(S[:, columns], columns)`` for blocks of columns, summing the series."""
    coefficients = _series(method, alpha, t, tol)
    num_nodes = transition.size(0)
    with warnings.catch_warnings():  # torch flags sparse CSR as beta; we rely on mm only
        warnings.simplefilter('ignore', UserWarning)
        csr = transition.float().to_sparse_csr()  # float32 CSR: half the time of float64 COO
    for start in range(0, num_nodes, block_size):
        columns = torch.arange(start, min(start + block_size, num_nodes))
        power = torch.zeros(num_nodes, columns.numel())
        power[columns, torch.arange(columns.numel())] = 1.0  # T^0 = I's columns
        block = coefficients[0] * power
        for c in coefficients[1:]:
            power = csr @ power
            block.add_(power, alpha=c)
        yield block, columns


# The last graph's diffusion matrix, kept for the next model on the same graph (one per seed
# in an experiment): (edge_index, edge_weight, its versions, settings) -> matrix.
_LAST: dict = {}


def cached_diffusion_matrix(edge_index: Tensor, num_nodes: int,
                            edge_weight: Optional[Tensor] = None, **settings) -> Tensor:
    """:func:`diffusion_matrix`, computed once for the same (unchanged) tensors and settings:
    the last result is kept (PubMed's takes a minute on 2 CPU cores). It is computed on the
    CPU and returned on ``edge_index``'s device."""
    key = (num_nodes, edge_index._version,
           None if edge_weight is None else edge_weight._version, sorted(settings.items()))
    if (_LAST.get('edge_index') is edge_index and _LAST.get('edge_weight') is edge_weight
            and _LAST.get('key') == key):
        return _LAST['matrix']
    matrix = diffusion_matrix(edge_index.cpu(), num_nodes, edge_weight=None if edge_weight
                              is None else edge_weight.cpu(), **settings).to(edge_index.device)
    _LAST.clear()
    _LAST.update(edge_index=edge_index, edge_weight=edge_weight, key=key, matrix=matrix)
    return matrix


class DiffusionView:
    """A PyG transform that adds a graph's diffusion as a second, weighted edge set:
    ``diffusion_index`` ``[2, E']`` (sources first, as ``edge_index``) and
    ``diffusion_weight`` ``[E']``, the entries of :func:`diffusion_matrix` (closed form; the
    graphs of graph classification are small). PyG batches them like ``edge_index`` (the
    ``index`` in the name shifts them by each graph's offset). Entries below ``eps`` are
    dropped. Graph-level multi-view DIM (:class:`~graphdim.graph.models.mvgrl_graph.GraphMVGRL`)
    reads them."""
    def __init__(self, method: str = 'ppr', alpha: float = 0.2, t: float = 5.0,
                 eps: float = 1e-4):
        check_diffusion(method, alpha, t)  # before any graph, not at the first one
        self.method, self.alpha, self.t, self.eps = method, alpha, t, eps

    def __call__(self, data):
        matrix = diffusion_matrix(data.edge_index, data.num_nodes, self.method, self.alpha,
                                  self.t, eps=self.eps, exact_max_nodes=max(data.num_nodes, 1))
        targets, sources = matrix.indices()
        data = data.clone()
        data.diffusion_index = torch.stack([sources, targets])
        data.diffusion_weight = matrix.values()
        return data

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.method}, alpha={self.alpha}, t={self.t})'
