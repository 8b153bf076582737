r"""Embedding reinforcement (GGD, Zheng et al. 2022): smooth frozen node embeddings over the
graph at inference time.

With :math:`\hat A = \hat D^{-1/2}(A + I)\hat D^{-1/2}` (GCN's normalisation, self-loops
added), ``mode='add'`` returns GGD's :math:`Z + \hat A^k Z` and ``mode='replace'``
:math:`\hat A^k Z` (SGC-style smoothing); ``hops=0`` returns :math:`Z` itself (no
reinforcement). :math:`\hat A^k Z` is ``k`` sparse products, :math:`\hat A` is never raised
to a power, and nothing needs gradients: any frozen embedding tensor on any device.
:func:`propagated_powers` gives several ``k`` for the cost of the largest (the validation
choice of :func:`graphdim.eval.choose_hops`).
"""
from typing import Iterator, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .checks import check_edge_index, check_edge_weight
from .propagation import PropagationMatrix

MODES = ('add', 'replace')
# The most hops reinforcement takes: K sparse products, so K is bounded wherever it is read
# (a tampered config.json or results.json holding 10**12 would never finish); smoothing has
# long converged to the graph's stationary vector by then (GGD uses K <= 10).
MAX_HOPS = 100


def check_hops(hops) -> int:
    """``hops`` as an int, or a ``ValueError`` for anything but an integer in
    0 .. :data:`MAX_HOPS`."""
    if isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= MAX_HOPS:
        raise ValueError(f"hops must be a non-negative integer (0: no reinforcement) of at "
                         f"most {MAX_HOPS}; got {hops!r}")
    return hops


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"unknown reinforcement mode {mode!r}; choose one of "
                         f"{', '.join(MODES)} ('add': z + A^k z, GGD's; 'replace': A^k z)")
    return mode


def propagated_powers(z: Tensor, edge_index: Tensor, hops: Sequence[int],
                      edge_weight: Optional[Tensor] = None,
                      num_nodes: Optional[int] = None) -> Iterator[Tuple[int, Tensor]]:
    """``(k, Â^k z)`` for each distinct ``k`` of ``hops`` in increasing order, each power
    from the previous one: ``max(hops)`` sparse products in all. The inputs are checked
    on the call, before the first product."""
    steps = sorted({check_hops(k) for k in hops})
    if z.dim() != 2:
        raise ValueError(f"embeddings must be a 2-D [N, D] tensor; got shape {list(z.shape)}")
    if num_nodes is not None and num_nodes != z.size(0):
        raise ValueError(f"embeddings have {z.size(0)} rows but the graph has {num_nodes} "
                         f"nodes: pass one row per node, in node order")
    if not z.is_floating_point():
        raise ValueError(f"embeddings must be floating point; got {z.dtype}")
    check_edge_index(edge_index, z.size(0))  # [2, E] long in range; weights finite, >= 0
    check_edge_weight(edge_weight, edge_index.size(1), float32=False)
    edge_index = edge_index.to(z.device)
    # Half precision has no sparse product on every device (none on the CPU): such embeddings
    # are smoothed in float32 and each power is returned in their own dtype.
    compute = torch.float32 if z.dtype in (torch.float16, torch.bfloat16) else z.dtype
    if edge_weight is not None:
        edge_weight = edge_weight.to(z.device, compute)
    return _powers(z.detach(), edge_index, edge_weight, steps, compute)


@torch.no_grad()
def _powers(z: Tensor, edge_index: Tensor, edge_weight: Optional[Tensor], steps,
            compute: torch.dtype):
    adjacency, h, done = None, z.to(compute), 0
    for k in steps:
        if k > 0 and adjacency is None:  # no gradients: its transpose is never built
            adjacency = PropagationMatrix.gcn(edge_index, edge_weight, z.size(0), compute)
        for _ in range(k - done):
            h = adjacency.propagate(h)
        done = k
        yield k, h.to(z.dtype)


@torch.no_grad()
def reinforce(z: Tensor, edge_index: Tensor, hops: int, edge_weight: Optional[Tensor] = None,
              num_nodes: Optional[int] = None, mode: str = 'add') -> Tensor:
    r"""``z + Â^hops z`` (``mode='add'``, GGD's) or ``Â^hops z`` (``'replace'``); ``z``
    itself when ``hops == 0``.

    Args:
        z: frozen node embeddings ``[N, D]`` (one row per node, in node order).
        edge_index: the graph ``[2, E]`` (PyG's order; made symmetric or not, as the
            encoder saw it); self-loops are added by the normalisation.
        hops: :math:`k \ge 0`.
        edge_weight: optional edge weights ``[E]`` for the normalisation.
        num_nodes: the graph's node count, checked against ``z``'s rows.
        mode: ``'add'`` or ``'replace'``.
    """
    check_mode(mode)
    check_hops(hops)
    for _, smoothed in propagated_powers(z, edge_index, [hops], edge_weight, num_nodes):
        if hops == 0:
            return z
        return z + smoothed if mode == 'add' else smoothed
