"""Your own graph files: every bad file is a GraphInputError naming the file and the fix,
never a traceback from numpy, torch, pickle or networkx, and nothing is silently dropped."""
import pickle

import networkx as nx
import numpy as np
import pytest
import torch

import graphdim as gd
from graphdim import GraphInputError, read_edge_list, read_graph_file


@pytest.fixture
def edges(tmp_path):
    path = tmp_path / 'edges.txt'
    path.write_text('0 1\n1 2\n2 3\n')
    return path


def _file(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, np.ndarray):
        np.save(path, content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize('labels, message', [
    ('0\n1\n0.5\n1\n', r'whole numbers.*found 0\.5'),
    ('0\n1\n-1\n1\n', r'class indices 0\.\.C-1; found -1'),
    ('0\n1\nfoo\n1\n', r'labels\.txt: not a readable labels file'),
    ('0\n1\n', r'2 labels for 4 nodes'),
])
def test_bad_labels_are_named_before_training(edges, tmp_path, labels, message):
    path = _file(tmp_path, 'labels.txt', labels)
    with pytest.raises(GraphInputError, match=message):
        read_edge_list(edges, labels=path)


def test_whole_float_labels_are_accepted(edges, tmp_path):
    data = read_edge_list(edges, labels=_file(tmp_path, 'labels.txt', '0.0\n1.0\n1\n0\n'),
                          missing_features='ones')
    assert data.y.tolist() == [0, 1, 1, 0]


@pytest.mark.parametrize('name, content, message', [
    ('x.pt', pickle.dumps({'not': 'a tensor'}), r'x\.pt: not a readable features file'),
    ('x.pt', b'garbage bytes', r'x\.pt: not a readable features file'),
    ('x.npy', b'garbage bytes', r'x\.npy: not a readable features file'),
    ('x.npy', np.ones(4, dtype=np.float32), r'2-D matrix.*shape \[4\]'),
])
def test_bad_feature_files_are_named(edges, tmp_path, name, content, message):
    with pytest.raises(GraphInputError, match=message) as info:
        read_edge_list(edges, features=_file(tmp_path, name, content))
    assert 'weights_only=False' not in str(info.value)  # never advise loading unsafely


def test_a_directory_as_features_says_so(edges, tmp_path):
    (tmp_path / 'feats').mkdir()
    with pytest.raises(GraphInputError, match='is a directory'):
        read_edge_list(edges, features=tmp_path / 'feats')


def test_a_binary_edge_list_is_named(tmp_path):
    path = _file(tmp_path, 'edges.txt', b'\xff\xfe\x00\x01binary')
    with pytest.raises(GraphInputError, match=r'edges\.txt is not a text edge list'):
        read_edge_list(path)


def test_a_huge_node_id_without_features_is_refused_not_allocated(tmp_path):
    path = _file(tmp_path, 'edges.txt', '0 1\n1 1000000000000\n')
    with pytest.raises(GraphInputError, match='renumber the nodes'):
        read_edge_list(path)


def test_graphml_refuses_features_and_labels_files_it_would_ignore(tmp_path):
    import networkx as nx
    path = tmp_path / 'g.graphml'
    nx.write_graphml(nx.path_graph(3), path)
    feats = _file(tmp_path, 'x.txt', '1\n2\n3\n')
    with pytest.raises(GraphInputError, match='--features and --labels go with edge lists'):
        read_graph_file(path, features=str(feats), missing_features='ones')
    assert read_graph_file(path, missing_features='ones').num_nodes == 3


def test_broken_graphml_is_named(tmp_path):
    path = _file(tmp_path, 'g.graphml', '<graphml><graph><node id="0"></graph>')
    with pytest.raises(GraphInputError, match=r'g\.graphml: not a readable GRAPHML file'):
        read_graph_file(path, missing_features='ones')


def test_a_plain_tensor_file_still_loads(edges, tmp_path):
    path = tmp_path / 'x.pt'
    torch.save(torch.eye(4), path)
    assert read_edge_list(edges, features=path).x.shape == (4, 4)


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


def _path_edges(tmp_path, num_nodes):
    path = tmp_path / 'edges.txt'
    path.write_text(''.join(f'{i} {i + 1}\n' for i in range(num_nodes - 1)))
    return path


def test_a_two_column_labels_file_is_refused_not_flattened(tmp_path):
    edges = _path_edges(tmp_path, 60)
    np.savetxt(tmp_path / 'labels.txt', np.zeros((30, 2)))  # 60 numbers, two per row
    with pytest.raises(GraphInputError, match=r'labels\.txt: labels must be one class index '
                                              r'per node.*shape \[30, 2\]'):
        read_edge_list(edges, labels=tmp_path / 'labels.txt', missing_features='ones')
    np.savetxt(tmp_path / 'column.txt', np.arange(60) % 2)  # one column: one label per node
    data = read_edge_list(edges, labels=tmp_path / 'column.txt', missing_features='ones')
    assert data.y.tolist() == [i % 2 for i in range(60)]


@pytest.mark.parametrize('content, where', [
    ('1 2\n3 root:x:0:0:secret\n', 'line 2, column 2 is not a number'),
    ('1 2\n3 4 5\n', r'line 2 has 3 column\(s\) where the lines before it have 2'),
    ('# header\n1 2\n' + 'y' * 10 ** 6 + ' 3\n', 'line 3, column 1 is not a number'),
])
def test_feature_text_errors_name_the_line_not_its_content(tmp_path, content, where):
    edges, features = tmp_path / 'ring.txt', tmp_path / 'x.txt'
    edges.write_text('0 1\n')
    features.write_text(content)
    with pytest.raises(gd.GraphInputError, match=where) as error:
        gd.read_edge_list(edges, features)
    assert 'secret' not in str(error.value) and 'yyy' not in str(error.value)


@pytest.mark.parametrize('suffix', ['.npy', '.pt', '.txt'])
def test_complex_features_are_refused_not_cut_to_their_real_part(tmp_path, suffix):
    edges, features = tmp_path / 'ring.txt', tmp_path / f'x{suffix}'
    edges.write_text('0 1\n')
    values = np.array([[1 + 2j, 3], [4, 5 - 1j]])
    if suffix == '.npy':
        np.save(features, values)
    elif suffix == '.pt':
        torch.save(torch.from_numpy(values), features)
    else:
        features.write_text('1+2j 3\n4 5-1j\n')
    with pytest.raises(gd.GraphInputError, match='real numbers|not a number'):
        gd.read_edge_list(edges, features)
