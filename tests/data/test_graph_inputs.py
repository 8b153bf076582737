"""Issue 24, inputs: dataset names, symlinked caches, GraphML weights and label attributes,
dtypes and values through the API, memory estimates before allocating."""
import os

import networkx as nx
import pytest
import torch
from torch_geometric.data import Data

import graphdim.runtime as runtime
from graphdim.data import load_graph_dataset, read_graph_file
from graphdim.data.custom import degree_features, prepare_graph
from graphdim.graph.checks import GraphInputError, check_graph
from graphdim.runtime import NotEnoughMemoryError, resolve_device

EDGES = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])


@pytest.mark.parametrize('name', ['../../etc', '/etc', 'a/b', '..', '.hidden', '', 'x' * 300,
                                  'ogbg-../x', None, 3])
def test_graph_dataset_names_are_plain_names(name, tmp_path, monkeypatch):
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    with pytest.raises(ValueError, match='dataset must be a name'):
        load_graph_dataset(name, root=str(tmp_path), download=False)
    assert not (tmp_path / 'cache').exists()  # nothing created


def test_a_symlinked_processed_cache_is_not_trusted(data_root, tmp_path, monkeypatch):
    from graphdim.data import load_node_dataset
    monkeypatch.setenv('GRAPHDIM_CACHE', str(tmp_path / 'cache'))
    first = load_node_dataset('cora', str(data_root))
    mirror = next((tmp_path / 'cache' / 'mirrors').glob('*/planetoid/Cora'))
    fake = tmp_path / 'fake_processed'
    (mirror / 'processed').rename(fake)
    torch.save({'tampered': True}, fake / 'data.pt')  # what an attacker left
    (mirror / 'processed').symlink_to(fake, target_is_directory=True)
    again = load_node_dataset('cora', str(data_root))
    assert torch.equal(again.data.x, first.data.x)
    assert not (mirror / 'processed').is_symlink()
    assert (fake / 'data.pt').is_file()  # the link is removed, not what it points at


def test_graphml_edge_weights_are_kept(tmp_path):
    graph = nx.Graph()
    graph.add_edge('a', 'b', weight=2.5)
    graph.add_edge('b', 'c', weight=0.5)
    path = tmp_path / 'g.graphml'
    nx.write_graphml(graph, path)
    data = read_graph_file(path, missing_features='ones')
    assert sorted(data.edge_weight.tolist()) == [0.5, 0.5, 2.5, 2.5]


def test_graphml_label_attribute_is_named_by_labels(tmp_path):
    graph = nx.karate_club_graph()
    for node in graph.nodes:
        graph.nodes[node]['size'] = float(node)
    path = tmp_path / 'k.graphml'
    nx.write_graphml(graph, path)
    data = read_graph_file(path, labels='club')
    assert data.y.tolist().count(0) == 17 and data.x.shape == (34, 1)
    with pytest.raises(GraphInputError, match="'clubb' is missing.*club, size"):
        read_graph_file(path, labels='clubb')


def test_a_non_numeric_graphml_weight_is_named(tmp_path):
    graph = nx.Graph()
    graph.add_edge(0, 1, weight='heavy')
    path = tmp_path / 'g.graphml'
    nx.write_graphml(graph, path)
    with pytest.raises(GraphInputError, match="'weight' must be a number.*heavy"):
        read_graph_file(path, missing_features='ones')


@pytest.mark.parametrize('x, problem', [
    (torch.ones(3, 2, dtype=torch.float64), r'float32.*got torch.float64'),
    (torch.ones(3, 2, dtype=torch.half), r'float32.*got torch.float16'),
    (torch.ones(3, 2).to_sparse(), r'dense tensor.*to_dense\(\)'),
])
def test_feature_dtypes_are_refused_with_the_fix(x, problem):
    with pytest.raises(GraphInputError, match=problem):
        check_graph(Data(x=x, edge_index=EDGES, num_nodes=3))


@pytest.mark.parametrize('weight, problem', [
    (torch.tensor([1, 1, 2, 2]), r'float32.*\.float\(\)'),
    (torch.tensor([1.0, 1.0, -2.0, -2.0]), 'negative'),
])
def test_edge_weights_of_the_wrong_kind_are_refused(weight, problem):
    with pytest.raises(GraphInputError, match=problem):
        check_graph(Data(x=torch.ones(3, 2), edge_index=EDGES, edge_weight=weight, num_nodes=3))


def test_negative_weights_in_an_edge_list_are_refused_before_training(tmp_path):
    import graphdim as gd
    path = tmp_path / 'g.txt'
    path.write_text('0 1 -1\n1 2 1\n')
    config = gd.NodeConfig(graph=str(path), missing_features='ones', epochs=2,
                           hidden_channels=4)
    with pytest.raises(GraphInputError, match='negative'):
        gd.run_node_experiment(config, progress=False)


def test_huge_label_ids_in_a_file_are_refused(tmp_path):
    (tmp_path / 'g.txt').write_text('0 1\n1 2\n')
    (tmp_path / 'y.txt').write_text('0\n1000000000\n0\n')
    with pytest.raises(GraphInputError, match='run to 1000000000 but only 2 distinct'):
        read_graph_file(tmp_path / 'g.txt', labels=str(tmp_path / 'y.txt'),
                        missing_features='ones')


def test_identity_features_of_a_million_nodes_are_refused_before_allocating():
    data = Data(edge_index=torch.tensor([[0], [999_999]]), num_nodes=1_000_000)
    with pytest.raises(NotEnoughMemoryError, match='--missing-features identity.*degree'):
        prepare_graph(data, missing_features='identity')


def test_a_degree_cap_that_cannot_fit_names_max_degree(monkeypatch):
    monkeypatch.setattr(runtime, 'available_memory_bytes', lambda: 10 ** 6)
    with pytest.raises(NotEnoughMemoryError, match='lower --max-degree'):
        degree_features(EDGES, 3, max_degree=100_000)


def test_a_tu_dataset_degree_cap_that_cannot_fit_names_max_degree(data_root, monkeypatch,
                                                                 capsys):
    from graphdim import cli
    monkeypatch.setattr(runtime, 'available_memory_bytes', lambda: 10 ** 8)
    code = cli.main(['train', '--level', 'graph', '--dataset', 'IMDB-BINARY', '--root',
                     str(data_root), '--max-degree', '100000', '--quiet'])
    err = capsys.readouterr().err
    assert code == 2 and 'lower --max-degree' in err and err.count('\n') == 1, err


def test_the_meta_device_is_refused():
    with pytest.raises(ValueError, match="device 'meta' cannot train"):
        resolve_device('meta')


def test_available_memory_is_known_here():
    assert runtime.available_memory_bytes() > 0


def test_nothing_is_written_by_a_refused_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError):
        load_graph_dataset('../escape', root=str(tmp_path), download=False)
    assert os.listdir(tmp_path) == []
