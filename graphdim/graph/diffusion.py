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
The series is bounded: at most ``MAX_SERIES_TERMS`` terms (a parameter needing more is one
error naming it and the range that fits), and every result is checked to be finite and
non-empty (a near-singular PPR or an overflowing heat kernel is an error, not a view of NaN).
Sparsification, as in GDC: keep the ``top_k`` largest entries of every column, or the entries
of at least ``eps``. The result is a sparse ``[N, N]`` matrix (rows = targets), built once per
graph, for :meth:`graphdim.graph.propagation.PropagationMatrix.from_matrix`.
"""
import math
import warnings
from typing import List, Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm

DIFFUSIONS = ('ppr', 'heat')
# The most terms a series sums: each is a sparse product per block of columns (PPR at the
# default alpha 0.2 needs 52), so this bounds the time of a large graph's diffusion.
MAX_SERIES_TERMS = 1200
# The parameters' ranges (also the options' --alpha and --diffusion-time, checked with the
# config): what the series of any graph sums within MAX_SERIES_TERMS at the default tol 1e-5
# (alpha 0.01: 1146 terms; t 100: 146), and where the closed forms stay accurate (a tiny
# alpha makes I - (1 - alpha) T singular, a huge t overflows the matrix exponential). GDC's
# useful range is alpha 0.05-0.2 and t 1-10 (MVGRL: 0.2 and 5); a larger t or a smaller alpha
# only tends to the same average over each connected component.
ALPHA_MIN = 0.01
TIME_MAX = 100.0


def transition_matrix(edge_index: Tensor, num_nodes: int,
                      edge_weight: Optional[Tensor] = None) -> Tensor:
    r""":math:`T = \hat D^{-1/2}(A + I)\hat D^{-1/2}` as a sparse float64 ``[N, N]`` matrix."""
    index, weight = gcn_norm(edge_index, edge_weight, num_nodes, add_self_loops=True,
                             dtype=torch.float64)
    return torch.sparse_coo_tensor(index.flip(0), weight, (num_nodes, num_nodes),
                                   check_invariants=True).coalesce()


def check_diffusion(method: str, alpha: float, t: float) -> None:
    """Reject an unknown diffusion or a parameter out of the range it is computed in
    (:data:`ALPHA_MIN`, :data:`TIME_MAX`), naming it."""
    if method not in DIFFUSIONS:
        raise ValueError(f"unknown diffusion {method!r}; choose one of {', '.join(DIFFUSIONS)}")
    if method == 'ppr' and not ALPHA_MIN <= alpha < 1:
        raise ValueError(f"ppr's alpha must be in [{ALPHA_MIN:g}, 1); got {alpha!r}")
    if method == 'heat' and not 0 < t <= TIME_MAX:
        raise ValueError(f"heat's t must be a number in (0, {TIME_MAX:g}]; got {t!r}")


def _series(method: str, alpha: float, t: float, tol: float) -> List[float]:
    """The coefficients :math:`c_k` of :math:`S = \\sum_k c_k T^k`, up to a tail below tol
    (:math:`\\|T\\|_2 \\le 1`, so the tail is bounded by the sum of the remaining c_k); at
    most ``MAX_SERIES_TERMS`` of them, else a ValueError naming the parameter and its range."""
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1); got {tol!r}")
    if method == 'ppr':  # log1p: 1 - alpha rounds to 1 for alpha below 1e-16
        terms = max(1, math.ceil(math.log(tol) / math.log1p(-alpha)))
        if terms > MAX_SERIES_TERMS:
            raise _too_many_terms('alpha (--alpha)', alpha, tol, '>=', 1 - math.exp(
                math.log(tol) / MAX_SERIES_TERMS))
        return [alpha * (1 - alpha) ** k for k in range(terms)]
    coefficients = _heat_coefficients(t, tol)
    if coefficients is None:
        raise _too_many_terms('t (--diffusion-time)', t, tol, '<=', _largest_time(tol))
    return coefficients


def _heat_coefficients(t: float, tol: float) -> Optional[List[float]]:
    """:math:`e^{-t} t^k / k!` (in log space: :math:`e^{-t}` underflows past t = 745) until
    their sum is within ``tol`` of 1, or None past ``MAX_SERIES_TERMS``."""
    coefficients, total = [], 0.0
    for k in range(MAX_SERIES_TERMS):
        c = math.exp(-t + k * math.log(t) - math.lgamma(k + 1))
        coefficients.append(c)
        total += c
        if 1.0 - total <= tol:
            return coefficients
    return None


def _largest_time(tol: float) -> float:
    """The largest heat time whose series fits in ``MAX_SERIES_TERMS`` terms at ``tol``."""
    low, high = 0.0, float(MAX_SERIES_TERMS)  # the Poisson(t) mass needs more than t terms
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if _heat_coefficients(middle, tol) else (low, middle)
    return low


def _too_many_terms(name: str, value: float, tol: float, relation: str,
                    bound: float) -> ValueError:
    return ValueError(f"{name} {value!r} needs more than {MAX_SERIES_TERMS} diffusion series "
                      f"terms for tol {tol:g}; use {name.split()[0]} {relation} {bound:.4g} "
                      f"or a larger tol")


def _check_result(block: Tensor, method: str, alpha: float, t: float) -> Tensor:
    """``block`` of ``S`` if every entry is finite and non-negative (a series of
    non-negative matrices with non-negative coefficients; 1e-6 leaves room for rounding),
    else a ValueError naming the parameter (an overflowing heat kernel, the inverse of a
    numerically singular ``I - (1 - alpha) T``)."""
    if not bool(torch.isfinite(block).all()) or (block.numel() and float(block.min()) < -1e-6):
        raise _not_computable(method, alpha, t)
    return block


def _not_computable(method: str, alpha: float, t: float) -> ValueError:
    what = (f"alpha {alpha!r}; alpha must be in [{ALPHA_MIN:g}, 1) (--alpha)" if method == 'ppr'
            else f"t {t!r}; t must be in (0, {TIME_MAX:g}] (--diffusion-time)")
    return ValueError(f"the {method} diffusion matrix has non-finite or negative entries with "
                      f"{what}, and the edge weights non-negative")


def _exact(method: str, transition: Tensor, alpha: float, t: float) -> Tensor:
    dense = transition.to_dense()
    eye = torch.eye(dense.size(0), dtype=dense.dtype)
    if method == 'ppr':
        try:  # singular where 1 - alpha rounds to 1
            return alpha * torch.linalg.inv(eye - (1 - alpha) * dense)
        except torch.linalg.LinAlgError:
            raise _not_computable(method, alpha, t) from None
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
        method: ``'ppr'`` (``alpha``: teleport probability in [0.01, 1), MVGRL 0.2) or
            ``'heat'`` (``t``: diffusion time in (0, 100], MVGRL 5).
        top_k: sparsify by keeping each column's ``top_k`` largest entries; this or ``eps``
            is needed above ``exact_max_nodes``, where ``S`` is dense and would take
            ``N^2`` floats.
        eps: sparsify by keeping the entries ``>= eps``.
        exact_max_nodes: largest graph computed in closed form; larger ones by the series.
        tol: the series' tail bound (each entry's error is below it); a tol that needs
            more than 1200 terms is refused.

    Raises:
        ValueError: a parameter out of its range, or a result with non-finite or negative
            entries or none kept.
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
    parts = [_sparsify(_check_result(block, method, alpha, t), columns, top_k, eps)
             for block, columns in blocks]
    index = torch.cat([p[0] for p in parts], dim=1)
    values = torch.cat([p[1] for p in parts]).float()
    if num_nodes > 0 and values.numel() == 0:  # the view would carry nothing
        raise ValueError(f"the {method} diffusion matrix of {num_nodes} nodes keeps no entry "
                         f"(eps {eps!r}, alpha {alpha!r}, t {t!r}): lower eps, or use top_k")
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
