"""A known mutual information: trained critics' bounds on two correlated Gaussians stay below
the true MI and reach most of it."""
import math

import pytest
import torch

from graphdim import score_matrix_loss

RHO, DIM = 0.75, 2
TRUE_MI = -DIM / 2 * math.log(1 - RHO ** 2)  # 0.8267 nats


def _correlated_gaussians(batch, generator):
    x = torch.randn(batch, DIM, generator=generator)
    y = RHO * x + math.sqrt(1 - RHO ** 2) * torch.randn(batch, DIM, generator=generator)
    return x, y


def _pair_scores(critic, x, y):
    """scores[i, j] = T(x_i, y_j) for all B x B pairs (diagonal = joint samples)."""
    b = x.size(0)
    pairs = torch.cat([x[:, None, :].expand(b, b, DIM), y[None, :, :].expand(b, b, DIM)], dim=2)
    return critic(pairs).squeeze(-1)


@pytest.fixture
def one_thread():
    # Many tiny ops: one thread is faster, and far faster when the 2 cores are shared.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow  # trains each estimator to its bound
@pytest.mark.parametrize('measure', ['dv', 'nwj', 'infonce'])
def test_known_mi_of_correlated_gaussians_is_lower_bounded(measure, one_thread):
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Linear(2 * DIM, 64), torch.nn.ReLU(),
                                 torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                 torch.nn.Linear(64, 1))
    optimizer = torch.optim.Adam(critic.parameters(), lr=3e-3)
    batch = 128
    mask = torch.eye(batch, dtype=torch.bool)
    for _ in range(300):
        x, y = _correlated_gaussians(batch, generator)
        loss = score_matrix_loss(_pair_scores(critic, x, y), mask, measure)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    estimates = []
    with torch.no_grad():
        eval_batch = 256
        eval_mask = torch.eye(eval_batch, dtype=torch.bool)
        for _ in range(8):
            x, y = _correlated_gaussians(eval_batch, generator)
            estimates.append(-float(score_matrix_loss(_pair_scores(critic, x, y), eval_mask,
                                                      measure)))
    estimate = sum(estimates) / len(estimates)
    assert estimate <= TRUE_MI + 0.1, (measure, estimate, TRUE_MI)
    assert estimate >= 0.6 * TRUE_MI, (measure, estimate, TRUE_MI)
