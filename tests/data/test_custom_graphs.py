"""Your own graph in Python or in files (graphdim.data.custom): from_networkx cleans or keeps
edges as asked and needs a feature fallback; read_edge_list reads features and labels and names
a bad line or a label count that does not match."""
import networkx as nx
import numpy as np
import pytest
import torch

from helpers import karate_files
import graphdim as gd


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
