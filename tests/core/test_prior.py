"""Prior matching (DIM section 3.3) takes both of its losses from graphdim.estimators."""
import torch
import torch.nn.functional as F

import graphdim.prior
from graphdim.prior import PriorMatching


def test_encoder_loss_is_the_bce_estimators_positive_term(monkeypatch):
    calls = []
    real = graphdim.prior.positive_expectation

    def spy(scores, measure, *args, **kwargs):
        calls.append(measure)
        return real(scores, measure, *args, **kwargs)

    monkeypatch.setattr(graphdim.prior, 'positive_expectation', spy)
    torch.manual_seed(0)
    prior = PriorMatching(3, hidden=(8, ))
    y = torch.randn(5, 3, dtype=torch.float64)
    prior.double()
    loss = prior.encoder_loss(y)
    assert calls == ['bce']
    # Against a hand computation: mean softplus(-D(sigmoid(y))).
    expected = F.softplus(-prior.discriminator(torch.sigmoid(y))).mean()
    assert torch.allclose(loss, expected, atol=1e-12, rtol=0)
