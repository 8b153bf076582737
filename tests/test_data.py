"""Datasets by name (offline roots, errors), splits and the linear probe."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from graphdim import (DatasetNotFoundError, Split, linear_probe, load_node_dataset, public_split,
                      random_split)
from graphdim.data import ENV_ROOT
from graphdim.evaluate import DEFAULT_C_GRID, fit_logistic_regression

PLANETOID = {  # name: (nodes, features, classes, train, val, test)
    'Cora': (2708, 1433, 7, 140, 500, 1000),
    'CiteSeer': (3327, 3703, 6, 120, 500, 1000),
    'PubMed': (19717, 500, 3, 60, 500, 1000),
}


def _snapshot(folder: Path):
    """Every path under ``folder`` with its size and modification time."""
    entries = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            stat = path.lstat()
            entries[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return entries


@pytest.fixture
def no_env_root(monkeypatch):
    monkeypatch.delenv(ENV_ROOT, raising=False)


@pytest.fixture
def private_cache(monkeypatch, tmp_path):
    """A cache of this test's own (download attempts leave folders behind)."""
    cache = tmp_path / 'cache'
    monkeypatch.setenv('GRAPHDIM_CACHE', str(cache))
    return cache


# ------------------------------------------------------------------------------- datasets
def test_karate_loads_without_root_or_network(no_env_root):
    dataset = load_node_dataset('karate')
    data = dataset.data
    assert dataset.name == 'karate'
    assert data.num_nodes == 34 and data.x.shape == (34, 34)
    assert dataset.num_classes == 2 and sorted(data.y.unique().tolist()) == [0, 1]
    assert data.edge_index.shape == (2, 156)
    # every edge in both directions
    pairs = set(map(tuple, data.edge_index.t().tolist()))
    assert all((b, a) in pairs for a, b in pairs)
    assert dataset.public_split is False


@pytest.mark.parametrize('name', PLANETOID)
def test_planetoid_loads_from_read_only_root_with_public_split(name, data_root):
    before = _snapshot(data_root / 'planetoid')
    dataset = load_node_dataset(name, root=str(data_root), download=False)
    nodes, features, classes, train, val, test = PLANETOID[name]
    data = dataset.data
    assert dataset.name == name and dataset.public_split
    assert data.x.shape == (nodes, features) and dataset.num_classes == classes
    split = public_split(data)
    assert (int(split.train.sum()), int(split.val.sum()), int(split.test.sum())) == \
        (train, val, test)
    assert not bool((split.train & split.test).any() or (split.val & split.test).any())
    assert _snapshot(data_root / 'planetoid') == before, 'the data root was written to'


def test_dataset_names_are_case_insensitive(data_root):
    assert load_node_dataset('cora', root=str(data_root)).name == 'Cora'
    assert load_node_dataset('KARATE').name == 'karate'


def test_graphdim_data_environment_variable_is_the_default_root(monkeypatch, data_root,
                                                                tmp_path):
    monkeypatch.setenv(ENV_ROOT, str(data_root))
    assert load_node_dataset('Cora', download=False).data.num_nodes == 2708
    # and an explicit root wins over it
    with pytest.raises(DatasetNotFoundError, match=str(tmp_path)):
        load_node_dataset('Cora', root=str(tmp_path), download=False)
    monkeypatch.setenv(ENV_ROOT, str(tmp_path))
    with pytest.raises(DatasetNotFoundError, match=str(tmp_path)):
        load_node_dataset('Cora', download=False)


def test_normalize_features_gives_unit_row_sums(data_root):
    normalized = load_node_dataset('CiteSeer', root=str(data_root)).data.x
    raw = load_node_dataset('CiteSeer', root=str(data_root), normalize_features=False).data.x
    sums = normalized.sum(dim=1)
    zero_rows = raw.sum(dim=1) == 0
    assert bool(zero_rows.any())  # CiteSeer has featureless nodes: they stay zero
    assert torch.allclose(sums[~zero_rows], torch.ones(int((~zero_rows).sum())), atol=1e-5)
    assert bool((sums[zero_rows] == 0).all())
    assert not torch.allclose(raw.sum(dim=1)[~zero_rows], sums[~zero_rows])
    assert torch.allclose(normalized * raw.sum(dim=1, keepdim=True), raw, atol=1e-5)


def test_unknown_dataset_lists_the_known_names():
    with pytest.raises(ValueError, match=r"'nope'.*karate.*cora.*citeseer.*pubmed"):
        load_node_dataset('nope')


def test_missing_dataset_without_download_explains_both_ways(tmp_path, private_cache,
                                                              no_env_root):
    with pytest.raises(DatasetNotFoundError) as info:
        load_node_dataset('Cora', root=str(tmp_path), download=False)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert str(tmp_path / 'planetoid' / 'Cora' / 'raw' / 'ind.cora.x') in message
    assert '--root' in message and ENV_ROOT in message
    assert 'internet' in message
    assert 'download failed' not in message


def test_missing_dataset_download_failure_is_explained(tmp_path, private_cache, no_env_root):
    # No network here (and none needed elsewhere): the download must fail cleanly.
    with pytest.raises(DatasetNotFoundError) as info:
        load_node_dataset('Cora', root=str(tmp_path / 'empty'), download=True)
    message = str(info.value)
    assert 'ind.cora.x' in message and str(tmp_path / 'empty') in message
    assert 'download failed' in message
    assert '--root' in message and ENV_ROOT in message


# --------------------------------------------------------------------------------- splits
def _labels(num_nodes=2708, num_classes=7, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, num_classes, (num_nodes,), generator=generator)


def test_random_split_sizes_disjoint_covering_and_stratified():
    labels = _labels()
    split = random_split(labels, seed=0)
    masks = torch.stack([split.train, split.val, split.test])
    assert bool((masks.sum(dim=0) == 1).all()), 'masks must be disjoint and cover every node'
    n = labels.numel()
    assert abs(int(split.train.sum()) / n - 0.1) < 0.01
    assert abs(int(split.val.sum()) / n - 0.1) < 0.01
    assert abs(int(split.test.sum()) / n - 0.8) < 0.01
    for cls in labels.unique():
        members = labels == cls
        count = int(members.sum())
        assert int((split.train & members).sum()) == max(1, round(0.1 * count))
        assert int((split.val & members).sum()) == max(1, round(0.1 * count))
    assert 'seed 0' in split.description


def test_random_split_keeps_every_class_on_tiny_graphs():
    labels = torch.tensor([0] * 30 + [1] * 4)
    split = random_split(labels, seed=0)
    for cls in (0, 1):
        assert bool((split.train & (labels == cls)).any())
        assert bool((split.val & (labels == cls)).any())


def test_random_split_is_seeded():
    labels = _labels()
    a, b, c = random_split(labels, 3), random_split(labels, 3), random_split(labels, 4)
    assert torch.equal(a.train, b.train) and torch.equal(a.val, b.val)
    assert not torch.equal(a.train, c.train)


# ---------------------------------------------------------------------------------- probe
def _mask(n, idx):
    mask = torch.zeros(n, dtype=torch.bool)
    mask[idx] = True
    return mask


def _separable(seed=0, n=600, d=5, classes=3):
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % classes
    centers = torch.randn(classes, d, generator=generator) * 10
    x = centers[labels] + 0.1 * torch.randn(n, d, generator=generator)
    order = torch.randperm(n, generator=generator)
    split = Split(_mask(n, order[:200]), _mask(n, order[200:300]), _mask(n, order[300:]), 'test')
    return x, labels, split


def test_linear_probe_separable_problem_is_perfect():
    x, y, split = _separable()
    result = linear_probe(x, y, split)
    assert result.test_acc == 1.0 and result.val_acc == 1.0
    assert result.c in DEFAULT_C_GRID
    assert result.c == min(DEFAULT_C_GRID)  # ties go to the strongest penalty


def test_linear_probe_chooses_c_on_validation():
    # Train: class 0 at -1, class 1 (majority) at +1. A strong penalty predicts the majority
    # class everywhere; a weak one follows the feature.
    n_train = 100
    x_train = torch.cat([-torch.ones(30, 1), torch.ones(70, 1)])
    y_train = torch.cat([torch.zeros(30), torch.ones(70)]).long()
    # Validation agrees with the feature in one case and with the majority in the other.
    x_val = -torch.ones(20, 1)
    x_test = torch.cat([-torch.ones(10, 1), torch.ones(10, 1)])
    y_test = torch.cat([torch.zeros(10), torch.ones(10)]).long()
    x = torch.cat([x_train, x_val, x_test])
    idx = torch.arange(x.size(0))
    split = Split(idx < n_train, (idx >= n_train) & (idx < n_train + 20), idx >= n_train + 20,
                  'test')
    grid = (1e-4, 100.0)

    follows_feature = linear_probe(x, torch.cat([y_train, torch.zeros(20).long(), y_test]),
                                   split, c_grid=grid)
    assert follows_feature.c == 100.0 and follows_feature.val_acc == 1.0
    assert follows_feature.test_acc == 1.0

    majority = linear_probe(x, torch.cat([y_train, torch.ones(20).long(), y_test]), split,
                            c_grid=grid)
    assert majority.c == 1e-4 and majority.val_acc == 1.0
    assert majority.test_acc == 0.5  # the chosen (strong-penalty) probe is the one tested


def test_linear_probe_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression
    generator = torch.Generator().manual_seed(0)
    n, d, classes = 2708, 64, 7
    weights = torch.randn(d, classes, generator=generator)
    x = torch.randn(n, d, generator=generator)
    y = (x @ weights + 4.0 * torch.randn(n, classes, generator=generator)).argmax(dim=1)
    order = torch.randperm(n, generator=generator)
    split = Split(_mask(n, order[:140]), _mask(n, order[140:640]), _mask(n, order[1708:]),
                  'public-like')
    result = linear_probe(x, y, split)
    assert result.c in DEFAULT_C_GRID
    xn, yn = x.numpy().astype(np.float64), y.numpy()
    train, test = split.train.numpy(), split.test.numpy()
    reference = LogisticRegression(C=result.c, max_iter=1000).fit(xn[train], yn[train])
    sk_acc = reference.score(xn[test], yn[test])
    assert 0.3 < sk_acc < 0.95  # a non-trivial problem
    assert abs(100 * result.test_acc - 100 * sk_acc) <= 0.5


@pytest.mark.parametrize('c', [0.01, 1.0, 100.0])
def test_logistic_regression_reaches_scikit_learns_objective(c):
    """Same objective as LogisticRegression(lbfgs): the solution is as good (warm-started
    from another C's solution too), and predictions agree."""
    from sklearn.linear_model import LogisticRegression
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(150, 40, generator=generator)
    y = (x[:, :4] + 0.8 * torch.randn(150, 4, generator=generator)).argmax(dim=1)

    def objective(weight, bias):  # scikit-learn's, divided by C n
        logits = x.double() @ weight.double().t() + bias.double()
        return float(torch.nn.functional.cross_entropy(logits, y)
                     + weight.double().pow(2).sum() / (2 * c * len(y)))
    reference = LogisticRegression(C=c, max_iter=5000, tol=1e-8).fit(x.numpy(), y.numpy())
    best = objective(torch.from_numpy(reference.coef_), torch.from_numpy(reference.intercept_))
    cold = fit_logistic_regression(x, y, 4, c)
    warm = fit_logistic_regression(x, y, 4, c, init=fit_logistic_regression(x, y, 4, c / 10))
    for weight, bias in (cold, warm):
        assert objective(weight, bias) <= best + 1e-4 * max(1.0, abs(best))
        agree = (torch.addmm(bias, x, weight.t()).argmax(1).numpy() == reference.predict(x.numpy()))
        assert agree.mean() >= 0.97


def test_linear_probe_rejects_bad_inputs():
    x, y, split = _separable()
    with pytest.raises(ValueError):
        linear_probe(x, y[:-1], split)
    empty = Split(split.train, torch.zeros_like(split.val), split.test, 'no val')
    with pytest.raises(ValueError, match='val'):
        linear_probe(x, y, empty)
