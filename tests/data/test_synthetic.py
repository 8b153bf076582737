"""Seeded synthetic graphs (graphdim.data.synthetic): determinism, sizes, the weak-feature
setting that makes structure matter, and the refusal of sizes the machine cannot hold."""
import pytest
import torch
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import coalesce, is_undirected, remove_self_loops

import graphdim as gd
from graphdim.data import synthetic
from graphdim.data.synthetic import (WEAK_FEATURE_SIGNAL, WEAK_HOMOPHILY, check_synthetic_size,
                                     estimated_bytes, parse_synthetic_name, synthetic_graph)


def test_same_arguments_and_seed_give_the_same_graph_and_another_seed_another():
    a, b = synthetic_graph(500, 6, 16, seed=3), synthetic_graph(500, 6, 16, seed=3)
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.x, b.x) \
        and torch.equal(a.y, b.y)
    c = synthetic_graph(500, 6, 16, seed=4)
    assert not torch.equal(a.edge_index, c.edge_index) and not torch.equal(a.x, c.x)


def test_sizes_dtypes_and_a_coalesced_undirected_edge_index_without_self_loops():
    data = synthetic_graph(2000, 10, 32, num_classes=5)
    assert data.num_nodes == 2000 and data.x.shape == (2000, 32)
    assert data.x.dtype == torch.float32 and data.edge_index.dtype == torch.long
    assert data.y.min() >= 0 and data.y.max() == 4
    # about N * avg_degree directed edges, a few percent lost to duplicates
    assert 0.9 * 2000 * 10 <= data.num_edges <= 2000 * 10
    assert is_undirected(data.edge_index, num_nodes=2000)
    assert not bool((data.edge_index[0] == data.edge_index[1]).any())
    expected = coalesce(remove_self_loops(data.edge_index)[0], num_nodes=2000)
    assert torch.equal(data.edge_index, expected)  # sorted by (row, col), no duplicates


def test_the_memory_light_generator_gives_what_stacking_and_coalescing_gives():
    # the edges of the pairs drawn, computed the plain way (both directions, PyG's coalesce)
    generator = torch.Generator().manual_seed(0)
    source = torch.randint(300, (4000, ), generator=generator)
    target = torch.randint(300, (4000, ), generator=generator)
    plain = torch.stack([torch.cat([source, target]), torch.cat([target, source])])
    plain = coalesce(remove_self_loops(plain)[0], num_nodes=300)
    assert torch.equal(synthetic._unique_edges(source, target, 300), plain)


def test_names_parse_to_the_default_and_the_weak_feature_settings():
    assert parse_synthetic_name('synthetic:1000:10') == {'num_nodes': 1000, 'avg_degree': 10.0}
    assert parse_synthetic_name('Synthetic-Weak:1000:2.5:64') == {
        'num_nodes': 1000, 'avg_degree': 2.5, 'num_features': 64,
        'feature_signal': WEAK_FEATURE_SIGNAL, 'homophily': WEAK_HOMOPHILY}
    assert parse_synthetic_name('synthetic-strong:1000:10') is None
    dataset = gd.load_node_dataset('synthetic-weak:300:5:16')
    assert dataset.num_classes == 8 and dataset.data.x.shape == (300, 16)
    direct = synthetic_graph(300, 5, 16, feature_signal=WEAK_FEATURE_SIGNAL,
                             homophily=WEAK_HOMOPHILY)
    assert torch.equal(dataset.data.x, direct.x)


def _propagated(data, hops):
    index, weight = gcn_norm(data.edge_index, None, data.num_nodes, add_self_loops=True)
    adjacency = torch.sparse_coo_tensor(torch.stack([index[1], index[0]]), weight,
                                        (data.num_nodes, data.num_nodes)).coalesce()
    h = data.x
    for _ in range(hops):
        h = torch.sparse.mm(adjacency, h)
    return h


@pytest.mark.filterwarnings('ignore::UserWarning')  # sparse COO beta; negative features
def test_weak_features_probe_far_below_features_averaged_over_the_graph():
    data = gd.load_node_dataset('synthetic-weak:4000:10').data
    split = gd.random_split(data.y, 0, train_fraction=0.4, val_fraction=0.2)
    raw = 100 * gd.linear_probe(data.x, data.y, split).test_score
    smoothed = 100 * gd.linear_probe(_propagated(data, 2), data.y, split).test_score
    assert 20 < raw < 65, raw  # the features alone: far from perfect (8 classes: chance 12.5)
    assert smoothed > raw + 10, (raw, smoothed)  # the structure carries the class too
    # the default setting is the easy one: its features alone nearly give the class away
    easy = gd.load_node_dataset('synthetic:4000:10').data
    assert 100 * gd.linear_probe(easy.x, easy.y, split).test_score > 90


def test_sizes_beyond_the_available_memory_are_refused_before_allocating(monkeypatch):
    with pytest.raises(ValueError, match=r"2,000,000,000 nodes.*GiB.*available"):
        gd.load_node_dataset('synthetic:2000000000:10')
    with pytest.raises(ValueError, match='fewer than 3,000,000,000 nodes'):
        synthetic_graph(4_000_000_000, 10)
    # the limit is what the machine has available now
    monkeypatch.setattr(synthetic, 'available_memory_bytes', lambda: 10 * 2**20)
    with pytest.raises(ValueError, match=r"100,000 nodes, average degree 10 and 128 features "
                                         r"needs about 0\.\d GiB.*than the 0\.0 GiB"):
        synthetic_graph(100_000, 10)
    assert synthetic_graph(200, 4, 8).num_nodes == 200  # a small graph fits
    check_synthetic_size(10**6, 10, 128, available=estimated_bytes(10**6, 10, 128))
    with pytest.raises(ValueError):
        check_synthetic_size(10**6, 10, 128, available=estimated_bytes(10**6, 10, 128) - 1)
