r"""Mutual-information estimators on critic scores, shared by the graph and image paths.

A critic :math:`T` scores pairs of a local feature and a global summary. Pairs drawn from the
joint distribution (the local feature belongs to that summary) are *positives* :math:`P`; pairs
drawn from the product of marginals (a corrupted node, another image, another graph) are
*negatives* :math:`Q`. Each measure gives a lower bound on a divergence between :math:`P` and
:math:`Q`; training maximises the bound, so every ``*_loss`` function here returns **minus the
bound** (a scalar to minimise). With :math:`\operatorname{sp}(x) = \log(1 + e^x)`:

========== ======================================== ==============================================
measure    positive expectation :math:`E_P`          negative expectation :math:`E_Q`
========== ======================================== ==============================================
``jsd``    :math:`\log 2 - \operatorname{sp}(-T)`    :math:`\operatorname{sp}(T) - \log 2`
``bce``    :math:`-\operatorname{sp}(-T)`            :math:`\operatorname{sp}(T)`
``dv``     :math:`T`                                 :math:`\log \frac{1}{|Q|}\sum_Q e^{T}`
``nwj``    :math:`T`                                 :math:`e^{T - 1}`
``infonce`` :math:`T(x, y) - \log \sum_{x' \in \{x\} \cup Q_y} e^{T(x', y)} + \log K`
========== ======================================== ==============================================

* ``jsd`` is DIM's Jensen-Shannon bound, with the ``log 2`` offsets of the original DIM code,
  so its optimum is :math:`2 \log 2` and its loss is zero at chance.
* ``bce`` is DGI's binary cross-entropy on logits; its loss equals the ``jsd`` loss plus the
  constant :math:`2\log 2`, so both train the same critic.
* ``dv`` (Donsker-Varadhan, MINE) and ``nwj`` (Nguyen-Wainwright-Jordan, the f-divergence
  "KL" form of DIM's code) lower-bound the KL mutual information in nats.
* ``infonce`` also lower-bounds the mutual information in nats, but can never exceed
  :math:`\log K`, where :math:`K` is the number of candidates per positive (one positive plus
  its negatives): it needs many negatives to measure a large MI; ``jsd`` does not.

Everything is computed with ``softplus`` / ``logsumexp`` forms, never ``log(sigmoid(x) + eps)``:
values and gradients stay finite for scores up to :math:`\pm 10^4`. The one exception would be
:math:`e^{T-1}` in ``nwj``, which overflows; above ``T - 1 = 60`` it is continued by its tangent
line (a finite value and gradient that still push the score down), and is exact below.

Two call forms:

(a) :func:`mi_loss` takes explicit positive and negative scores (DGI: every node against the
    summary, every corrupted node against the summary).
(b) :func:`local_global_loss` takes local features ``[L, D]``, global features ``[G, D]`` and a
    boolean ``pos_mask`` ``[L, G]`` (True where the local feature belongs to that sample); the
    scores are ``local @ global_.T`` and every other sample's pairs are negatives (DIM and
    InfoGraph). :func:`score_matrix_loss` does the same on a precomputed score matrix.

This module knows nothing of graphs or images: scores and masks in, a scalar out.
"""
import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

MEASURES = ('jsd', 'bce', 'infonce', 'dv', 'nwj')

LOG2 = math.log(2.0)
# exp(60) ~ 1e26: far below float32's limit even after summing many terms.
_NWJ_EXP_LIMIT = 60.0


def check_measure(measure: str) -> str:
    """Return ``measure`` if it names a known estimator, else raise a ``ValueError``."""
    if measure not in MEASURES:
        raise ValueError(f"unknown estimator {measure!r}; choose one of {', '.join(MEASURES)}")
    return measure


def check_scores(**scores) -> None:
    """Each named argument a floating-point tensor (critic scores or features), or a
    ``ValueError`` naming it: an integer tensor or a list has no softplus or gradient."""
    for name, value in scores.items():
        if not isinstance(value, Tensor) or not value.is_floating_point():
            got = f"a {value.dtype} tensor" if isinstance(value, Tensor) \
                else f"a {type(value).__name__}"
            raise ValueError(f"{name} must be a floating-point tensor; got {got} (convert "
                             f"with torch.as_tensor({name}, dtype=torch.float32))")


def _exp_with_linear_tail(x: Tensor) -> Tensor:
    """``exp(x)``, continued by its tangent line above ``_NWJ_EXP_LIMIT`` so it never overflows."""
    limited = torch.exp(x.clamp(max=_NWJ_EXP_LIMIT))
    return torch.where(x > _NWJ_EXP_LIMIT, limited * (1.0 + x - _NWJ_EXP_LIMIT), limited)


def _log_mean_exp(x: Tensor) -> Tensor:
    return torch.logsumexp(x.reshape(-1), dim=0) - math.log(x.numel())


def positive_expectation(scores: Tensor, measure: str, average: bool = True) -> Tensor:
    r"""The positive term :math:`E_P` of the bound for scores of positive pairs.

    ``average=False`` returns the per-pair terms (for masking) instead of their mean.
    For ``infonce`` the per-pair term is the score itself; its normalisation couples each
    positive with its negatives, so use :func:`mi_loss` or :func:`score_matrix_loss` for it.
    """
    check_measure(measure)
    if measure == 'jsd':
        terms = LOG2 - F.softplus(-scores)
    elif measure == 'bce':
        terms = -F.softplus(-scores)
    else:  # dv, nwj, infonce: the score itself
        terms = scores
    return terms.mean() if average else terms


def negative_expectation(scores: Tensor, measure: str, average: bool = True) -> Tensor:
    r"""The negative term :math:`E_Q` of the bound for scores of negative pairs.

    ``average=False`` returns per-pair terms; ``dv`` has none (its term is the log of a mean
    over all negatives) and ``infonce`` has no separate negative term, so both raise then.
    """
    check_measure(measure)
    if measure == 'infonce':
        raise ValueError("infonce has no separate negative expectation: its normalisation "
                         "couples each positive with its negatives; use mi_loss or "
                         "score_matrix_loss")
    if measure == 'dv':
        if not average:
            raise ValueError("dv's negative term is log-mean-exp over all negatives; "
                             "there are no per-pair terms (use average=True)")
        return _log_mean_exp(scores)
    if measure == 'jsd':
        terms = F.softplus(scores) - LOG2
    elif measure == 'bce':
        terms = F.softplus(scores)
    else:  # nwj
        terms = _exp_with_linear_tail(scores - 1.0)
    return terms.mean() if average else terms


def mi_loss(pos_scores: Tensor, neg_scores: Tensor, measure: str = 'jsd') -> Tensor:
    r"""Minus the MI bound from explicit positive and negative critic scores (form a).

    Args:
        pos_scores: scores of positive pairs, any shape (flattened).
        neg_scores: scores of negative pairs. For every measure but ``infonce`` any shape.
            For ``infonce`` either 1-D (a pool shared by all positives: each positive has
            :math:`K = |Q| + 1` candidates, as in DGI where every corrupted node is a
            negative for the one summary) or ``[N, K-1]`` with one row of negatives per
            positive (``pos_scores`` then has ``N`` entries).
        measure: one of :data:`MEASURES`.

    Returns:
        The scalar loss to minimise, :math:`E_Q - E_P`.
    """
    check_measure(measure)
    check_scores(pos_scores=pos_scores, neg_scores=neg_scores)
    if pos_scores.numel() == 0 or neg_scores.numel() == 0:
        raise ValueError("mi_loss needs at least one positive and one negative score")
    if measure != 'infonce':
        return negative_expectation(neg_scores, measure) - positive_expectation(pos_scores, measure)

    pos = pos_scores.reshape(-1)
    if neg_scores.dim() == 1:
        num_candidates = neg_scores.numel() + 1
        log_normaliser = torch.logaddexp(pos, torch.logsumexp(neg_scores, dim=0))
    elif neg_scores.dim() == 2 and neg_scores.size(0) == pos.numel():
        num_candidates = neg_scores.size(1) + 1
        log_normaliser = torch.logsumexp(torch.cat([pos[:, None], neg_scores], dim=1), dim=1)
    else:
        raise ValueError(f"infonce needs neg_scores of shape [M] or [N, K] with N = "
                         f"{pos.numel()} positives; got {list(neg_scores.shape)}")
    bound = math.log(num_candidates) + (pos - log_normaliser).mean()
    return -bound


def score_matrix_loss(scores: Tensor, pos_mask: Tensor, measure: str = 'jsd') -> Tensor:
    r"""Minus the MI bound from a score matrix and its positive mask (form b).

    ``scores[l, g]`` scores local feature ``l`` against global vector ``g``; ``pos_mask[l, g]``
    is True where ``l`` belongs to sample ``g``. Positives are averaged over the True entries
    and negatives over the False ones. For ``infonce``, as in the original DIM code, each
    positive pair ``(l, g)`` competes with the negatives of its column: the local features of
    the other samples scored against the same ``g`` (:math:`K_g` = 1 + their number).
    """
    check_measure(measure)
    check_scores(scores=scores)
    if not isinstance(pos_mask, Tensor):
        raise ValueError(f"pos_mask must be a bool tensor; got a {type(pos_mask).__name__}")
    if scores.dim() != 2 or pos_mask.shape != scores.shape:
        raise ValueError(f"scores must be 2-D and pos_mask of the same shape; got scores "
                         f"{list(scores.shape)} and pos_mask {list(pos_mask.shape)}")
    if pos_mask.dtype != torch.bool:
        raise ValueError(f"pos_mask must be a bool tensor, got {pos_mask.dtype}")
    pos_mask = pos_mask.to(scores.device)
    num_pos = int(pos_mask.sum())
    num_neg = pos_mask.numel() - num_pos
    if num_pos == 0 or num_neg == 0:
        raise ValueError(f"pos_mask needs at least one positive and one negative pair; it has "
                         f"{num_pos} positives and {num_neg} negatives (a batch of one sample "
                         f"has no negatives)")

    if measure == 'infonce':
        neg_per_column = (~pos_mask).sum(dim=0)
        rows, cols = pos_mask.nonzero(as_tuple=True)
        if bool((neg_per_column[cols] == 0).any()):
            raise ValueError("infonce: every global vector with a positive needs at least one "
                             "negative local feature in its column")
        neg_lse = torch.logsumexp(scores.masked_fill(pos_mask, float('-inf')), dim=0)
        pos = scores[rows, cols]
        log_k = torch.log(neg_per_column[cols].to(scores.dtype) + 1.0)
        bound = (log_k + pos - torch.logaddexp(pos, neg_lse[cols])).mean()
        return -bound

    e_pos = positive_expectation(scores[pos_mask], measure)
    e_neg = negative_expectation(scores[~pos_mask], measure)
    return e_neg - e_pos


def local_global_loss(local: Tensor, global_: Tensor, pos_mask: Tensor,
                      measure: str = 'jsd') -> Tensor:
    r"""Minus the MI bound between local and global features of a batch (form b).

    Args:
        local: ``[L, D]``, all local features of the batch stacked (nodes of all graphs,
            locations of all images).
        global_: ``[G, D]``, one global vector per sample.
        pos_mask: ``[L, G]`` bool, True where the local feature belongs to that sample.
        measure: one of :data:`MEASURES`.

    The scores are ``local @ global_.T``; see :func:`score_matrix_loss`.
    """
    check_scores(local=local, global_=global_)
    if local.dim() != 2 or global_.dim() != 2 or local.size(1) != global_.size(1):
        raise ValueError(f"local must be [L, D] and global_ [G, D] with the same D; got "
                         f"{list(local.shape)} and {list(global_.shape)}")
    if pos_mask.shape != (local.size(0), global_.size(0)):
        raise ValueError(f"pos_mask must be [L, G] = [{local.size(0)}, {global_.size(0)}]; "
                         f"got {list(pos_mask.shape)}")
    return score_matrix_loss(local @ global_.t(), pos_mask, measure)


def batch_pos_mask(batch: Tensor, num_samples: Optional[int] = None) -> Tensor:
    """The ``[L, G]`` positive mask from a PyG-style ``batch`` vector (sample index per local)."""
    if num_samples is None:
        num_samples = int(batch.max()) + 1 if batch.numel() else 0
    return batch[:, None] == torch.arange(num_samples, device=batch.device)[None, :]
