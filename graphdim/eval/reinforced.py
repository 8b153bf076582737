"""The reinforcement depth of GGD's embeddings, chosen without the test labels: the linear
probe on :math:`z + \\hat A^k z` (or :math:`\\hat A^k z`) for each ``k`` of a grid, the best
validation accuracy (or, with ``folds``, the best cross-validated accuracy on the training
and validation labels) wins, and only the chosen probe's test score is kept. The
training-free baseline (``training_free_probe``) chooses the same way among S²GC's
multi-scale averages of the raw features."""
import itertools
import warnings
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

from ..graph.reinforcement import MULTISCALE, check_mode, multiscale_features, \
    propagated_powers
from ..progress import steps
from .linear import C_GRIDS, NORMALIZATIONS, AdamSchedule, adam_logistic_paths, \
    check_c_grid, fit_logistic_regression, linear_probe, normalize_embeddings, probe_inputs
from .result import ProbeResult
from .splits import Split

HOPS_GRID = (0, 1, 2, 3, 5, 10)
# The training-free baseline's multi-scale candidates: S²GC's K = 16, alpha = 0.05 and the
# shorter averages beside it (every K x alpha), chosen on validation.
MULTISCALE_HOPS = (2, 4, 8, 16)
MULTISCALE_ALPHAS = (0.0, 0.05, 0.15)


@dataclass
class ReinforcedProbe:
    """The probe of the validation-chosen reinforcement: ``hops`` and ``mode`` (``hops=0``:
    the embeddings as they are), the chosen :class:`ProbeResult` (``result``: its
    ``test_score`` is the one test figure) and every candidate's validation accuracy,
    ``val_scores[(mode, hops)]``. ``plain`` is the probe of the embeddings as they are
    (``hops=0``) where the grid holds 0: what reinforcement is measured against.
    ``embeddings`` are the chosen candidate's: those the test figure was measured on.
    ``alpha``: the weight of the features themselves where ``mode`` is ``'multiscale'``
    (``training_free_probe``; its ``val_scores`` keys are ``(mode, hops, alpha)``)."""
    result: ProbeResult
    hops: int
    mode: str
    val_scores: Dict[tuple, float] = field(default_factory=dict)
    plain: Optional[ProbeResult] = None
    embeddings: Optional[Tensor] = field(default=None, repr=False)
    alpha: Optional[float] = None

    @property
    def test_score(self) -> float:
        return self.result.test_score

    @property
    def val_score(self) -> float:
        return self.result.val_score


def choose_hops(z: Tensor, data, split: Split, grid: Sequence[int] = HOPS_GRID,
                modes: Sequence[str] = ('add',), device: Optional[torch.device] = None,
                folds: int = 0, c_grid: Sequence[float] = C_GRIDS['node'],
                adam: Optional[AdamSchedule] = None) -> ReinforcedProbe:
    """:func:`graphdim.linear_probe` on :func:`graphdim.reinforce` ``(z, data, k, mode)``
    for each ``k`` of ``grid`` and each of ``modes`` (``hops=0`` once: ``z`` itself); the
    candidate with the best validation accuracy is chosen (ties: the smaller ``k``, then the
    earlier mode). The powers :math:`\\hat A^k z` are computed incrementally, ``max(grid)``
    sparse products for the whole grid. ``data`` gives ``edge_index`` (optional
    ``edge_weight``) and the labels ``y``; ``c_grid`` is the probe's penalties, ``adam`` its
    Adam schedule (None: L-BFGS; :func:`graphdim.linear_probe`).

    ``folds >= 2`` scores each candidate by ``cross_validated_accuracy`` on the training
    and validation rows together instead of by the validation split alone: 500 validation
    nodes move by about a point between candidates from noise alone, so the grid's winner
    changed from seed to seed. The chosen candidate's probe is then fit as always (training
    rows, ``C`` on validation) and scored once on the test rows."""
    _check_choice(folds, c_grid)
    if not len(grid):
        raise ValueError("grid needs at least one number of hops")
    if not len(modes):
        raise ValueError("modes needs at least one of 'add', 'replace'")
    for mode in modes:
        check_mode(mode)
    powers = steps(propagated_powers(z, data.edge_index, grid,
                                     getattr(data, 'edge_weight', None), data.num_nodes),
                   'reinforcement K', total=len(set(grid)), unit='depth')
    candidates = (((mode, k), z if k == 0 else (z.detach() + smoothed if mode == 'add'
                                                 else smoothed))
                  for k, smoothed in powers for mode in (modes[:1] if k == 0 else modes))
    chosen = _best_candidate(candidates, data.y, split, folds, device, c_grid,
                             plain_key=(modes[0], 0), adam=adam)
    mode, k = chosen.key
    return ReinforcedProbe(chosen.result, k, mode, chosen.val_scores, chosen.plain,
                           chosen.features)


def training_free_probe(data, split: Split, device: Optional[torch.device] = None,
                        folds: int = 0, c_grid: Sequence[float] = C_GRIDS['node'],
                        hops: Sequence[int] = MULTISCALE_HOPS,
                        alphas: Sequence[float] = MULTISCALE_ALPHAS,
                        adam: Optional[AdamSchedule] = None) -> ReinforcedProbe:
    """The training-free baseline (SGC's, S²GC's and GGCM's kind): the probe on the raw
    features ``X = data.x`` themselves (``hops=0``) and on S²GC's multi-scale features
    :math:`\\alpha X + \\frac{1-\\alpha}{K}\\sum_{k=1}^{K} \\hat A^k X` for each ``K`` of
    ``hops`` and ``alpha`` of ``alphas`` (``mode='multiscale'``), chosen as ``folds`` says
    (validation accuracy, or cross-validation on the training and validation rows; ties: the
    earlier candidate, smaller ``K`` then smaller ``alpha``). ``val_scores`` are keyed
    ``('add', 0)`` (``X``) and ``('multiscale', K, alpha)``.

    The single powers of :func:`choose_hops` (:math:`\\hat A^K X`, :math:`X + \\hat A^K X`)
    are not candidates: on the public Planetoid splits they won validation by noise and lost
    test accuracy to the multi-scale average (Cora 81.7 against 82.2)."""
    _check_choice(folds, c_grid)
    x = data.x
    smoothed = multiscale_features(x, data.edge_index, hops, alphas,
                                   getattr(data, 'edge_weight', None), data.num_nodes)
    candidates = itertools.chain(((('add', 0), x), ), (((MULTISCALE, k, alpha), features)
                                                       for k, alpha, features in smoothed))
    total = 1 + len(set(hops)) * len(alphas)
    chosen = _best_candidate(steps(candidates, 'training-free candidates', total=total,
                                   unit='candidate'),
                             data.y, split, folds, device, c_grid, plain_key=('add', 0),
                             adam=adam)
    mode, k, *alpha = chosen.key
    return ReinforcedProbe(chosen.result, k, mode, chosen.val_scores, chosen.plain,
                           chosen.features, alpha[0] if alpha else None)


def _check_choice(folds, c_grid) -> None:
    if isinstance(folds, bool) or not isinstance(folds, int) or folds == 1 or folds < 0:
        raise ValueError(f"folds must be 0 (choose on the validation split) or an integer "
                         f">= 2; got {folds!r}")
    check_c_grid(c_grid)


@dataclass
class _Choice:
    key: tuple
    features: Tensor
    result: ProbeResult
    val_scores: Dict[tuple, float]
    plain: Optional[ProbeResult]


def _best_candidate(candidates: Iterable[Tuple[tuple, Tensor]], labels: Tensor, split: Split,
                    folds: int, device: Optional[torch.device], c_grid: Sequence[float],
                    plain_key: tuple, adam: Optional[AdamSchedule] = None) -> _Choice:
    """The candidate ``(key, features)`` of the best validation accuracy (``folds``: the
    best cross-validated accuracy on the training and validation rows), the first of equals;
    its probe (training rows, ``C`` of ``c_grid`` on validation, the test rows read once),
    every candidate's score, and the probe of ``plain_key``'s features where it is one;
    ``adam``: the probe's Adam schedule (None: L-BFGS)."""
    best, val_scores, plain = None, {}, None
    for key, features in candidates:
        result = None
        if not folds or key == plain_key:
            result = linear_probe(features, labels, split, c_grid, device=device, adam=adam)
        val_scores[key] = cross_validated_accuracy(features, labels, split, folds, device,
                                                   c_grid, adam) if folds else result.val_score
        plain = result if key == plain_key else plain
        if best is None or val_scores[key] > val_scores[best[0]]:
            best = (key, features, result)
    key, features, result = best
    if result is None:  # cross-validated choice: the chosen candidate's own probe
        result = linear_probe(features, labels, split, c_grid, device=device, adam=adam)
    return _Choice(key, features, result, val_scores, plain)


def cross_validated_accuracy(x: Tensor, labels: Tensor, split: Split, folds: int,
                             device: Optional[torch.device] = None,
                             c_grid: Sequence[float] = C_GRIDS['node'],
                             adam: Optional[AdamSchedule] = None) -> float:
    """The best mean held-out accuracy, over ``C`` and the row normalisation (and with
    ``adam``, Adam's step), of logistic regressions fit ``folds`` times on the training and
    validation rows of ``split`` (each fold held out once; scikit-learn's
    ``StratifiedKFold``, shuffled with seed 0, so every fold holds each class in proportion).
    The test rows are never read."""
    index, _, (train, val, _) = probe_inputs(x, labels, split)
    rows = (train | val).nonzero().view(-1)
    device = device or x.device
    num_classes, y = int(index.max()) + 1, index.to(device)
    correct = torch.zeros(len(NORMALIZATIONS), len(c_grid), adam.epochs if adam else 1)
    assignment = [(rows[fitted].to(device), rows[held].to(device))
                  for fitted, held in _stratified_folds(index[rows], folds)]
    for a, kind in enumerate(NORMALIZATIONS):
        features = normalize_embeddings(x.detach().to(device, torch.float32), kind)
        for fitted, held in assignment:
            if adam is not None:  # every step's held-out count: the step is chosen too
                correct[a] += adam_logistic_paths(features[fitted], y[fitted], num_classes,
                                                  sorted(c_grid), features[held], y[held],
                                                  adam)[0]
                continue
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
