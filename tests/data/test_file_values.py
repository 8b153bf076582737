"""Values read from files are data (issue 37, causes 3, 9, 11 and 12): a run folder reads
only the files it was made from, a parse error names the file and line without echoing them,
complex features and underflowing weights are refused, GraphML labels map in linear time."""
import json
import shutil

import networkx as nx
import numpy as np
import pytest
import torch

import graphdim as gd
from graphdim import cli
from graphdim.experiments.reload import load_model


def _one_error_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture(scope='module')
def graph_run(tmp_path_factory):
    """A finished run on an edge list and a feature file of its own."""
    folder = tmp_path_factory.mktemp('graph_run')
    edges, features = folder / 'ring.txt', folder / 'x.npy'
    edges.write_text(''.join(f'{i} {(i + 1) % 12}\n' for i in range(12)))
    np.save(features, np.random.default_rng(0).random((12, 4), dtype=np.float32))
    run = folder / 'run'
    assert cli.main(['train', '--graph', str(edges), '--features', str(features), '--epochs',
                     '2', '--hidden', '8', '--out', str(run), '--quiet']) == 0
    return run, edges, features


def _copy(run, tmp_path, change=None):
    copy = tmp_path / 'copy'
    shutil.copytree(run, copy)
    if change is not None:
        saved = json.loads((copy / 'config.json').read_text())
        change(saved)
        (copy / 'config.json').write_text(json.dumps(saved))
    return copy


def test_a_run_records_its_input_files_and_embeds_them(graph_run, tmp_path, capsys):
    run, edges, features = graph_run
    record = json.loads((run / 'config.json').read_text())['inputs']
    assert set(record) == {'graph', 'features'}
    assert record['features']['size'] == features.stat().st_size
    assert len(record['graph']['sha256']) == 64
    assert cli.main(['embed', str(_copy(run, tmp_path)), '--quiet']) == 0


@pytest.mark.parametrize('key', ['graph', 'features'])
def test_a_config_naming_another_file_is_refused_without_reading_it(graph_run, tmp_path,
                                                                     capsys, key):
    secret = tmp_path / 'secret.txt'
    secret.write_text('0 1 the-secret-line\n')
    copy = _copy(graph_run[0], tmp_path, lambda saved: saved['config'].update({key: str(secret)}))
    assert cli.main(['embed', str(copy), '--quiet']) == 2
    line = _one_error_line(capsys)
    assert f'the {key} file' in line and 'secret.txt' in line and 'not the one this run was ' \
        'made from' in line and 'the-secret-line' not in line


def test_a_config_without_a_record_of_its_files_is_refused(graph_run, tmp_path, capsys):
    copy = _copy(graph_run[0], tmp_path, lambda saved: saved.pop('inputs'))
    assert cli.main(['embed', str(copy), '--quiet']) == 2
    assert 'holds no record of the file the run was made from' in _one_error_line(capsys)


def test_a_changed_input_file_is_refused_and_its_original_accepted(graph_run, tmp_path,
                                                                   capsys):
    run, _, features = graph_run
    original = features.read_bytes()
    try:
        np.save(features, np.ones((12, 4), dtype=np.float32))  # same size, other content
        assert cli.main(['embed', str(_copy(run, tmp_path)), '--quiet']) == 2
        assert "x.npy' is not the one this run was made from" in _one_error_line(capsys)
    finally:
        features.write_bytes(original)
    assert cli.main(['embed', str(run), '--quiet', '--out', str(tmp_path / 'e')]) == 0


def test_plot_checks_the_record_before_reinforcing(graph_run, tmp_path, capsys):
    def reinforced_on_passwd(saved):
        saved['config']['graph'] = '/etc/passwd'
    copy = _copy(graph_run[0], tmp_path, reinforced_on_passwd)
    results = json.loads((copy / 'results.json').read_text())
    results['runs'][0].update(hops=2, reinforcement='add')
    (copy / 'results.json').write_text(json.dumps(results))
    assert cli.main(['plot', str(copy), '--quiet']) == 2
    line = _one_error_line(capsys)
    assert "the graph file '/etc/passwd'" in line and 'root:' not in line


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


def test_complex_node_attributes_are_refused():
    graph = nx.path_graph(3)
    nx.set_node_attributes(graph, {0: 1 + 1j, 1: 2.0, 2: 3.0}, 'signal')
    with pytest.raises(gd.GraphInputError, match="'signal' must be a real number.*complex"):
        gd.from_networkx(graph)


@pytest.mark.parametrize('weight', ['1e-50', '-1e-40', '1e-400'])
def test_an_edge_weight_that_underflows_float32_is_refused(tmp_path, weight):
    path = tmp_path / 'ring.txt'
    path.write_text(f'0 1 0.5\n1 2 {weight}\n')
    with pytest.raises(gd.GraphInputError, match=r"ring\.txt:2: the weight .* is below "
                                                 r"float32's smallest normal number, 1\.18e-38"):
        gd.read_edge_list(path, missing_features='ones')


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


def test_graphml_node_names_are_bounded(tmp_path):
    path = tmp_path / 'long.graphml'
    graph = nx.Graph()
    graph.add_edge('a' * 5000, 'b')
    nx.write_graphml(graph, path)
    with pytest.raises(gd.GraphInputError, match=r'node names must be at most 1000 characters; '
                                                 r'one has 5,000'):
        gd.read_graph_file(path, missing_features='ones')


@pytest.mark.parametrize('change, message', [
    (lambda saved: saved.pop('in_channels'), 'records no in_channels'),
    (lambda saved: saved['config'].update(model={}), 'model must be a string'),
    (lambda saved: saved['config'].update({'k' * 10 ** 5: 1}), 'unknown config keys'),
])
def test_load_model_names_the_config_file_it_cannot_use(graph_run, tmp_path, change, message):
    copy = _copy(graph_run[0], tmp_path, change)
    with pytest.raises(ValueError, match=message) as error:
        load_model(copy)
    assert str(error.value).startswith(str(copy / 'config.json'))
    assert len(str(error.value)) < 500 and 'train the run again' in str(error.value)
