"""Your own graph in Python or in files (graphdim.data.custom): from_networkx cleans or keeps
edges as asked and needs a feature fallback; read_edge_list reads features and labels and names
a bad line or a label count that does not match; features made for a graph without any
(identity, degree) are refused before allocating more memory than there is."""
import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from helpers import karate_files
import graphdim as gd
import graphdim.runtime as runtime
from graphdim.data.custom import degree_features, prepare_graph
from graphdim.runtime import NotEnoughMemoryError

EDGES = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])


def test_from_networkx_cleans_directed_duplicate_and_self_loop_edges():
    graph = nx.MultiDiGraph()
    graph.add_nodes_from([('a', {'f': [1.0, 0.0], 'kind': 'x'}), ('b', {'f': [0.0, 1.0], 'kind': 'y'}),
                          ('c', {'f': [1.0, 1.0], 'kind': 'x'}), ('lonely', {'f': [0.5, 0.5], 'kind': 'y'})])
    graph.add_edges_from([('a', 'b'), ('a', 'b'), ('b', 'c'), ('c', 'c')])
    data = gd.from_networkx(graph, label_attribute='kind')
    assert data.node_ids == ['a', 'b', 'c', 'lonely']
    assert data.x.shape == (4, 2) and data.y.tolist() == [0, 1, 0, 1]
    edges = set(map(tuple, data.edge_index.t().tolist()))
    assert edges == {(0, 1), (1, 0), (1, 2), (2, 1)}  # undirected, merged, no self-loop
    gd.check_graph(data)  # the isolated node 'lonely' is fine


def test_from_networkx_keeps_direction_and_self_loops_when_asked():
    graph = nx.DiGraph([(0, 1), (1, 1)])
    for n in graph.nodes:
        graph.nodes[n]['w'] = 1.0
    data = gd.from_networkx(graph, undirected=False, self_loops='keep')
    assert set(map(tuple, data.edge_index.t().tolist())) == {(0, 1), (1, 1)}


def test_a_graph_without_features_needs_a_documented_fallback():
    graph = nx.path_graph(5)
    with pytest.raises(gd.GraphInputError, match="no node features.*missing_features"):
        gd.from_networkx(graph)
    data = gd.from_networkx(graph, missing_features='degree')
    assert data.x.shape[0] == 5 and torch.equal(data.x.sum(dim=1), torch.ones(5))


def test_read_edge_list_with_features_and_labels(tmp_path):
    edges, x, y = karate_files(tmp_path)
    data = gd.read_edge_list(edges, x, y)
    assert data.num_nodes == 34 and data.y.numel() == 34
    assert data.edge_index.size(1) == 2 * nx.karate_club_graph().number_of_edges()


@pytest.mark.parametrize('line, message', [('0 1 2 3', "expected 'u v' or 'u v weight'"),
                                           ('0 x', 'node ids must be integers'),
                                           ('0 99', r'node ids must be in \[0, 34\)')])
def test_read_edge_list_names_the_bad_line(tmp_path, line, message):
    edges, x, _ = karate_files(tmp_path)
    edges.write_text(edges.read_text() + line + '\n')
    with pytest.raises(gd.GraphInputError, match=message):
        gd.read_edge_list(edges, x)


def test_read_edge_list_rejects_a_label_count_mismatch(tmp_path):
    edges, x, _ = karate_files(tmp_path)
    np.savetxt(tmp_path / 'short.txt', [0, 1, 0], fmt='%d')
    with pytest.raises(gd.GraphInputError, match='3 labels for 34 nodes'):
        gd.read_edge_list(edges, x, tmp_path / 'short.txt')


def test_available_memory_is_known_here():
    assert runtime.available_memory_bytes() > 0


def test_identity_features_of_a_million_nodes_are_refused_before_allocating():
    data = Data(edge_index=torch.tensor([[0], [999_999]]), num_nodes=1_000_000)
    with pytest.raises(NotEnoughMemoryError, match='--missing-features identity.*degree'):
        prepare_graph(data, missing_features='identity')


def test_a_degree_cap_that_cannot_fit_names_max_degree(monkeypatch):
    monkeypatch.setattr(runtime, 'available_memory_bytes', lambda: 10 ** 6)
    with pytest.raises(NotEnoughMemoryError, match='lower --max-degree'):
        degree_features(EDGES, 3, max_degree=100_000)
