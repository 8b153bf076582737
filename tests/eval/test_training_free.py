"""The training-free baseline (graphdim.eval.reinforced.training_free_probe): S²GC's
multi-scale features against a hand computation, a choice that reads no test label, its
record in results.json (old records still read), and the probe's penalties (--probe-c)."""
import json
from dataclasses import asdict

import numpy as np
import pytest
import torch

from graphdim import cli
from graphdim.cli.train import _training_free_choice
from graphdim.eval.linear import C_GRIDS
from graphdim.eval.reinforced import training_free_probe
from graphdim.experiments import NodeConfig
from graphdim.experiments.results import RunSummary
from graphdim.experiments.scores import NodeScores
from graphdim.graph.reinforcement import multiscale_features
from test_reinforced_choice import _labelled_graph, _relabelled_test_rows

# A path 0 - 1 - 2 - 3, each edge both ways.
PATH = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])


def _by_hand(x: np.ndarray, hops: int, alpha: float) -> np.ndarray:
    """alpha X + (1 - alpha) / K sum_{k=1..K} Â^k X with Â = D^-1/2 (A + I) D^-1/2, dense."""
    a = np.eye(4)
    for u, v in PATH.t().tolist():
        a[u, v] = 1.0
    scale = 1 / np.sqrt(a.sum(axis=1))
    normalized = scale[:, None] * a * scale[None, :]
    powers = [np.linalg.matrix_power(normalized, k) @ x for k in range(1, hops + 1)]
    return alpha * x + (1 - alpha) * sum(powers) / hops


def test_multiscale_features_against_a_hand_computation():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0], [0.5, -1.0]], dtype=torch.float64)
    got = {(k, a): f for k, a, f in multiscale_features(x, PATH, [3, 1], [0.0, 0.25])}
    assert list(got) == [(1, 0.0), (1, 0.25), (3, 0.0), (3, 0.25)]  # K increasing
    for (k, alpha), features in got.items():
        assert features.dtype == x.dtype
        np.testing.assert_allclose(features.numpy(), _by_hand(x.numpy(), k, alpha),
                                   rtol=1e-12)
    with pytest.raises(ValueError, match='every K must be at least 1'):
        next(multiscale_features(x, PATH, [0, 2], [0.0]))
    with pytest.raises(ValueError, match=r'alpha .* in \[0, 1\]; got 1.5'):
        next(multiscale_features(x, PATH, [2], [1.5]))


@pytest.mark.parametrize('folds', [0, pytest.param(2, marks=pytest.mark.slow)])  # CV: 15 s
def test_the_choice_reads_no_test_label(folds):
    """Scrambled or shifted test labels: the same candidate, probe setting and every
    candidate's validation (or cross-validated) score; only the test score moves."""
    data, split = _labelled_graph()
    grid = {'hops': (1, 4), 'alphas': (0.0, 0.15), 'c_grid': (0.1, 1.0)}  # seconds, not a minute
    a = training_free_probe(data, split, folds=folds, **grid)
    assert list(a.val_scores) == [('add', 0), ('multiscale', 1, 0.0), ('multiscale', 1, 0.15),
                                  ('multiscale', 4, 0.0), ('multiscale', 4, 0.15)]
    for shift in (False, True):
        changed = _relabelled_test_rows(data, split, shift)
        b = training_free_probe(changed, split, folds=folds, **grid)
        assert (a.hops, a.mode, a.alpha, a.result.c, a.result.normalization) == \
            (b.hops, b.mode, b.alpha, b.result.c, b.result.normalization)
        assert a.val_scores == b.val_scores and a.val_score == b.val_score
    assert b.test_score != a.test_score  # every test label moved: the test figure did


def test_the_chosen_candidate_is_the_best_on_validation():
    data, split = _labelled_graph()
    chosen = training_free_probe(data, split, c_grid=(0.5, ))
    best = max(chosen.val_scores.values())
    first = next(key for key, score in chosen.val_scores.items() if score == best)
    assert first == ((chosen.mode, chosen.hops, chosen.alpha) if chosen.hops else ('add', 0))
    assert chosen.val_score == best and chosen.result.c == 0.5  # the penalty given


def _old_results() -> dict:
    """A node run's results.json as graphdim wrote it before the multi-scale baseline: the
    training-free figure of a single power, no alpha, no probe_c in the config."""
    seed = {'seed': 0, 'training_free_test_acc': 81.7, 'training_free_val_acc': 81.6,
            'training_free_hops': 10, 'training_free_reinforcement': 'replace',
            'random_init_test_acc': 70.0, 'random_init_val_acc': 69.0,
            'random_init_hops': 0, 'random_init_reinforcement': 'add',
            'test_acc': 82.0, 'val_acc': 81.0, 'probe_c': 1.0, 'probe_normalization': 'l2',
            'hops': 0, 'reinforcement': 'add', 'split': 'public', 'propagation': None,
            'epochs': 2, 'best_epoch': 2, 'final_loss': 0.5, 'train_seconds': 1.0,
            'seconds': 2.0}
    return {'dataset': 'Cora', 'seeds': [0], 'test_acc_mean': 82.0, 'test_acc_std': 0.0,
            'training_free_test_acc_mean': 81.7, 'training_free_test_acc_std': 0.0,
            'config': {'dataset': 'Cora', 'hops_cv': 0}, 'runs': [seed]}


def test_old_results_load_and_new_ones_keep_alpha():
    old = RunSummary.from_json(_old_results(), 'node')
    baseline = old.runs[0].baselines['training_free']
    assert (baseline.hops, baseline.reinforcement, baseline.alpha) == (10, 'replace', None)
    assert baseline.test_acc == pytest.approx(81.7)
    assert _training_free_choice(old) == 'raw features, A^K X, K=10, chosen on validation'
    assert 'training_free_alpha' not in old.runs[0].to_json()  # no key it did not have
    new = _old_results()
    new['runs'][0].update(training_free_hops=16, training_free_reinforcement='multiscale',
                          training_free_alpha=0.05)
    summary = RunSummary.from_json(new, 'node')
    assert summary.runs[0].baselines['training_free'].alpha == 0.05
    assert summary.runs[0].to_json()['training_free_alpha'] == 0.05  # written back
    assert 'K=16, α=0.05, chosen on validation' in _training_free_choice(summary)
    assert 'alpha' not in NodeScores(summary.runs[0].scores.probe).to_json()  # none chosen


def test_an_old_config_without_probe_c_loads_with_the_default_grid():
    values = asdict(NodeConfig())
    del values['probe_c']
    assert NodeConfig.from_dict(values).probe_c == C_GRIDS['node']
    assert NodeConfig.from_dict({'probe_c': [1, 10]}).probe_c == (1.0, 10.0)


@pytest.mark.parametrize('values, message', [
    (['0'], '(--probe-c) must be >= 1e-06; got 0.0'), (['1e7'], '(--probe-c) must be <= 1e+06'),
    (['nan'], '(--probe-c) must be a finite number')])
def test_a_bad_probe_c_is_one_error_line(values, message, capsys):
    assert cli.main(['train', '--dataset', 'karate', '--probe-c', *values]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and message in error[0], error


def test_probe_c_reaches_the_probe(capsys):
    """--probe-c 0.001: the only penalty the probe may choose (the default grid has none
    below 0.01)."""
    assert cli.main(['train', '--dataset', 'karate', '--epochs', '2', '--hidden', '8',
                     '--probe-c', '0.001', '--quiet', '--json']) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary['runs'][0]['probe_c'] == 0.001
    assert summary['config']['probe_c'] == [0.001]
