"""The reinforcement depth of GGD's embeddings, chosen without the test labels: the linear
probe on :math:`z + \\hat A^k z` (or :math:`\\hat A^k z`) for each ``k`` of a grid, the best
validation accuracy (or, with ``folds``, the best cross-validated accuracy on the training
and validation labels) wins, and only the chosen probe's test score is kept."""
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from ..graph.reinforcement import MODES, check_mode, propagated_powers
from ..progress import steps
from .linear import C_GRIDS, NORMALIZATIONS, fit_logistic_regression, linear_probe, \
    normalize_embeddings, probe_inputs
from .result import ProbeResult
from .splits import Split

HOPS_GRID = (0, 1, 2, 3, 5, 10)


@dataclass
class ReinforcedProbe:
    """The probe of the validation-chosen reinforcement: ``hops`` and ``mode`` (``hops=0``:
    the embeddings as they are), the chosen :class:`ProbeResult` (``result``: its
    ``test_score`` is the one test figure) and every candidate's validation accuracy,
    ``val_scores[(mode, hops)]``. ``plain`` is the probe of the embeddings as they are
    (``hops=0``) where the grid holds 0: what reinforcement is measured against.
    ``embeddings`` are the chosen candidate's: those the test figure was measured on."""
    result: ProbeResult
    hops: int
    mode: str
    val_scores: Dict[Tuple[str, int], float] = field(default_factory=dict)
    plain: Optional[ProbeResult] = None
    embeddings: Optional[Tensor] = field(default=None, repr=False)

    @property
    def test_score(self) -> float:
        return self.result.test_score

    @property
    def val_score(self) -> float:
        return self.result.val_score


def choose_hops(z: Tensor, data, split: Split, grid: Sequence[int] = HOPS_GRID,
                modes: Sequence[str] = ('add',), device: Optional[torch.device] = None,
                folds: int = 0) -> ReinforcedProbe:
    """:func:`graphdim.linear_probe` on :func:`graphdim.reinforce` ``(z, data, k, mode)``
    for each ``k`` of ``grid`` and each of ``modes`` (``hops=0`` once: ``z`` itself); the
    candidate with the best validation accuracy is chosen (ties: the smaller ``k``, then the
    earlier mode). The powers :math:`\\hat A^k z` are computed incrementally, ``max(grid)``
    sparse products for the whole grid. ``data`` gives ``edge_index`` (optional
    ``edge_weight``) and the labels ``y``.

    ``folds >= 2`` scores each candidate by ``cross_validated_accuracy`` on the training
    and validation rows together instead of by the validation split alone: 500 validation
    nodes move by about a point between candidates from noise alone, so the grid's winner
    changed from seed to seed. The chosen candidate's probe is then fit as always (training
    rows, ``C`` on validation) and scored once on the test rows."""
    if isinstance(folds, bool) or not isinstance(folds, int) or folds == 1 or folds < 0:
        raise ValueError(f"folds must be 0 (choose on the validation split) or an integer "
                         f">= 2; got {folds!r}")
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
                             'reinforcement K', total=len(set(grid)), unit='depth'):
        for mode in (modes[:1] if k == 0 else modes):
            candidate = z if k == 0 else (z.detach() + smoothed if mode == 'add' else smoothed)
            score = cross_validated_accuracy(candidate, data.y, split, folds, device) \
                if folds else None
            result = linear_probe(candidate, data.y, split, device=device) \
                if not folds or k == 0 else None
            val_scores[mode, k] = score if folds else result.val_score
            plain = result if k == 0 else plain
            if best is None or val_scores[mode, k] > best[0]:
                best = (val_scores[mode, k], k, mode, candidate, result)
    _, k, mode, candidate, result = best
    if result is None:  # cross-validated choice: the chosen candidate's own probe
        result = linear_probe(candidate, data.y, split, device=device)
    return ReinforcedProbe(result, k, mode, val_scores, plain, candidate)


def training_free_probe(data, split: Split, device: Optional[torch.device] = None,
                        folds: int = 0) -> ReinforcedProbe:
    """The training-free baseline: :func:`choose_hops` on the raw features ``data.x``, both
    forms (:math:`\\hat A^k X`, :math:`X + \\hat A^k X`) and every ``k`` of
    ``HOPS_GRID``, chosen as ``folds`` says (SGC's and GGCM's kind of baseline)."""
    return choose_hops(data.x, data, split, HOPS_GRID, MODES, device, folds)


def cross_validated_accuracy(x: Tensor, labels: Tensor, split: Split, folds: int,
                             device: Optional[torch.device] = None,
                             c_grid: Sequence[float] = C_GRIDS['node']) -> float:
    """The best mean held-out accuracy, over ``C`` and the row normalisation, of logistic
    regressions fit ``folds`` times on the training and validation rows of ``split`` (each
    fold held out once; scikit-learn's ``StratifiedKFold``, shuffled with seed 0, so every
    fold holds each class in proportion). The test rows are never read."""
    index, _, (train, val, _) = probe_inputs(x, labels, split)
    rows = (train | val).nonzero().view(-1)
    device = device or x.device
    num_classes, y = int(index.max()) + 1, index.to(device)
    correct = torch.zeros(len(NORMALIZATIONS), len(c_grid))
    assignment = [(rows[fitted].to(device), rows[held].to(device))
                  for fitted, held in _stratified_folds(index[rows], folds)]
    for a, kind in enumerate(NORMALIZATIONS):
        features = normalize_embeddings(x.detach().to(device, torch.float32), kind)
        for fitted, held in assignment:
            previous = None
            for c, value in enumerate(sorted(c_grid)):
                previous = fit_logistic_regression(features[fitted], y[fitted], num_classes,
                                                   value, init=previous)
                predicted = torch.addmm(previous[1], features[held], previous[0].t())
                correct[a, c] += float((predicted.argmax(dim=1) == y[held]).sum())
    return float(correct.max()) / rows.numel()


def check_fold_count(classes: Tensor, folds: int) -> None:
    """A ValueError when no class of ``classes`` (the labelled training and validation rows'
    class indices) has ``folds`` rows: stratified folds need one with a row in every fold."""
    largest = int(torch.bincount(classes).max()) if classes.numel() else 0
    if largest < folds:
        raise ValueError(f"{folds}-fold stratified cross-validation needs a class with at "
                         f"least {folds} labelled training and validation rows; the largest "
                         f"has {largest}")


def _stratified_folds(classes: Tensor, folds: int) -> List[Tuple[Tensor, Tensor]]:
    """``folds`` (fitted, held-out) positions into ``classes`` (each row's class index),
    stratified and shuffled with seed 0; a ValueError when no class has ``folds`` rows
    (scikit-learn's own message names no option)."""
    from sklearn.model_selection import StratifiedKFold
    check_fold_count(classes, folds)
    with warnings.catch_warnings():  # a class smaller than folds is simply in fewer folds
        warnings.filterwarnings('ignore', 'The least populated class', UserWarning)
        splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
        return [(torch.from_numpy(fitted), torch.from_numpy(held)) for fitted, held
                in splitter.split(np.zeros((classes.numel(), 1)), classes.numpy())]
