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
from graphdim import GraphInputError, read_edge_list
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


@pytest.mark.parametrize('line', ['1_0 2', '\u0661 2', '0 \uff12', f'{2 ** 64} 1', '+1 2',
                                  '0 1 1_0'])
def test_edge_list_fields_are_plain_ascii_numbers(tmp_path, line):
    path = tmp_path / 'edges.txt'
    path.write_text(f'0 1\n{line}\n', encoding='utf-8')
    with pytest.raises(GraphInputError) as info:
        read_edge_list(path, missing_features='ones')
    message = str(info.value)
    assert message.startswith(f'{path}:2: ') and '\n' not in message
    assert 'renumber' in message or 'plain ASCII' in message


def test_a_utf8_byte_order_mark_is_dropped(tmp_path):
    path = tmp_path / 'edges.txt'
    path.write_bytes('\ufeff0 1\n1 2\n'.encode('utf-8'))
    data = read_edge_list(path, missing_features='ones')
    assert data.num_nodes == 3 and data.edge_index.size(1) == 4


@pytest.mark.parametrize('content, where', [
    ('0 1\n1 2\n' + 'x' * 10 ** 6 + ' 3\n', r'ring\.txt:3: node ids'),
    ('0 1\n1 2 ' + '7' * 10 ** 6 + '\n', r'ring\.txt:2: the weight'),
    ('0 1\n' + '1 ' * 10 ** 5 + '\n', r"ring\.txt:2: expected 'u v' or 'u v weight', got "
                                      r"100000 fields"),
    ('0 1\n' + '9' * 5000 + ' 1\n', r'ring\.txt:2: node id .* is above 2\*\*63'),
])
def test_edge_list_errors_name_the_line_not_its_content(tmp_path, content, where):
    path = tmp_path / 'ring.txt'
    path.write_text(content)
    with pytest.raises(gd.GraphInputError, match=where) as error:
        gd.read_edge_list(path, missing_features='ones')
    assert len(str(error.value)) < 400


@pytest.mark.parametrize('weight', ['1e-50', '-1e-40', '1e-400'])
def test_an_edge_weight_that_underflows_float32_is_refused(tmp_path, weight):
    path = tmp_path / 'ring.txt'
    path.write_text(f'0 1 0.5\n1 2 {weight}\n')
    with pytest.raises(gd.GraphInputError, match=r"ring\.txt:2: the weight .* is below "
                                                 r"float32's smallest normal number, 1\.18e-38"):
        gd.read_edge_list(path, missing_features='ones')


def test_graphml_node_names_are_bounded(tmp_path):
    path = tmp_path / 'long.graphml'
    graph = nx.Graph()
    graph.add_edge('a' * 5000, 'b')
    nx.write_graphml(graph, path)
    with pytest.raises(gd.GraphInputError, match=r'node names must be at most 1000 characters; '
                                                 r'one has 5,000'):
        gd.read_graph_file(path, missing_features='ones')


def test_complex_node_attributes_are_refused():
    graph = nx.path_graph(3)
    nx.set_node_attributes(graph, {0: 1 + 1j, 1: 2.0, 2: 3.0}, 'signal')
    with pytest.raises(gd.GraphInputError, match="'signal' must be a real number.*complex"):
        gd.from_networkx(graph)


def test_an_networkx_weight_that_underflows_is_refused():
    graph = nx.Graph()
    graph.add_edge(0, 1, weight=1e-50)
    graph.add_edge(1, 2, weight=1.0)
    with pytest.raises(gd.GraphInputError, match="'weight': the weight 1e-50 is below"):
        gd.from_networkx(graph, missing_features='ones')


class _CountedLabel:
    """A label value that counts its comparisons (a quadratic mapping makes n^2 / 2)."""
    comparisons = 0

    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        _CountedLabel.comparisons += 1
        return isinstance(other, _CountedLabel) and self.name == other.name

    def __hash__(self):
        return hash(self.name)

    def __str__(self):
        return self.name


def test_label_mapping_is_linear():
    graph = nx.path_graph(2000)
    nx.set_node_attributes(graph, {n: _CountedLabel(f'class{n:04d}') for n in graph}, 'kind')
    _CountedLabel.comparisons = 0
    data = gd.from_networkx(graph, label_attribute='kind', missing_features='ones')
    assert _CountedLabel.comparisons < 10 * 2000  # quadratic: ~2,000,000 (20,000 labels: 7 s)
    assert data.y.tolist() == list(range(2000))
