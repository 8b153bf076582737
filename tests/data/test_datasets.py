"""Datasets by name (offline roots, errors); splits and probes: tests/eval/test_probes.py."""
import os
from pathlib import Path

import pytest
import torch

from graphdim import DatasetNotFoundError, load_node_dataset, public_split
from graphdim.data import ENV_ROOT, load_graph_dataset

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


@pytest.mark.parametrize('name', ['../../etc', '/etc', 'a/b', '..', '.hidden', '', 'x' * 300,
                                  'ogbg-../x', None, 3])
def test_graph_dataset_names_are_plain_names(name, tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    with pytest.raises(ValueError, match='dataset must be a name'):
        load_graph_dataset(name, root=str(tmp_path), download=False)
    assert not (tmp_path / 'cache').exists()  # nothing created


def test_nothing_is_written_by_a_refused_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError):
        load_graph_dataset('../escape', root=str(tmp_path), download=False)
    assert os.listdir(tmp_path) == []
