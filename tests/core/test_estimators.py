"""MI estimators: values against independent float64 hand computations, stability, gradients,
errors (the known-MI check and the properties: tests/core/test_estimators_known_mi.py,
tests/core/test_estimators_properties.py)."""
import math

import numpy as np
import pytest
import torch

import graphdim
from graphdim import (MEASURES, local_global_loss, mi_loss, negative_expectation,
                      positive_expectation, score_matrix_loss)

LOG2 = math.log(2.0)

POS = [0.3, -1.2, 2.5, 0.0, 4.0]
NEG = [-0.7, 1.1, -2.2, 0.4, -3.5, 0.9, 0.05]
NEG_ROWS = [[-0.7, 1.1, -2.2], [0.4, -3.5, 0.9], [0.05, 1.7, -0.3],
            [2.2, -1.0, 0.6], [-0.1, 0.2, 3.0]]  # one row of negatives per positive


# ------------------------------------------------------------------ hand computations (math)
def sp(x: float) -> float:
    """softplus in float64, stable for any x."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def mean(values) -> float:
    return math.fsum(values) / len(values)


def hand_loss(pos, neg, measure) -> float:
    """Minus the bound, written from REFERENCE.md's formulas."""
    if measure == 'jsd':
        return -(mean([LOG2 - sp(-t) for t in pos]) - mean([sp(t) - LOG2 for t in neg]))
    if measure == 'bce':
        return mean([sp(-t) for t in pos]) + mean([sp(t) for t in neg])
    if measure == 'dv':
        return -(mean(pos) - math.log(mean([math.exp(t) for t in neg])))
    if measure == 'nwj':
        return -(mean(pos) - mean([math.exp(t - 1.0) for t in neg]))
    if measure == 'infonce':
        if isinstance(neg[0], (list, tuple)):  # [N, K-1]: one row of negatives per positive
            k = len(neg[0]) + 1
            terms = [p - math.log(math.exp(p) + math.fsum(math.exp(q) for q in row))
                     for p, row in zip(pos, neg)]
        else:  # shared pool of M negatives: K = M + 1
            k = len(neg) + 1
            total = math.fsum(math.exp(q) for q in neg)
            terms = [p - math.log(math.exp(p) + total) for p in pos]
        return -(math.log(k) + mean(terms))
    raise AssertionError(measure)


def hand_score_matrix_loss(scores: np.ndarray, mask: np.ndarray, measure: str) -> float:
    """A plain double loop over an [L, G] score matrix."""
    rows, cols = scores.shape
    if measure != 'infonce':
        pos = [float(scores[l, g]) for l in range(rows) for g in range(cols) if mask[l, g]]
        neg = [float(scores[l, g]) for l in range(rows) for g in range(cols) if not mask[l, g]]
        return hand_loss(pos, neg, measure)
    # DIM's column-wise convention: positive (l, g) competes with the negatives of column g.
    terms = []
    for l in range(rows):
        for g in range(cols):
            if not mask[l, g]:
                continue
            negs = [float(scores[m, g]) for m in range(rows) if not mask[m, g]]
            s = float(scores[l, g])
            k = 1 + len(negs)
            terms.append(math.log(k) + s - math.log(math.exp(s) + math.fsum(map(math.exp, negs))))
    return -mean(terms)


def t64(values, requires_grad=False):
    return torch.tensor(values, dtype=torch.float64, requires_grad=requires_grad)


# 6 locals in 3 samples (uneven sizes: 3, 1, 2) against 3 global vectors.
SAMPLE_OF_LOCAL = [0, 0, 0, 1, 2, 2]
SCORES = np.array([[0.5, -1.0, 0.2],
                   [1.5, 0.3, -0.4],
                   [-0.2, 0.8, 1.1],
                   [0.1, 2.0, -1.5],
                   [-0.9, 0.4, 0.7],
                   [0.6, -0.3, 1.9]])
MASK = np.array([[s == g for g in range(3)] for s in SAMPLE_OF_LOCAL])


# -------------------------------------------------------------------------------- values
def test_measures_are_the_documented_five():
    assert set(MEASURES) == {'jsd', 'bce', 'dv', 'nwj', 'infonce'}


@pytest.mark.parametrize('measure', MEASURES)
def test_mi_loss_matches_hand_computation_float64(measure):
    loss = mi_loss(t64(POS), t64(NEG), measure)
    assert loss.dtype == torch.float64 and loss.dim() == 0
    assert float(loss) == pytest.approx(hand_loss(POS, NEG, measure), abs=1e-10, rel=0)


def test_infonce_per_row_negatives_matches_hand_computation():
    loss = mi_loss(t64(POS), t64(NEG_ROWS), 'infonce')
    assert float(loss) == pytest.approx(hand_loss(POS, NEG_ROWS, 'infonce'), abs=1e-10, rel=0)
    # the per-row form is not the shared-pool form on the same numbers
    flat = [q for row in NEG_ROWS for q in row]
    assert float(loss) != pytest.approx(hand_loss(POS, flat, 'infonce'), abs=1e-6)


def test_infonce_pos_scores_may_be_any_shape():
    pos = t64(POS[:4]).reshape(2, 2)
    expected = hand_loss(POS[:4], NEG, 'infonce')
    assert float(mi_loss(pos, t64(NEG), 'infonce')) == pytest.approx(expected, abs=1e-10, rel=0)


@pytest.mark.parametrize('measure', ['jsd', 'bce', 'dv', 'nwj', 'infonce'])
def test_positive_expectation_per_element_values(measure):
    expected = {
        'jsd': [LOG2 - sp(-t) for t in POS],
        'bce': [-sp(-t) for t in POS],
        'dv': POS, 'nwj': POS, 'infonce': POS,
    }[measure]
    terms = positive_expectation(t64(POS), measure, average=False)
    assert terms.shape == (len(POS),)
    np.testing.assert_allclose(terms.numpy(), expected, rtol=0, atol=1e-12)
    averaged = positive_expectation(t64(POS), measure)
    assert float(averaged) == pytest.approx(mean(expected), abs=1e-12, rel=0)


@pytest.mark.parametrize('measure', ['jsd', 'bce', 'nwj'])
def test_negative_expectation_per_element_values(measure):
    expected = {
        'jsd': [sp(t) - LOG2 for t in NEG],
        'bce': [sp(t) for t in NEG],
        'nwj': [math.exp(t - 1.0) for t in NEG],
    }[measure]
    terms = negative_expectation(t64(NEG), measure, average=False)
    assert terms.shape == (len(NEG),)
    np.testing.assert_allclose(terms.numpy(), expected, rtol=1e-13, atol=1e-13)
    averaged = negative_expectation(t64(NEG), measure)
    assert float(averaged) == pytest.approx(mean(expected), abs=1e-12, rel=0)


def test_negative_expectation_dv_is_log_mean_exp():
    expected = math.log(mean([math.exp(t) for t in NEG]))
    assert float(negative_expectation(t64(NEG), 'dv')) == pytest.approx(expected, abs=1e-12,
                                                                        rel=0)


def test_negative_expectation_rejects_infonce():
    with pytest.raises(ValueError, match='infonce'):
        negative_expectation(t64(NEG), 'infonce')
    with pytest.raises(ValueError, match='infonce'):
        negative_expectation(t64(NEG), 'infonce', average=False)


def test_negative_expectation_rejects_per_pair_dv():
    with pytest.raises(ValueError, match='dv'):
        negative_expectation(t64(NEG), 'dv', average=False)


def test_bce_loss_is_jsd_loss_plus_two_log_two():
    generator = torch.Generator().manual_seed(0)
    pos = torch.randn(50, generator=generator, dtype=torch.float64) * 3
    neg = torch.randn(70, generator=generator, dtype=torch.float64) * 3
    difference = mi_loss(pos, neg, 'bce') - mi_loss(pos, neg, 'jsd')
    assert float(difference) == pytest.approx(2 * LOG2, abs=1e-12, rel=0)


def test_jsd_loss_is_zero_at_chance():
    zeros = torch.zeros(5, dtype=torch.float64)
    assert float(mi_loss(zeros, zeros, 'jsd')) == pytest.approx(0.0, abs=1e-15)


# ----------------------------------------------------------------------- score matrix form
@pytest.mark.parametrize('measure', MEASURES)
def test_score_matrix_loss_matches_hand_loop(measure):
    loss = score_matrix_loss(t64(SCORES.tolist()), torch.tensor(MASK), measure)
    assert float(loss) == pytest.approx(hand_score_matrix_loss(SCORES, MASK, measure),
                                        abs=1e-10, rel=0)


def test_score_matrix_infonce_uses_per_column_candidate_counts():
    # Column 1 has 5 negatives (K=6) and column 0 has 3 (K=4); a uniform log K would differ.
    loss = float(score_matrix_loss(t64(SCORES.tolist()), torch.tensor(MASK), 'infonce'))
    uniform = -mean([math.log(6) + float(SCORES[l, g]) - math.log(
        math.exp(SCORES[l, g]) + sum(math.exp(SCORES[m, g]) for m in range(6) if not MASK[m, g]))
        for l in range(6) for g in range(3) if MASK[l, g]])
    assert loss != pytest.approx(uniform, abs=1e-3)


@pytest.mark.parametrize('measure', MEASURES)
def test_local_global_loss_scores_are_dot_products(measure):
    generator = torch.Generator().manual_seed(1)
    local = torch.randn(6, 4, generator=generator, dtype=torch.float64)
    global_ = torch.randn(3, 4, generator=generator, dtype=torch.float64)
    scores = (local.numpy() @ global_.numpy().T)
    loss = local_global_loss(local, global_, torch.tensor(MASK), measure)
    assert float(loss) == pytest.approx(hand_score_matrix_loss(scores, MASK, measure),
                                        abs=1e-10, rel=0)


def test_score_matrix_loss_equals_mi_loss_for_pointwise_measures():
    mask = torch.tensor(MASK)
    scores = t64(SCORES.tolist())
    for measure in ('jsd', 'bce', 'dv', 'nwj'):
        expected = mi_loss(scores[mask], scores[~mask], measure)
        assert float(score_matrix_loss(scores, mask, measure)) == pytest.approx(
            float(expected), abs=1e-12, rel=0)


def test_batch_pos_mask_from_batch_vector():
    mask = graphdim.batch_pos_mask(torch.tensor(SAMPLE_OF_LOCAL))
    assert mask.dtype == torch.bool
    assert torch.equal(mask, torch.tensor(MASK))
    assert graphdim.batch_pos_mask(torch.tensor([0, 0, 1]), num_samples=4).shape == (3, 4)


# ------------------------------------------------------------------------------ stability
EXTREME = [1e4, -1e4, 0.5, -3.0]


@pytest.mark.parametrize('measure', MEASURES)
def test_extreme_scores_give_finite_loss_and_gradients_mi_loss(measure):
    pos = torch.tensor(EXTREME, requires_grad=True)
    neg = torch.tensor(EXTREME + [2.0], requires_grad=True)
    loss = mi_loss(pos, neg, measure)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(pos.grad).all() and torch.isfinite(neg.grad).all()
    if measure == 'infonce':
        rows = torch.tensor([EXTREME[::-1]] * len(EXTREME), requires_grad=True)
        pos2 = torch.tensor(EXTREME, requires_grad=True)
        loss2 = mi_loss(pos2, rows, measure)
        loss2.backward()
        assert torch.isfinite(loss2)
        assert torch.isfinite(pos2.grad).all() and torch.isfinite(rows.grad).all()


@pytest.mark.parametrize('measure', MEASURES)
def test_extreme_scores_give_finite_loss_and_gradients_score_matrix(measure):
    scores = torch.tensor([[1e4, -1e4, 3.0],
                           [-1e4, 1e4, -2.0],
                           [0.5, 1e4, -1e4],
                           [1e4, 1e4, 1e4]], requires_grad=True)
    mask = torch.tensor([[True, False, False], [False, True, False],
                         [False, False, True], [False, False, True]])
    loss = score_matrix_loss(scores, mask, measure)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(scores.grad).all()


def test_bce_keeps_precision_where_log_sigmoid_plus_eps_saturates():
    # A confidently wrong positive (T = -1e4) costs sp(1e4) = 1e4 nats; the naive
    # -log(sigmoid(T) + 1e-15) form used by PyG saturates at -log(1e-15) ~ 34.5 and its
    # gradient vanishes.
    pos = torch.tensor([-1e4], requires_grad=True)
    neg = torch.tensor([-1e4])
    loss = mi_loss(pos, neg, 'bce')
    loss.backward()
    assert float(loss.detach()) == pytest.approx(1e4, rel=1e-6)
    assert float(pos.grad) == pytest.approx(-1.0, abs=1e-6)
    naive = -torch.log(torch.sigmoid(torch.tensor(-1e4)) + 1e-15)
    assert float(naive) == pytest.approx(34.54, abs=0.01)


def test_nwj_large_negative_score_is_finite_and_still_pushes_down():
    neg = torch.tensor([200.0], requires_grad=True)  # exp(199) overflows float32
    loss = mi_loss(torch.tensor([0.0]), neg, 'nwj')
    loss.backward()
    assert torch.isfinite(loss) and float(loss.detach()) > 1e20
    assert torch.isfinite(neg.grad).all() and float(neg.grad) > 0


# ------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize('measure', MEASURES)
def test_gradcheck_mi_loss(measure):
    pos = t64([0.3, -1.2, 2.5, 0.7], requires_grad=True)
    neg = t64([-0.7, 1.1, -2.2, 0.4, 0.9], requires_grad=True)
    assert torch.autograd.gradcheck(lambda p, q: mi_loss(p, q, measure), (pos, neg))


def test_gradcheck_mi_loss_infonce_per_row():
    pos = t64(POS, requires_grad=True)
    neg = t64(NEG_ROWS, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p, q: mi_loss(p, q, 'infonce'), (pos, neg))


@pytest.mark.parametrize('measure', MEASURES)
def test_gradcheck_score_matrix_loss(measure):
    scores = t64(SCORES.tolist(), requires_grad=True)
    mask = torch.tensor(MASK)
    assert torch.autograd.gradcheck(lambda s: score_matrix_loss(s, mask, measure), (scores,))


@pytest.mark.parametrize('measure', MEASURES)
def test_gradcheck_local_global_loss(measure):
    generator = torch.Generator().manual_seed(2)
    local = torch.randn(6, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    global_ = torch.randn(3, 3, generator=generator, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor(MASK)
    assert torch.autograd.gradcheck(lambda a, b: local_global_loss(a, b, mask, measure),
                                    (local, global_))


# --------------------------------------------------------------------------------- errors
def test_unknown_measure_is_rejected_everywhere_with_its_name():
    pos, neg = t64(POS), t64(NEG)
    scores, mask = t64(SCORES.tolist()), torch.tensor(MASK)
    calls = [lambda: mi_loss(pos, neg, 'kl_bogus'),
             lambda: score_matrix_loss(scores, mask, 'kl_bogus'),
             lambda: local_global_loss(scores, scores[:3], mask, 'kl_bogus'),
             lambda: positive_expectation(pos, 'kl_bogus'),
             lambda: negative_expectation(neg, 'kl_bogus')]
    for call in calls:
        with pytest.raises(ValueError, match="kl_bogus"):
            call()


@pytest.mark.parametrize('bad_mask, why', [
    (torch.ones(6, 2, dtype=torch.bool), 'shape'),
    (torch.tensor(MASK).to(torch.uint8), 'bool'),
    (torch.tensor(MASK).long(), 'bool'),
    (torch.ones(6, 3, dtype=torch.bool), 'negative'),
    (torch.zeros(6, 3, dtype=torch.bool), 'positive'),
])
@pytest.mark.parametrize('measure', MEASURES)
def test_score_matrix_loss_rejects_bad_pos_mask(bad_mask, why, measure):
    with pytest.raises(ValueError, match=why):
        score_matrix_loss(t64(SCORES.tolist()), bad_mask, measure)


def test_local_global_loss_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        local_global_loss(torch.randn(6, 4), torch.randn(3, 5), torch.tensor(MASK))
    with pytest.raises(ValueError, match='pos_mask'):
        local_global_loss(torch.randn(6, 4), torch.randn(3, 4), torch.ones(3, 6, dtype=torch.bool))


def test_infonce_rejects_negatives_of_wrong_shape():
    pos = t64(POS)
    with pytest.raises(ValueError, match='infonce'):
        mi_loss(pos, torch.zeros(len(POS) + 1, 3, dtype=torch.float64), 'infonce')
    with pytest.raises(ValueError, match='infonce'):
        mi_loss(pos, torch.zeros(len(POS), 3, 2, dtype=torch.float64), 'infonce')


@pytest.mark.parametrize('measure', MEASURES)
def test_empty_scores_are_rejected(measure):
    with pytest.raises(ValueError):
        mi_loss(torch.zeros(0), torch.zeros(3), measure)
    with pytest.raises(ValueError):
        mi_loss(torch.zeros(3), torch.zeros(0), measure)
