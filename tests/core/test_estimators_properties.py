"""Property-based tests (Hypothesis) of the estimators: finite losses and gradients, bounds and
their order, invariances (the graph input checks: tests/graph/test_graph_checks_properties.py)."""
import math

import numpy as np

import pytest
import torch
from hypothesis import assume, given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.extra.numpy import arrays

import graphdim as gd

SETTINGS = settings(max_examples=60, deadline=None)
scores = arrays('float64', st.integers(1, 40),
                elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False))
moderate = arrays('float64', st.integers(1, 40),
                  elements=st.floats(-30, 30, allow_nan=False, allow_infinity=False))


@SETTINGS
@given(pos=scores, neg=scores, measure=st.sampled_from(gd.MEASURES))
def test_every_loss_and_gradient_is_finite_for_any_scores(pos, neg, measure):
    pos = torch.tensor(pos, dtype=torch.float32, requires_grad=True)
    neg = torch.tensor(neg, dtype=torch.float32, requires_grad=True)
    loss = gd.mi_loss(pos, neg, measure)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(pos.grad).all() and torch.isfinite(neg.grad).all()


@SETTINGS
@given(pos=moderate, neg=moderate)
def test_bce_is_jsd_plus_two_log_two(pos, neg):
    pos, neg = torch.tensor(pos), torch.tensor(neg)
    assert float(gd.mi_loss(pos, neg, 'bce')) == pytest.approx(
        float(gd.mi_loss(pos, neg, 'jsd')) + 2 * math.log(2), abs=1e-9)


@SETTINGS
@given(pos=moderate, neg=moderate)
def test_bounds_respect_their_ceilings_and_order(pos, neg):
    pos, neg = torch.tensor(pos), torch.tensor(neg)
    # JSD's bound never exceeds 2 log 2; InfoNCE's never exceeds log K (K = 1 + negatives).
    assert -float(gd.mi_loss(pos, neg, 'jsd')) <= 2 * math.log(2) + 1e-9
    assert -float(gd.mi_loss(pos, neg, 'infonce')) <= math.log(neg.numel() + 1) + 1e-9
    # log z <= z / e, so Donsker-Varadhan's bound is at least the NWJ bound for any critic.
    assert -float(gd.mi_loss(pos, neg, 'dv')) >= -float(gd.mi_loss(pos, neg, 'nwj')) - 1e-9


@SETTINGS
@given(num_locals=st.integers(2, 12), num_globals=st.integers(2, 5), dim=st.integers(1, 6),
       measure=st.sampled_from(gd.MEASURES), seed=st.integers(0, 2**16))
def test_local_global_loss_ignores_the_order_of_local_features(num_locals, num_globals, dim,
                                                               measure, seed):
    generator = torch.Generator().manual_seed(seed)
    local = torch.randn(num_locals, dim, generator=generator, dtype=torch.float64)
    global_ = torch.randn(num_globals, dim, generator=generator, dtype=torch.float64)
    batch = torch.arange(num_locals) % num_globals  # every sample owns at least one local
    mask = gd.batch_pos_mask(batch, num_globals)
    order = torch.randperm(num_locals, generator=generator)
    assert float(gd.local_global_loss(local, global_, mask, measure)) == pytest.approx(
        float(gd.local_global_loss(local[order], global_, mask[order], measure)), rel=1e-9,
        abs=1e-9)


# Moved from test_estimators.py: bounds that hold for any finite scores.
finite_scores = hnp.arrays(np.float64, st.integers(1, 40),
                           elements=st.floats(-1e3, 1e3, allow_nan=False))


@settings(max_examples=150, deadline=None, database=None)
@given(pos=finite_scores, neg=finite_scores)
def test_property_losses_finite_and_within_their_bounds(pos, neg):
    p, q = torch.from_numpy(pos), torch.from_numpy(neg)
    losses = {m: float(gd.mi_loss(p, q, m)) for m in gd.MEASURES}
    assert all(math.isfinite(v) for v in losses.values()), losses
    assert losses['bce'] >= 0.0
    assert losses['jsd'] >= -2 * math.log(2.0) - 1e-12
    assert losses['infonce'] >= -math.log(neg.size + 1) - 1e-9  # the bound is <= log K
    assert losses['bce'] - losses['jsd'] == pytest.approx(2 * math.log(2.0), abs=1e-9 * max(
        1.0, abs(losses['bce'])))


@settings(max_examples=100, deadline=None, database=None)
@given(data=st.data())
def test_property_score_matrix_infonce_bounded_by_log_of_column_size(data):
    rows = data.draw(st.integers(2, 8))
    cols = data.draw(st.integers(2, 4))
    scores = data.draw(hnp.arrays(np.float64, (rows, cols),
                                  elements=st.floats(-1e3, 1e3, allow_nan=False)))
    assignment = data.draw(st.lists(st.integers(0, cols - 1), min_size=rows, max_size=rows))
    mask = torch.tensor([[a == g for g in range(cols)] for a in assignment])
    negatives_per_column = (~mask).sum(0)
    assume(int(mask.sum()) > 0 and not bool((negatives_per_column[mask.any(0)] == 0).any()))
    loss = float(gd.score_matrix_loss(torch.from_numpy(scores), mask, 'infonce'))
    assert math.isfinite(loss)
    assert loss >= -math.log(rows) - 1e-9  # K_g <= rows for every column
