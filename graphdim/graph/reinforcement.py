r"""Embedding reinforcement (GGD, Zheng et al. 2022): smooth frozen node embeddings over the
graph at inference time.

With :math:`\hat A = \hat D^{-1/2}(A + I)\hat D^{-1/2}` (GCN's normalisation, self-loops
added), ``mode='add'`` returns GGD's :math:`Z + \hat A^k Z` and ``mode='replace'``
:math:`\hat A^k Z` (SGC-style smoothing); ``hops=0`` returns :math:`Z` itself (no
reinforcement). :math:`\hat A^k Z` is ``k`` sparse products, :math:`\hat A` is never raised
to a power, and nothing needs gradients: any frozen embedding tensor on any device.
:func:`propagated_powers` gives several ``k`` for the cost of the largest (the validation
choice of :func:`graphdim.eval.choose_hops`).

``multiscale_features`` is S²GC's multi-scale smoothing (Zhu & Koniusz 2021), the
training-free baseline's form: :math:`\alpha X + \frac{1-\alpha}{K}\sum_{k=1}^{K}\hat A^k X`,
for several ``K`` and ``alpha`` from the same ``max(K)`` sparse products.
"""
import math
from typing import Iterator, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .checks import check_edge_index, check_edge_weight
from .propagation import PropagationMatrix

MODES = ('add', 'replace')
# The form multiscale_features computes, as results name it beside MODES' (not one of them:
# it needs alpha, so --reinforcement does not offer it).
MULTISCALE = 'multiscale'
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


def check_alpha(alpha) -> float:
    """``alpha`` as a float, or a ``ValueError`` for anything but a number in [0, 1]."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or \
            not (math.isfinite(alpha) and 0 <= alpha <= 1):
        raise ValueError(f"alpha (the weight of the features themselves in the multi-scale "
                         f"average) must be a number in [0, 1]; got {alpha!r}")
    return float(alpha)


def multiscale_features(x: Tensor, edge_index: Tensor, hops: Sequence[int],
                        alphas: Sequence[float], edge_weight: Optional[Tensor] = None,
                        num_nodes: Optional[int] = None
                        ) -> Iterator[Tuple[int, float, Tensor]]:
    r"""``(K, alpha, alpha x + (1 - alpha) / K * sum_{k=1..K} Â^k x)`` for each distinct ``K``
    of ``hops`` (each at least 1) in increasing order and each ``alpha`` of ``alphas`` (in
    [0, 1]): S²GC's multi-scale features, ``max(hops)`` sparse products in all
    (:func:`propagated_powers`, the running sum kept in at least float32). Each is returned
    in ``x``'s dtype; the inputs are checked on the call."""
    steps = sorted({check_hops(k) for k in hops})
    if not steps or steps[0] < 1:
        raise ValueError(f"multi-scale features average the powers 1..K: every K must be at "
                         f"least 1; got {list(hops)!r}")
    weights = [check_alpha(a) for a in alphas]
    if not weights:
        raise ValueError("alphas needs at least one weight in [0, 1]")
    powers = propagated_powers(x, edge_index, range(steps[-1] + 1), edge_weight, num_nodes)
    return _multiscale(x.detach(), powers, set(steps), weights)


@torch.no_grad()
def _multiscale(x: Tensor, powers, steps, weights):
    total_dtype = torch.promote_types(x.dtype, torch.float32)
    features, total = x.to(total_dtype), None
    for k, power in powers:
        if k == 0:
            continue
        total = power.to(total_dtype) if total is None else total + power.to(total_dtype)
        if k in steps:
            mean = total / k
            for alpha in weights:
                yield k, alpha, (alpha * features + (1 - alpha) * mean).to(x.dtype)
