"""The reinforcement depth of GGD's embeddings, chosen on validation: the linear probe on
:math:`z + \\hat A^k z` (or :math:`\\hat A^k z`) for each ``k`` of a grid, the best
validation accuracy wins, and only the chosen probe's test score is kept."""
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence, Tuple

import torch
from torch import Tensor

from ..graph.reinforcement import check_mode, propagated_powers
from ..progress import steps
from .linear import linear_probe
from .result import ProbeResult
from .splits import Split

HOPS_GRID = (0, 1, 2, 3, 5, 10)


@dataclass
class ReinforcedProbe:
    """The probe of the validation-chosen reinforcement: ``hops`` and ``mode`` (``hops=0``:
    the embeddings as they are), the chosen :class:`ProbeResult` (``result``: its
    ``test_score`` is the one test figure) and every candidate's validation accuracy,
    ``val_scores[(mode, hops)]``. ``plain`` is the probe of the embeddings as they are
    (``hops=0``) where the grid holds 0: what reinforcement is measured against."""
    result: ProbeResult
    hops: int
    mode: str
    val_scores: Dict[Tuple[str, int], float] = field(default_factory=dict)
    plain: Optional[ProbeResult] = None

    @property
    def test_score(self) -> float:
        return self.result.test_score

    @property
    def val_score(self) -> float:
        return self.result.val_score


def choose_hops(z: Tensor, data, split: Split, grid: Sequence[int] = HOPS_GRID,
                modes: Sequence[str] = ('add',), device: Optional[torch.device] = None
                ) -> ReinforcedProbe:
    """:func:`graphdim.linear_probe` on :func:`graphdim.reinforce` ``(z, data, k, mode)``
    for each ``k`` of ``grid`` and each of ``modes`` (``hops=0`` once: ``z`` itself); the
    candidate with the best validation accuracy is chosen (ties: the smaller ``k``, then the
    earlier mode). The powers :math:`\\hat A^k z` are computed incrementally, ``max(grid)``
    sparse products for the whole grid. ``data`` gives ``edge_index`` (optional
    ``edge_weight``) and the labels ``y``."""
    if not len(grid):
        raise ValueError("grid needs at least one number of hops")
    if not len(modes):
        raise ValueError("modes needs at least one of 'add', 'replace'")
    for mode in modes:
        check_mode(mode)
    best, val_scores, plain = None, {}, None
    for k, smoothed in steps(propagated_powers(z, data.edge_index, grid,
                                               getattr(data, 'edge_weight', None),
                                               data.num_nodes),
                             'reinforcement K', total=len(set(grid)), unit='K'):
        for mode in (modes[:1] if k == 0 else modes):
            candidate = z if k == 0 else (z.detach() + smoothed if mode == 'add' else smoothed)
            result = linear_probe(candidate, data.y, split, device=device)
            val_scores[mode, k] = result.val_score
            plain = result if k == 0 else plain
            if best is None or result.val_score > best.val_score:
                best = ReinforcedProbe(result, k, mode)
    best.val_scores, best.plain = val_scores, plain
    return best
